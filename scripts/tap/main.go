// Command tap shows the bytes on the wire. It listens on TAP_ADDR
// (default 127.0.0.1:6390), forwards every connection to the Redis at
// REDIS_ADDR (default 127.0.0.1:6379), and prints each chunk that
// passes, Go-quoted, one line each: ">" from the client to Redis, "<"
// back, after the connection's number. Only the bytes go to stdout
// (`make tap > wire.log` keeps them); the rest goes to stderr.
//
//	go run ./scripts/tap          (or: make tap)
//	redis-cli -p 6390 ping        (in another terminal)
//
//	[1] > "*1\r\n$4\r\nping\r\n"
//	[1] < "+PONG\r\n"
//	[1] closed
//
// Point a lesson at it with REDIS_ADDR=127.0.0.1:6390. Ctrl-C stops it.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"redis-by-hand/internal/redisaddr"
	"redis-by-hand/internal/wiretap"
)

func main() {
	// Listen for Ctrl-C first, so that an early one still stops
	// the tap cleanly.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)

	target, err := redisaddr.FromEnv()
	if err != nil {
		fail("%v", err)
	}
	listen := os.Getenv("TAP_ADDR")
	if listen == "" {
		listen = "127.0.0.1:6390"
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		fail("TAP_ADDR %q is not host:port", listen)
	}
	var mu sync.Mutex
	tap, err := wiretap.Start(listen, target, func(e wiretap.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case e.Data != nil:
			fmt.Printf("[%d] %c %q\n", e.Conn, e.Dir, e.Data)
		case e.Err != nil:
			fmt.Printf("[%d] closed: %v\n", e.Conn, e.Err)
		default:
			fmt.Printf("[%d] closed\n", e.Conn)
		}
	})
	if redisaddr.InUse(err) {
		fail("%s is already in use: pick another port, e.g. "+
			"TAP_ADDR=127.0.0.1:6391 make tap", listen)
	}
	if err != nil {
		fail("cannot listen on %s: %v", listen, err)
	}
	_, port, _ := net.SplitHostPort(tap.Addr())
	fmt.Fprintf(os.Stderr, "Tap listening on %s, forwarding to %s; "+
		"try: redis-cli -p %s ping\n", tap.Addr(), target, port)
	<-stop
	tap.Close()
	fmt.Fprintln(os.Stderr, "Stopped.")
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "tap: "+format+"\n", a...)
	os.Exit(1)
}
