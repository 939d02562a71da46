package lessontest

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"redis-by-hand/internal/redisaddr"
)

// http METHOD URL [BODY] sends one HTTP request, as a client of a
// lesson that serves HTTP, and prints the status code and the body:
// "200 {"hits": 1}". A server the script has just started in the
// background may not listen yet: a refused connection is tried again,
// within a bound. With !, the status must be 400 or more.
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: http METHOD URL [BODY]")
	}
	client := &http.Client{Timeout: wait}
	deadline := time.Now().Add(wait)
	for {
		var body io.Reader
		if len(args) == 3 {
			body = strings.NewReader(args[2])
		}
		req, err := http.NewRequest(args[0], args[1], body)
		ts.Check(err)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if redisaddr.Refused(err) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		ts.Check(err)
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		ts.Check(err)
		out := fmt.Sprintf("%d %s", resp.StatusCode, data)
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		fmt.Fprint(ts.Stdout(), out)
		if failed := resp.StatusCode >= 400; failed != neg {
			ts.Fatalf("http: status %d", resp.StatusCode)
		}
		return
	}
}

// httpaddr sets HTTP_ADDR to a free loopback host:port, for a lesson
// that serves HTTP there.
func cmdHTTPAddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: httpaddr")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Setenv("HTTP_ADDR", ln.Addr().String())
	ln.Close()
}
