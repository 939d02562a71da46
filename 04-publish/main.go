// Lesson 04: publish. We send `PUBLISH messages <message>` and
// Redis answers how many subscribers received it. This is the
// first lesson that speaks RESP proper: the command goes out as
// an array of bulk strings, as every driver sends it.
//
// With `make redis` and lesson 03 running:
// `go run ./04-publish "can you hear me"`, or `-` to read the
// message from standard input.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() {
	message := "hey"
	if len(os.Args) > 1 {
		message = os.Args[1]
	}
	if message == "-" {
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			fail("reading the message from standard input: %v", err)
		}
		message = string(data)
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

	// Why not inline, as before? A message is data: it may
	// hold blanks, quotes, or `\r\n`. Inline, "can you hear me"
	// would split into four arguments, and a message such as
	// "hi\r\nFLUSHALL" would end the line early and run
	// FLUSHALL as a second command. A bulk string says its
	// length first, so its bytes are never parsed at all.
	msg := encode("PUBLISH", "messages", message)
	fmt.Printf("Send: %q\n", msg)
	if _, err := conn.Write([]byte(msg)); err != nil {
		fail("cannot send to %s: %v", addr, err)
	}

	// The reply is an integer: how many subscribers got it.
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

	if strings.HasPrefix(reply, "-") {
		fail("Redis refused the command: %s",
			strings.TrimSpace(reply[1:]))
	}
}

// encode writes a command as a RESP array of bulk strings:
// `*3\r\n` (three elements), then each as `$<length>\r\n`,
// its bytes, `\r\n`.
func encode(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// fail prints one line on stderr and exits with status 1.
func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "04-publish: "+format+"\n", a...)
	os.Exit(1)
}
