package lessontest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
)

// TestHTTPExchange: the http command's client against servers that
// answer as net/http's server can: a whole reply, a reply before the
// body is read (then a close that resets the connection), a body up to
// the end of the stream; and a reply it cannot read says why.
func TestHTTPExchange(t *testing.T) {
	big := strings.Repeat("x", 8<<20)
	for _, tc := range []struct {
		name, body, reply string
		readBody          bool
		want              string
	}{
		{"whole", `{"key": "ttt"}`, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"hits\": 1}\n", true,
			"200 {\"hits\": 1}\n"},
		{"answered early", big, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 5\r\nConnection: close\r\n\r\nlarge", false,
			"413 large"},
		{"to the end", "", "HTTP/1.0 200 OK\r\n\r\nuntil EOF", true,
			"200 until EOF"},
		{"chunked", "", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", true,
			"error: a chunked body: this client reads only whole ones"},
		{"not HTTP", "", "+PONG\r\n", true,
			"error: bad status line \"+PONG\\r\\n\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				r := bufio.NewReader(c)
				for { // the request line and headers
					line, err := r.ReadString('\n')
					if err != nil || line == "\r\n" {
						break
					}
				}
				if tc.readBody {
					io.CopyN(io.Discard, r, int64(len(tc.body)))
				}
				io.WriteString(c, tc.reply)
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse("http://" + ln.Addr().String() + "/somethings")
			status, reply, err := httpExchange(c, "POST", u, tc.body, tc.body != "")
			got := "error: " + fmt.Sprint(err)
			if err == nil {
				got = fmt.Sprintf("%d %s", status, reply)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
