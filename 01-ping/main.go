// Lesson 01: ping. A Redis client is a TCP conversation. We open
// a connection, write the five bytes `ping\n`, and print the
// bytes Redis sends back: `+PONG\r\n`.
//
// Run it beside a server: `make redis` in one terminal, then
// `go run ./01-ping` in another.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

func main() {
	// Every lesson finds Redis through REDIS_ADDR (host:port).
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		fail("REDIS_ADDR %q is not host:port", addr)
	}

	// A client must never wait forever. REDIS_TIMEOUT (a Go
	// duration such as 500ms) shortens the default 5s.
	timeout := 5 * time.Second
	if s := os.Getenv("REDIS_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			fail("REDIS_TIMEOUT %q is not a duration like 2s", s)
		}
		timeout = d
	}

	conn, err := net.DialTimeout("tcp", addr, timeout)
	if errors.Is(err, syscall.ECONNREFUSED) {
		fail("no Redis at %s (connection refused); "+
			"start one with: make redis", addr)
	}
	if err != nil {
		fail("cannot connect to %s: %v", addr, err)
	}
	conn.SetDeadline(time.Now().Add(timeout))

	// This is the blog's first message. It is not RESP: a line
	// that does not start with `*` is an *inline command*,
	// which Redis splits on blanks, as telnet users type it.
	msg := "ping\n"
	fmt.Printf("Send: %q\n", msg)
	if _, err := conn.Write([]byte(msg)); err != nil {
		fail("cannot send to %s: %v", addr, err)
	}

	// The reply is a *simple string*: `+`, the text, `\r\n`.
	// The blog calls read(100), which returns whatever has
	// arrived: here all of it, but in general part of a reply
	// or more than one. Reading up to the `\n` is exactly one
	// simple string. %q shows the `\r` that print would hide.
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		readFailed(addr, timeout, err)
	}
	fmt.Printf("Received: %q\n", reply)

	fmt.Println("Close the connection")
	conn.Close()
}

// readFailed explains why no reply came, then exits.
func readFailed(addr string, timeout time.Duration, err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		fail("no reply from %s within %v: is it a Redis "+
			"server? (REDIS_TIMEOUT sets the wait)", addr, timeout)
	}
	fail("%s closed the connection before replying (%v)", addr, err)
}

// fail prints one line on stderr and exits with status 1.
func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "01-ping: "+format+"\n", a...)
	os.Exit(1)
}
