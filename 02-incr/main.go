// Lesson 02: INCR. The same conversation as lesson 01, with a
// command that changes data: `INCR my-key` adds one to the
// number stored at my-key and answers with the new value.
// Run it three times and Redis answers 1, 2, 3: the count
// lives in Redis, not in this program.
//
// With `make redis` running: `go run ./02-incr [key]`.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() {
	key := "my-key"
	if len(os.Args) > 1 {
		key = os.Args[1]
	}
	// An inline command is split on blanks, and a line break
	// would end it and start another command. So a key with
	// either cannot travel inline: lesson 04 shows the RESP
	// array that can carry any bytes.
	if key == "" || strings.ContainsAny(key, " \t\r\n\v\f\"'") {
		fail("an inline command cannot carry the key %q: "+
			"it must be non-empty, without blanks or quotes", key)
	}

	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		fail("REDIS_ADDR %q is not host:port", addr)
	}
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

	// Inline again, as the blog types it: the command name,
	// a blank, the key, a line feed.
	msg := "INCR " + key + "\n"
	fmt.Printf("Send: %q\n", msg)
	if _, err := conn.Write([]byte(msg)); err != nil {
		fail("cannot send to %s: %v", addr, err)
	}

	// An *integer* reply is `:`, the digits, `\r\n`. A refusal
	// is an *error* reply, `-`, the message, `\r\n`: one line
	// either way, so reading up to `\n` reads one reply.
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if errors.Is(err, os.ErrDeadlineExceeded) {
		fail("no reply from %s within %v: is it a Redis "+
			"server? (REDIS_TIMEOUT sets the wait)", addr, timeout)
	}
	if err != nil {
		fail("%s closed the connection before replying (%v)",
			addr, err)
	}
	fmt.Printf("Received: %q\n", reply)

	fmt.Println("Close the connection")
	conn.Close()

	// An error reply is data, not a broken connection: we
	// printed it like any reply. It still means the command
	// did not run, which the exit status should say.
	if strings.HasPrefix(reply, "-") {
		fail("Redis refused the command: %s",
			strings.TrimSpace(reply[1:]))
	}
}

// fail prints one line on stderr and exits with status 1.
func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "02-incr: "+format+"\n", a...)
	os.Exit(1)
}
