package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"redis-by-hand/internal/lessontest"
	"redis-by-hand/internal/resp"
)

// TestConcurrentRequests fires 100 requests at once for the key ttt,
// and at the same time 100 for keys of their own, at one server and
// its one Redis connection. Every ttt request must get a different
// count, 1 to 100, and every other request 1: a reply given to the
// wrong request would show as a count that is not its own.
func TestConcurrentRequests(t *testing.T) {
	lessontest.EachBackend(t, concurrentRequests)
}

func concurrentRequests(t *testing.T, server string) {
	addr = server // for the lesson's error messages
	// Each request's round trip, under the mutex, takes far less
	// than 2s; without it, a request whose reply another took waits
	// out the whole timeout (5s by default) before the lesson fails.
	old := timeout
	timeout = 2 * time.Second
	t.Cleanup(func() { timeout = old })
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	failInTest(t, conn)
	srv := httptest.NewServer(somethings(hits(conn, bufio.NewReader(conn), io.Discard)))
	defer srv.Close()

	const n = 100
	got := make([]int, 2*n)
	answers := make([]string, 2*n) // each request, and what came back
	errs := make(chan error, 2*n)
	// Once a request has failed, the verdict is in: closing the
	// connection fails the others at once, rather than each after
	// the timeout of a reply that another request took.
	stop := sync.OnceFunc(func() { conn.Close() })
	var wg sync.WaitGroup
	for i := range 2 * n {
		key := "ttt"
		if i >= n {
			key = fmt.Sprintf("own-%d", i)
		}
		wg.Go(func() {
			req := fmt.Sprintf(`{"key": %q}`, key)
			res, err := http.Post(srv.URL+"/somethings", "application/json",
				strings.NewReader(req))
			if err != nil {
				errs <- err
				stop()
				return
			}
			defer res.Body.Close()
			data, err := io.ReadAll(res.Body)
			answer := fmt.Sprintf("%d %s", res.StatusCode, bytes.TrimSpace(data))
			answers[i] = fmt.Sprintf("POST /somethings %s answered %s", req, answer)
			var body struct{ Hits int }
			if err != nil || json.Unmarshal(data, &body) != nil ||
				res.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("%s, want 200 {\"hits\": N}", answers[i])
				stop()
				return
			}
			got[i] = body.Hits
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ttt := slices.Sorted(slices.Values(got[:n]))
	for i, h := range ttt {
		if h != i+1 {
			t.Fatalf("the ttt requests got the counts %v, want 1 to %d once each", ttt, n)
		}
	}
	for i, h := range got[n:] {
		if h != 1 {
			t.Errorf("%s, want {\"hits\": 1}", answers[n+i])
		}
	}

	// And Redis agrees.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(resp.AppendCommand(nil, []byte("GET"), []byte("ttt"))); err != nil {
		t.Fatal(err)
	}
	reply, err := resp.ReadReply(bufio.NewReader(c))
	if want := "$3\r\n100\r\n"; err != nil || string(reply) != want {
		t.Errorf("GET ttt: %q, %v; want %q", reply, err, want)
	}
}

// failInTest makes the lesson's fail, during the test, close conn (the
// requests that wait on it fail at once) and end the goroutine that
// called it, a request's handler, instead of the test program: the
// requests fail, then the test, which stops what it started.
func failInTest(t *testing.T, conn net.Conn) {
	exit = func(int) {
		conn.Close()
		runtime.Goexit()
	}
	t.Cleanup(func() { exit = os.Exit })
}

// TestRequestsTakeTurns: requests at once share the one connection by
// turns. A fake Redis answers each INCR after a pause, and no other
// command may arrive in it: while a request waits for its reply, it
// holds the connection. (Without the mutex, one request would write
// its INCR while another waits, and the replies would go to whoever
// reads first.) The verdict is a command that came early, not the
// time: the pause only gives a wrong lesson the chance to show.
func TestRequestsTakeTurns(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	early := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for {
			cmd, err := resp.ReadReply(r)
			if err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			if _, err := r.Peek(1); err == nil {
				next, _ := r.Peek(r.Buffered())
				early <- fmt.Sprintf("sent %q, then %q before its reply came", cmd, next)
				return // the verdict is in: the requests waiting fail at once
			}
			c.SetReadDeadline(time.Time{})
			if _, err := c.Write([]byte(":1\r\n")); err != nil {
				return
			}
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	failInTest(t, conn)
	addr = ln.Addr().String()
	srv := httptest.NewServer(somethings(hits(conn, bufio.NewReader(conn), io.Discard)))
	defer srv.Close()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			res, err := http.Post(srv.URL+"/somethings", "application/json",
				strings.NewReader(fmt.Sprintf(`{"key": "k%d"}`, i)))
			if err == nil {
				res.Body.Close()
			}
		})
	}
	wg.Wait()
	select {
	case e := <-early:
		t.Fatalf("two requests used the connection at once: %s", e)
	default:
	}
}
