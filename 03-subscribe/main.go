// Lesson 03: subscribe. After `subscribe messages` the
// connection changes direction: we stop asking, and Redis
// pushes a reply each time someone publishes to the channel.
// So we read in a loop, one complete reply at a time.
//
// With `make redis` running: `go run ./03-subscribe [channel]`,
// then publish from another terminal with lesson 04.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	channel := "messages"
	if len(os.Args) > 1 {
		channel = os.Args[1]
	}
	// Inline, as in lessons 01 and 02: a blank would split the
	// channel name in two.
	if channel == "" || strings.ContainsAny(channel, " \t\r\n\v\f\"'") {
		fail("an inline command cannot carry the channel %q: "+
			"it must be non-empty, without blanks or quotes", channel)
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

	msg := "subscribe " + channel + "\n"
	fmt.Printf("Send: %q\n", msg)
	conn.SetDeadline(time.Now().Add(timeout))
	if _, err := conn.Write([]byte(msg)); err != nil {
		fail("cannot send to %s: %v", addr, err)
	}

	// Redis confirms with an array of three: the word
	// subscribe, the channel, and how many channels this
	// connection now listens to.
	r := bufio.NewReader(conn)
	reply, err := readReply(r)
	if err != nil {
		readFailed(addr, err)
	}
	fmt.Printf("Received: %q\n", reply)

	// From here on we wait as long as it takes: no deadline.
	conn.SetDeadline(time.Time{})

	// Ctrl-C (SIGINT) or SIGTERM ends the program on purpose.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)

	// Reading blocks, so it runs on its own goroutine and hands
	// each reply over; main waits for a reply or a signal.
	replies := make(chan []byte)
	failed := make(chan error, 1)
	go func() {
		for {
			reply, err := readReply(r)
			if err != nil {
				failed <- err
				return
			}
			replies <- reply
		}
	}()

	for {
		select {
		case reply := <-replies:
			// Each message is an array of three: the word
			// message, the channel, and the payload.
			fmt.Printf("Received: %q\n", reply)
		case err := <-failed:
			// The blog's Python loop keeps calling recv after
			// the server is gone: recv returns b'' at once,
			// forever, and the loop spins a CPU printing
			// empty reads. An error here ends the program.
			readFailed(addr, err)
		case <-stop:
			fmt.Println("Close the connection")
			conn.Close()
			return
		}
	}
}

// readReply reads exactly one reply and returns its raw bytes.
// The blog's read(100) returns whatever has arrived: half a
// reply, or two. Every driver instead reads the type byte and
// the length, then exactly that much. See docs/resp.md.
func readReply(r *bufio.Reader) ([]byte, error) {
	line, err := readLine(r)
	if err != nil {
		return nil, err
	}
	head, body := line[0], string(line[1:len(line)-2])
	switch head {
	case '+', '-', ':':
		// Simple string, error, integer: the line is all.
		return line, nil
	case '$':
		// Bulk string: `$n\r\n`, then n bytes of any value,
		// `\r\n` included, then `\r\n`. `$-1` is nil.
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("bad bulk length %q", line)
		}
		if n == -1 {
			return line, nil
		}
		data := make([]byte, n+2)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, err
		}
		if !bytes.HasSuffix(data, []byte("\r\n")) {
			return nil, fmt.Errorf("bulk string of %d bytes "+
				"ends in %q, not \\r\\n", n, data[n:])
		}
		return append(line, data...), nil
	case '*':
		// Array: `*n\r\n`, then n replies of any type.
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("bad array length %q", line)
		}
		for range n {
			elem, err := readReply(r)
			if err != nil {
				return nil, err
			}
			line = append(line, elem...)
		}
		return line, nil
	}
	return nil, fmt.Errorf("unknown reply type %q in %q", head, line)
}

// readLine reads up to `\n` and insists on the `\r` before it.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	if err == io.EOF && len(line) > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("line %q does not end in \\r\\n", line)
	}
	return line, nil
}

// readFailed says why reading stopped, then exits.
func readFailed(addr string, err error) {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		fail("no reply from %s: is it a Redis server? "+
			"(REDIS_TIMEOUT sets the wait)", addr)
	case errors.Is(err, io.EOF):
		fail("%s closed the connection", addr)
	case errors.Is(err, io.ErrUnexpectedEOF):
		fail("%s closed the connection in the middle of a reply",
			addr)
	}
	fail("reading from %s: %v", addr, err)
}

// fail prints one line on stderr and exits with status 1.
func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "03-subscribe: "+format+"\n", a...)
	os.Exit(1)
}
