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
	"os/signal"
	"syscall"
	"time"
)

func main() {
	// -ping: how long a silence lasts before the health check.
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

	// Ctrl-C or SIGTERM ends the program, connected or not.
	ctx, stop := signal.NotifyContext(context.Background(),
		os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The first subscription is lesson 03's, with its errors: a
	// wrong address, or a server that is not Redis, is not a
	// restart to wait for.
	conn := connect()
	msg := encode("SUBSCRIBE", channel)
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)
	r := bufio.NewReader(conn)
	reply, err := readReply(r)
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)
	expect(reply, confirm)

	// Then listen until the connection fails, dial and subscribe
	// again, and listen again: only Ctrl-C ends the loop.
	for {
		err := listen(ctx, conn, r, *ping)
		if ctx.Err() != nil {
			fmt.Println("Close the connection")
			return
		}
		// The server went away, or stopped answering. Whatever
		// is published until we subscribe again is lost: pub/sub
		// keeps nothing for absent subscribers (at most once).
		lost := time.Now()
		conn, r = redial(ctx, msg, err)
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
			return err
		}
		fmt.Printf("Received: %q\n", reply)
		pinged = false
	}
}

// redial dials addr and subscribes again, until that works,
// waiting longer after each failure, up to 5s: a bounded
// backoff, so that a thousand clients do not hammer a server
// that is starting up. It returns nil if ctx ends first.
func redial(ctx context.Context, msg string,
	why error) (net.Conn, *bufio.Reader) {
	// Say what happened and how long we wait, wait, and try.
	say := fmt.Sprintf("lost %s: %s", addr, short(why))
	wait := 100 * time.Millisecond
	for {
		fmt.Fprintf(os.Stderr, "%s: %s; trying again in %v\n",
			lesson, say, wait)
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(wait):
		}
		conn, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			say = fmt.Sprintf("cannot connect to %s: %s", addr,
				short(err))
		} else if r, err := resubscribe(ctx, conn, msg); err != nil {
			conn.Close()
			say = fmt.Sprintf("%s: %s", addr, short(err))
		} else {
			return conn, r
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// resubscribe sends SUBSCRIBE on a new connection and reads the
// confirmation, as main does the first time, but returns what
// fails instead of exiting.
func resubscribe(ctx context.Context, conn net.Conn,
	msg string) (*bufio.Reader, error) {
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	conn.SetDeadline(time.Now().Add(timeout))
	fmt.Printf("Send: %q\n", msg)
	if _, err := io.WriteString(conn, msg); err != nil {
		return nil, err
	}
	r := bufio.NewReader(conn)
	reply, err := readReply(r)
	if errors.Is(err, os.ErrDeadlineExceeded) && reply == "" {
		// It accepts, but says nothing: a frozen server.
		return nil, fmt.Errorf("no answer to SUBSCRIBE within %v",
			timeout)
	}
	if err != nil {
		return nil, err
	}
	fmt.Printf("Received: %q\n", reply)
	expect(reply, confirm)
	return r, nil
}

// short says what went wrong without the addresses that the
// net package puts in its errors.
func short(err error) string {
	var sys *os.SyscallError
	switch {
	case errors.Is(err, io.EOF):
		return "it closed the connection"
	case errors.As(err, &sys):
		return sys.Err.Error()
	}
	return err.Error()
}
