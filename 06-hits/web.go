// web.go is lesson 06's web part, which is not Redis: serving HTTP
// until Ctrl-C, taking the key from a request, answering JSON, and
// refusing bad input. main.go holds the Redis part.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// serve answers HTTP on listen with h until Ctrl-C or SIGTERM,
// then lets the requests under way finish, for the timeout at
// most. A client gets the timeout to send its request, so a slow
// one cannot hold up Ctrl-C.
func serve(listen string, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: timeout,
		ReadTimeout:       timeout,
	}
	// Listen first, to fail at once on a port in use, then
	// serve on a goroutine of its own.
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
	<-interrupt().Done()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	srv.Shutdown(ctx)
}

// somethings answers POST /somethings: the key from the JSON
// body, count(key), and the count as JSON. Bad input gets a 4xx
// and a one-line JSON error, and never reaches count.
func somethings(count func(key string) (string, error)) http.Handler {
	mux := http.NewServeMux()
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

		reply, err := count(body.Key)
		if err != nil {
			// Redis is gone: tell this client, then exit.
			answer(w, http.StatusServiceUnavailable, "error",
				"no answer from Redis")
			http.NewResponseController(w).Flush()
			readFailed(err, reply)
		}
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
