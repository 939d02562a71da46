// Lesson 06 (beyond the blog): the series' HTTP server, in Go.
// POST /somethings with {"key": "ttt"} counts a hit with INCR on
// one Redis connection that every request shares, and answers
// {"hits": 1}, then {"hits": 2}... `go run ./06-hits [listen]`
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	// Where to serve HTTP: the first argument, or port 8080.
	listen := "127.0.0.1:8080"
	if len(os.Args) > 1 {
		listen = os.Args[1]
	}
	conn := connect()

	// Check now that a Redis answers there, with lesson 01's
	// PING (as a RESP array): better to fail at once than at
	// the first request.
	ping := encode("PING")
	fmt.Printf("Send: %q\n", ping)
	send(conn, ping)
	r := bufio.NewReader(conn)
	reply, err := readLine(r)
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)
	expect(reply, "+PONG\r\n")

	// Ctrl-C or SIGTERM ends the server, below.
	ctx, stop := signal.NotifyContext(context.Background(),
		os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Every request goes to hits, on the one connection. A
	// client gets the timeout to send its request, so a slow one
	// cannot hold up Ctrl-C. Listen first, to fail at once on a
	// port in use, then serve on a goroutine of its own.
	srv := &http.Server{
		Handler:           hits(conn, r, os.Stdout),
		ReadHeaderTimeout: timeout,
		ReadTimeout:       timeout,
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fail("cannot serve HTTP on %s: %v", listen, err)
	}
	fmt.Fprintf(os.Stderr, "%s: serving http://%s/somethings "+
		"(Ctrl-C stops)\n", lesson, ln.Addr())
	go func() {
		if err := srv.Serve(ln); err != http.ErrServerClosed {
			fail("serving HTTP: %v", err)
		}
	}()

	// Until Ctrl-C: then let the requests under way finish, for
	// the timeout at most, and close the Redis connection. A
	// second Ctrl-C, once stop() is called, kills at once.
	<-ctx.Done()
	stop()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	srv.Shutdown(ctx)
	fmt.Println("Close the connection")
	conn.Close()
}

// hits answers POST /somethings on conn, which r reads. out is
// where each request's Send: and Received: lines go.
func hits(conn net.Conn, r *bufio.Reader,
	out io.Writer) http.Handler {
	// One connection, many requests at once: Redis answers in
	// the order it was asked, so a request must write and read
	// its reply before the next one writes. Otherwise request
	// A could read the reply meant for B. A mutex is the
	// simplest way; a pool of connections would let requests
	// overlap, at the price of more code and more sockets.
	var mu sync.Mutex
	mux := http.NewServeMux()
	// POST /somethings: the key from the JSON body, INCR, and
	// the count as JSON. Bad input gets a 4xx and a one-line
	// JSON error, and never reaches Redis.
	mux.HandleFunc("/somethings", func(w http.ResponseWriter,
		req *http.Request) {
		if req.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			answer(w, http.StatusMethodNotAllowed, "error",
				"use POST")
			return
		}
		var body struct{ Key string }
		data, err := io.ReadAll(http.MaxBytesReader(w, req.Body,
			64<<10))
		var big *http.MaxBytesError
		if errors.As(err, &big) {
			answer(w, http.StatusRequestEntityTooLarge, "error",
				"the body is over 64 KiB")
			return
		}
		if err == nil {
			err = json.Unmarshal(data, &body)
		}
		if err != nil {
			answer(w, http.StatusBadRequest, "error",
				`the body must be JSON like {"key": "ttt"}`)
			return
		}
		if body.Key == "" {
			answer(w, http.StatusBadRequest, "error",
				`the key is missing or empty`)
			return
		}

		// INCR answers the new count: no GET after it. A GET
		// would cost a second round trip, and another request
		// could INCR in between, so two requests would both
		// answer the same count. As a bulk string, the key may
		// hold any byte, `\r\n` included.
		msg := encode("INCR", body.Key)
		mu.Lock()
		fmt.Fprintf(out, "Send: %q\n", msg)
		conn.SetDeadline(time.Now().Add(timeout))
		send(conn, msg)
		reply, err := readLine(r)
		if err != nil {
			// Redis is gone: tell this client, then exit.
			answer(w, http.StatusServiceUnavailable, "error",
				"no answer from Redis")
			http.NewResponseController(w).Flush()
			readFailed(err, reply)
		}
		fmt.Fprintf(out, "Received: %q\n", reply)
		mu.Unlock()

		n, err := strconv.ParseInt(reply[1:len(reply)-2], 10, 64)
		if reply[0] != ':' || err != nil {
			// WRONGTYPE: the key holds a list, say.
			answer(w, http.StatusConflict, "error",
				strings.TrimSuffix(reply[1:], "\r\n"))
			return
		}
		answer(w, http.StatusOK, "hits", n)
	})
	// Any other path: 404, in JSON too.
	mux.HandleFunc("/", func(w http.ResponseWriter,
		req *http.Request) {
		answer(w, http.StatusNotFound, "error",
			"not found: POST /somethings")
	})
	return mux
}

// answer writes a one-line JSON object, {"hits": 1} or
// {"error": "..."}, with its length: whole once flushed.
func answer(w http.ResponseWriter, code int, name string, v any) {
	value, _ := json.Marshal(v)
	line := fmt.Sprintf("{%q: %s}\n", name, value)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(line)))
	w.WriteHeader(code)
	io.WriteString(w, line)
}
