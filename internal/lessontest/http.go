package lessontest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// http METHOD URL [BODY] sends one HTTP/1.1 request, as a client of a
// lesson that serves HTTP, and prints the status code and the body:
// "200 {"hits": 1}". A server the script has just started in the
// background may not listen yet: a refused connection is tried again,
// within waitUntil's bounds. With !, the status must be 400 or more.
//
// It speaks HTTP by hand, as the lessons speak RESP: the request with
// Connection: close, then the reply. (net/http would make every
// lesson's test program a fifth longer to link, for one lesson.)
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		fatalf(ts, "usage: http METHOD URL [BODY]")
	}
	u, err := url.Parse(args[1])
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fatalf(ts, "http: %q is not an http://host:port/path URL", args[1])
	}
	var c net.Conn
	waitUntil(ts, func() bool {
		c, err = dialNotSelf(u.Host)
		return !notListening(err)
	}, func() string {
		return "http: nothing listens at " + args[1] + " %s"
	})
	checkErr(ts, err)
	body := ""
	if len(args) == 3 {
		body = args[2]
	}
	status, reply, err := httpExchange(c, args[0], u, body, len(args) == 3)
	if err != nil {
		fatalf(ts, "http: %s %s: %v", args[0], args[1], err)
	}
	out := fmt.Sprintf("%d %s", status, reply)
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	fmt.Fprint(ts.Stdout(), out)
	if failed := status >= 400; failed != neg {
		fatalf(ts, "http: status %d", status)
	}
}

// httpExchange sends one request on c, with a JSON body if hasBody,
// reads the reply, and closes c. It writes while it reads, as a
// browser does: a server may answer before it has read the whole
// request (413: the body is too large) and close, and that reply
// counts; the write's error counts only when there is no reply.
func httpExchange(c net.Conn, method string, u *url.URL, body string, hasBody bool) (int, []byte, error) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n",
		method, u.RequestURI(), u.Host)
	if hasBody {
		req += fmt.Sprintf("Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			len(body), body)
	} else {
		req += "\r\n"
	}
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, req)
		wrote <- err
	}()
	status, reply, err := readHTTPReply(bufio.NewReader(c), method)
	c.Close() // a write that the server no longer reads gives up
	if werr := <-wrote; err != nil && werr != nil {
		err = werr
	}
	return status, reply, err
}

// readHTTPReply reads the reply to a request sent with Connection:
// close: the status line, the headers, then Content-Length bytes of
// body, or the rest of the stream when there is no Content-Length
// (none after HEAD, 1xx, 204 or 304).
func readHTTPReply(r *bufio.Reader, method string) (status int, body []byte, err error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return 0, nil, fmt.Errorf("no status line: %q, %v", line, err)
	}
	f := strings.Fields(line)
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/1.") {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	if status, err = strconv.Atoi(f[1]); err != nil {
		return 0, nil, fmt.Errorf("bad status line %q", line)
	}
	length := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, nil, fmt.Errorf("headers end early: %q, %v", line, err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, _ := strings.Cut(line, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if length, err = strconv.Atoi(value); err != nil || length < 0 {
				return 0, nil, fmt.Errorf("bad header %q", line)
			}
		case "transfer-encoding":
			return 0, nil, fmt.Errorf("a %s body: this client reads only whole ones", value)
		}
	}
	if method == "HEAD" || status < 200 || status == 204 || status == 304 {
		length = 0
	}
	if length < 0 {
		body, err = io.ReadAll(r)
	} else {
		body = make([]byte, length)
		_, err = io.ReadFull(r, body)
	}
	if err != nil {
		return 0, nil, fmt.Errorf("the body ends early: %v", err)
	}
	return status, body, nil
}

// dialNotSelf dials as net.Dial does, but counts a connection to
// itself as refused. Dialing a loopback port that nobody listens on,
// again and again, can pick that same port as the local end, and
// Linux then connects the socket to itself: the request would read
// itself back as the answer.
func dialNotSelf(addr string) (net.Conn, error) {
	c, err := net.DialTimeout("tcp", addr, wait)
	if err == nil && c.LocalAddr().String() == c.RemoteAddr().String() {
		c.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	return c, err
}
