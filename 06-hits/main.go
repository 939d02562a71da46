// Lesson 06 (beyond the blog): the series' HTTP server, in Go.
// POST /somethings with {"key": "ttt"} counts a hit with INCR on
// one Redis connection that every request shares, and answers
// {"hits": 1}, then {"hits": 2}... `go run ./06-hits [listen]`
// The web part, which is not Redis, is in web.go.
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
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

	// Every request counts its hit on the one connection, until
	// Ctrl-C (web.go).
	serve(listen, somethings(hits(conn, r, os.Stdout)))
	fmt.Println("Close the connection")
	conn.Close()
}

// hits returns what counts a hit for a key: INCR on conn, which r
// reads, and INCR's reply. out is where each Send: and Received:
// line goes. Many requests call it at once.
func hits(conn net.Conn, r *bufio.Reader,
	out io.Writer) func(key string) (string, error) {
	// One connection, many requests at once: Redis answers in
	// the order it was asked, so a request must write and read
	// its reply before the next one writes. Otherwise request
	// A could read the reply meant for B. A mutex is the
	// simplest way; a pool of connections would let requests
	// overlap, at the price of more code and more sockets.
	var mu sync.Mutex
	return func(key string) (string, error) {
		// INCR answers the new count: no GET after it. A GET
		// would cost a second round trip, and another request
		// could INCR in between, so two requests would both
		// answer the same count. As a bulk string, the key may
		// hold any byte, `\r\n` included.
		msg := encode("INCR", key)
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, "Send: %q\n", msg)
		conn.SetDeadline(time.Now().Add(timeout))
		send(conn, msg)
		reply, err := readLine(r)
		if err == nil {
			fmt.Fprintf(out, "Received: %q\n", reply)
		}
		return reply, err
	}
}
