// conn.go is the plumbing every lesson shares, byte for byte (a
// test keeps the copies equal): where Redis is, how long to wait,
// how to connect, and how to fail with one clear line. main.go
// holds the conversation; read that first.

//lint:file-ignore U1000 conn.go is shared: not every lesson uses all of it.

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
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// defaultAddr is where Redis listens unless REDIS_ADDR says
// otherwise, and where `make redis` serves.
const defaultAddr = "127.0.0.1:6379"

var (
	// lesson is the program's name, from its folder: 01-ping...
	lesson = strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	// addr is REDIS_ADDR (host:port), or defaultAddr.
	addr = defaultAddr
	// timeout bounds the dial, then the whole conversation:
	// REDIS_TIMEOUT (a Go duration such as 500ms), or 5s.
	timeout = 5 * time.Second
)

// connect reads REDIS_ADDR and REDIS_TIMEOUT, dials Redis, and
// sets a deadline on the connection, as lesson 01 does by hand.
// On failure it says why, and what to do, and exits.
func connect() net.Conn {
	configure()
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		dialFailed(err)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	return conn
}

// configure reads REDIS_ADDR into addr and REDIS_TIMEOUT into
// timeout, or exits saying which one is wrong.
func configure() {
	if s := os.Getenv("REDIS_ADDR"); s != "" {
		addr = s
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		fail("REDIS_ADDR %q is not host:port", addr)
	}
	if s := os.Getenv("REDIS_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			fail("REDIS_TIMEOUT %q is not a duration like 2s", s)
		}
		timeout = d
	}
}

// dialFailed says why the dial to addr failed, and what to do,
// then exits.
func dialFailed(err error) {
	// ECONNREFUSED, or WSAECONNREFUSED (10061) on Windows.
	if errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.Errno(10061)) {
		fail("no Redis at %s (connection refused); %s",
			addr, howToStart())
	}
	fail("cannot connect to %s: %v", addr, err)
}

// howToStart says how to get a Redis at addr: `make redis` serves
// REDIS_ADDR, but only on this machine.
func howToStart() string {
	host, _, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	switch {
	case addr == defaultAddr:
		return "start one with: make redis"
	case host == "localhost" || ip != nil && ip.IsLoopback():
		return "start one with: REDIS_ADDR=" + addr + " make redis"
	}
	return "is Redis running there, and is REDIS_ADDR right?"
}

// inlineArg returns s if it can travel in an inline command, or
// exits: a blank would split it in two, a quote would be parsed,
// and a line break would end the command early. Lesson 04 shows
// the RESP array that carries any bytes.
func inlineArg(what, s string) string {
	if s == "" || strings.ContainsAny(s, " \t\r\n\v\f\"'") {
		fail("an inline command cannot carry the %s %q: it must "+
			"be non-empty, without blanks or quotes", what, s)
	}
	return s
}

// send writes msg, all of it, or exits.
func send(conn net.Conn, msg string) {
	if _, err := io.WriteString(conn, msg); err != nil {
		fail("cannot send to %s: %v", addr, err)
	}
}

// readLine reads one line of a reply, up to its `\n`, and
// checks it: a type byte, text, `\r\n`. The server is not
// trusted: a line longer than r's buffer is refused, not grown.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return "", fmt.Errorf("a line of over %d bytes", r.Size())
	case err != nil:
		return string(line), err
	case string(line) == "\r\n" || string(line) == "\n":
		return "", fmt.Errorf("%q: an empty line has no type "+
			"byte", line)
	case len(line) < 3 || line[len(line)-2] != '\r':
		return "", fmt.Errorf("%q: a line must end in \\r\\n", line)
	case !strings.Contains("+-:$*", string(line[:1])):
		return "", fmt.Errorf("%q: no reply type starts with %q",
			line, line[:1])
	}
	return string(line), nil
}

// readFailed says why no whole reply came, then exits. got is
// what had arrived of it.
func readFailed(err error, got string) {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && got != "":
		fail("incomplete reply from %s within %v: got only %q",
			addr, timeout, got)
	case errors.Is(err, os.ErrDeadlineExceeded):
		fail("no reply from %s within %v: is it a Redis server? "+
			"(REDIS_TIMEOUT sets the wait)", addr, timeout)
	case errors.Is(err, io.EOF) && got != "",
		errors.Is(err, io.ErrUnexpectedEOF):
		fail("%s closed the connection in the middle of a reply",
			addr)
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		fail("%s closed the connection", addr)
	}
	fail("bad reply from %s: %v", addr, err)
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

// expect judges a reply once it is printed: an error reply means
// the command did not run, and a reply that does not start with
// want is not the answer to what we sent. The exit status says so.
func expect(reply, want string) {
	switch {
	case strings.HasPrefix(reply, "-"):
		fail("Redis refused the command: %s",
			strings.TrimSuffix(reply[1:], "\r\n"))
	case !strings.HasPrefix(reply, want):
		fail("expected a reply that starts with %q", want)
	}
}

// interrupt is done once Ctrl-C or SIGTERM arrives. Lessons that
// wait for ever (a subscriber, a blocking pop, a server) end the
// wait with it, and print their last line instead of dying.
var interrupt = sync.OnceValue(func() context.Context {
	ctx, stop := signal.NotifyContext(context.Background(),
		os.Interrupt, syscall.SIGTERM)
	// Once it has come, a second Ctrl-C ends the program at once.
	context.AfterFunc(ctx, stop)
	return ctx
})

// closeOnInterrupt closes conn on Ctrl-C or SIGTERM: a read that
// waits on it then ends, and interrupted() says why.
func closeOnInterrupt(conn net.Conn) {
	context.AfterFunc(interrupt(), func() { conn.Close() })
}

// interrupted reports whether Ctrl-C or SIGTERM has arrived.
func interrupted() bool { return interrupt().Err() != nil }

// parseFlags parses the flags and at most `most` arguments, or
// exits with one line: what is wrong, and how to run the lesson.
func parseFlags(usage string, most int) {
	flag.CommandLine.Init(lesson, flag.ContinueOnError)
	flag.CommandLine.SetOutput(io.Discard) // no 3-line usage
	err := flag.CommandLine.Parse(os.Args[1:])
	switch {
	case err == flag.ErrHelp:
		fail("usage: %s", usage)
	case err != nil:
		fail("%v; usage: %s", err, usage)
	case flag.NArg() > most:
		fail("unexpected argument %q; usage: %s",
			flag.Arg(most), usage)
	}
}

// fail prints one line on stderr and exits with status 1.
func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, lesson+": "+format+"\n", a...)
	exit(1)
}

// exit is os.Exit, except in a lesson's Go tests that call its
// functions inside the test program: a failure there ends the test,
// not the program, which would leave its servers running.
var exit = os.Exit
