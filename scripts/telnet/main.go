// Command telnet is the blog's telnet session, on any OS: it sends each
// line you type to Redis, ended by \r\n, and prints each reply as it
// comes, twice: as telnet would show it, then quoted, byte for byte.
//
//	go run ./scripts/telnet      (Redis at REDIS_ADDR or 127.0.0.1:6379)
//	ping
//	+PONG
//	    "+PONG\r\n"
//
// Replies are read whole (see 03-subscribe), so a subscribed session
// shows each message as it arrives. End with Ctrl-D, quit or Ctrl-C.
// Once the input ends, it waits REDIS_TIMEOUT (default 5s) at most
// for the replies still due.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"redis-by-hand/internal/redisaddr"
	"redis-by-hand/internal/resp"
)

func main() {
	// Ctrl-C ends the session as Ctrl-D does, quietly: listen for it
	// before anything else.
	ctx, stop := signal.NotifyContext(context.Background(),
		os.Interrupt, syscall.SIGTERM)
	defer stop()

	addr, err := redisaddr.FromEnv()
	if err != nil {
		fail("%v", err)
	}
	timeout := 5 * time.Second
	if s := os.Getenv("REDIS_TIMEOUT"); s != "" {
		if timeout, err = time.ParseDuration(s); err != nil || timeout <= 0 {
			fail("REDIS_TIMEOUT %q is not a duration like 2s", s)
		}
	}
	c, err := net.DialTimeout("tcp", addr, timeout)
	if redisaddr.Refused(err) {
		fail("no Redis at %s (connection refused); %s", addr, redisaddr.StartOne(addr))
	}
	if err != nil {
		fail("cannot connect to %s: %v", addr, err)
	}
	conn := c.(*net.TCPConn)
	context.AfterFunc(ctx, func() { conn.Close() })
	fmt.Fprintf(os.Stderr, "Connected to %s. Type a command, then Enter; Ctrl-D ends.\n", addr)

	inputDone := make(chan struct{})
	go func() {
		defer close(inputDone)
		in := bufio.NewScanner(os.Stdin)
		in.Buffer(nil, 1<<20)
		for in.Scan() {
			if _, err := conn.Write([]byte(in.Text() + "\r\n")); err != nil {
				return
			}
		}
		// No more input: say so to Redis, which answers what it has
		// read and then closes the connection, and wait for that
		// no longer than the timeout.
		conn.SetReadDeadline(time.Now().Add(timeout))
		conn.CloseWrite()
	}()

	r := bufio.NewReader(conn)
	for {
		reply, err := resp.ReadReply3(r)
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "Closed.")
			return
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			fail("no reply from %s within %v after the input ended: "+
				"is it a Redis server? (REDIS_TIMEOUT sets the wait)",
				addr, timeout)
		}
		if err == io.EOF || errors.Is(err, syscall.ECONNRESET) && len(reply) == 0 {
			// The end, at a reply boundary: after our Ctrl-D, or
			// the server's own (QUIT, a protocol error, shutdown),
			// which telnet would report too. A server that closes
			// while lines we typed are still unread resets the
			// connection instead: the same end.
			select {
			case <-inputDone:
			default:
				fmt.Fprintln(os.Stderr, "Connection closed by the server.")
			}
			return
		}
		if err != nil {
			fail("reading from %s: %v", addr, err)
		}
		fmt.Print(asTelnetShows(reply))
		fmt.Printf("    %q\n", reply)
	}
}

// asTelnetShows is the reply as a terminal shows it: \r\n ends a line.
// Other control bytes become '.', so that a reply cannot drive your
// terminal with escape sequences.
func asTelnetShows(reply []byte) string {
	s := strings.ToValidUTF8(string(reply), "?")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' || r == 0x7f {
			return '.'
		}
		return r
	}, s)
}

// fail prints one line on stderr and exits with status 1.
func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "telnet: "+format+"\n", a...)
	os.Exit(1)
}
