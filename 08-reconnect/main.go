// Lesson 08 (beyond the blog): a subscriber that outlives its
// server. When the connection ends it dials again, backing off,
// and subscribes again; while idle it checks the connection with
// PING. `go run ./08-reconnect [-ping 5s] [channel]`
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	ping := flag.Duration("ping", 5*time.Second,
		"send a health-check PING after this long with no message")
	parseFlags("08-reconnect [-ping 5s] [channel]", 1)
	channel := "messages"
	if flag.NArg() > 0 {
		channel = flag.Arg(0)
	}
	if *ping <= 0 {
		fail("-ping must be more than 0")
	}

	ctx := interrupt() // Ctrl-C ends it, connected or not

	// The first subscription fails as lesson 03's does: a wrong
	// address, or a server that is not Redis, is not a restart
	// to wait for.
	conn := connect()
	msg := encode("SUBSCRIBE", channel)
	r, reply, err := subscribe(ctx, conn, msg)
	if err != nil {
		readFailed(err, reply)
	}

	// Then listen until the connection fails, subscribe again,
	// and listen again, until Ctrl-C. The backoff starts again at
	// 100ms only after a connection that held for a minute.
	wait := 100 * time.Millisecond
	for {
		since := time.Now()
		err := listen(ctx, conn, r, *ping)
		if ctx.Err() != nil {
			fmt.Println("Close the connection")
			return
		}
		// The server went away, or stopped answering. Whatever
		// is published until we subscribe again is lost: pub/sub
		// keeps nothing for absent subscribers (at most once).
		lost := time.Now()
		if lost.Sub(since) > time.Minute {
			wait = 100 * time.Millisecond
		}
		conn, r, wait = redial(ctx, msg, err, wait)
		if conn == nil {
			return // Ctrl-C while there was no connection
		}
		fmt.Fprintf(os.Stderr, "%s: back after %v; whatever was "+
			"published meanwhile is lost\n", lesson,
			time.Since(lost).Round(time.Millisecond))
	}
}

// confirm starts Redis's answer to SUBSCRIBE.
const confirm = "*3\r\n$9\r\nsubscribe\r\n"

// listen prints every reply on conn, which r reads, until the
// connection fails or ctx ends; it closes conn either way.
func listen(ctx context.Context, conn net.Conn, r *bufio.Reader,
	ping time.Duration) error {
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()

	// A dead peer can be silent: a server that lost power, or a
	// NAT box that forgot us, sends no FIN. So when no message
	// comes for `ping`, ask: a subscriber may send PING, and
	// Redis answers `*2\r\n$4\r\npong\r\n$0\r\n\r\n`. No answer
	// within the timeout either: the connection is dead.
	pinged := false
	for {
		wait := ping
		if pinged {
			wait = timeout
		}
		conn.SetDeadline(time.Now().Add(wait))
		reply, err := readReply(r)
		silent := errors.Is(err, os.ErrDeadlineExceeded)
		idle := silent && reply == ""
		switch {
		case idle && pinged:
			return fmt.Errorf("no answer to PING within %v",
				timeout)
		case idle:
			// The deadline that just passed holds for writes
			// too: give the PING a fresh one.
			conn.SetDeadline(time.Now().Add(timeout))
			msg := encode("PING")
			fmt.Printf("Send: %q\n", msg)
			if _, err := io.WriteString(conn, msg); err != nil {
				return err
			}
			pinged = true
			continue
		case err != nil:
			// A reply that breaks the protocol is no restart: it
			// would come again. It ends the program, as in 03.
			var op *net.OpError
			if !errors.As(err, &op) && !errors.Is(err, io.EOF) &&
				!errors.Is(err, io.ErrUnexpectedEOF) {
				readFailed(err, reply)
			}
			return err
		}
		fmt.Printf("Received: %q\n", reply)
		pinged = false
	}
}

// redial says what happened, then waits and subscribes again
// until that works, twice as long after each failure, up to 5s:
// so a thousand clients do not hammer a server that starts up.
// It returns the wait for next time; no connection on Ctrl-C.
func redial(ctx context.Context, msg string, why error,
	wait time.Duration) (net.Conn, *bufio.Reader, time.Duration) {
	say := fmt.Sprintf("lost %s: %s", addr, short(why))
	for {
		fmt.Fprintf(os.Stderr, "%s: %s; trying again in %v\n",
			lesson, say, wait)
		select {
		case <-ctx.Done():
			return nil, nil, wait
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
		conn, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			say = fmt.Sprintf("cannot connect to %s: %s", addr,
				short(err))
			continue
		}
		r, reply, err := subscribe(ctx, conn, msg)
		if err == nil {
			return conn, r, wait
		}
		conn.Close()
		if errors.Is(err, os.ErrDeadlineExceeded) && reply == "" {
			// It accepts, but says nothing: a frozen server.
			err = fmt.Errorf("no answer to SUBSCRIBE within %v",
				timeout)
		}
		say = fmt.Sprintf("%s: %s", addr, short(err))
	}
}

// subscribe sends SUBSCRIBE on conn and reads the confirmation,
// printing both. It returns what failed, and what had arrived by
// then: the caller decides whether that is the end (main) or a
// reason to try again (redial). A reply that is not the
// confirmation exits: waiting would not change it.
func subscribe(ctx context.Context, conn net.Conn,
	msg string) (*bufio.Reader, string, error) {
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	conn.SetDeadline(time.Now().Add(timeout))
	fmt.Printf("Send: %q\n", msg)
	if _, err := io.WriteString(conn, msg); err != nil {
		return nil, "", err
	}
	r := bufio.NewReader(conn)
	reply, err := readReply(r)
	if err == nil {
		fmt.Printf("Received: %q\n", reply)
		expect(reply, confirm)
	}
	return r, reply, err
}
