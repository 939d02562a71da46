package lessontest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// http METHOD URL [BODY] sends one HTTP request, as a client of a
// lesson that serves HTTP, and prints the status code and the body:
// "200 {"hits": 1}". A server the script has just started in the
// background may not listen yet: a refused connection is tried again,
// within waitUntil's bounds. With !, the status must be 400 or more.
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: http METHOD URL [BODY]")
	}
	client := &http.Client{Timeout: wait, Transport: &http.Transport{
		DialContext: dialNotSelf}}
	var (
		res *http.Response
		err error
	)
	waitUntil(ts, func() bool {
		var body io.Reader
		if len(args) == 3 {
			body = strings.NewReader(args[2])
		}
		req, rerr := http.NewRequest(args[0], args[1], body)
		ts.Check(rerr)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		res, err = client.Do(req)
		return !notListening(err)
	}, func() string {
		return "http: nothing listens at " + args[1] + " %s"
	})
	ts.Check(err)
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	ts.Check(err)
	out := fmt.Sprintf("%d %s", res.StatusCode, data)
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	fmt.Fprint(ts.Stdout(), out)
	if failed := res.StatusCode >= 400; failed != neg {
		ts.Fatalf("http: status %d", res.StatusCode)
	}
}

// dialNotSelf dials as net.Dial does, but counts a connection to
// itself as refused. Dialing a loopback port that nobody listens on,
// again and again, can pick that same port as the local end, and
// Linux then connects the socket to itself: the request would read
// itself back as the answer.
func dialNotSelf(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{Timeout: wait}).DialContext(ctx, network, addr)
	if err == nil && c.LocalAddr().String() == c.RemoteAddr().String() {
		c.Close()
		return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
	}
	return c, err
}
