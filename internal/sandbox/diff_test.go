package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"redis-by-hand/internal/realredis"
)

// quiet is how long a connection must stay silent before an exchange
// counts as over with the connection still open.
const quiet = 500 * time.Millisecond

// exchange writes each chunk (with a pause between chunks, so they
// arrive as separate reads), then returns every byte received and how
// the connection ended: "closed" (EOF), "reset", or "open". A failure
// to connect or write is the result, so that it shows as a difference.
func exchange(addr string, chunks []string, halfClose bool) string {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	for i, chunk := range chunks {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := io.WriteString(c, chunk); err != nil {
			return err.Error()
		}
	}
	if halfClose {
		c.(*net.TCPConn).CloseWrite()
	}
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		switch {
		case err == nil:
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Sprintf("%q, open", got)
		case errors.Is(err, io.EOF):
			return fmt.Sprintf("%q, closed", got)
		case errors.Is(err, syscall.ECONNRESET):
			return fmt.Sprintf("%q, reset", got)
		default:
			return fmt.Sprintf("%q, %v", got, err)
		}
	}
}

// diffCases are raw requests whose replies and close behaviour must be
// the same from the sandbox and from a real redis-server. Each case
// uses keys of its own, as they all share one server of each kind.
var diffCases = []struct {
	name      string
	chunks    []string
	halfClose bool // shut the sending side after the last chunk
}{
	{"inline ping", []string{"ping\n"}, false},
	{"inline ping crlf", []string{"PING\r\n"}, false},
	{"mixed case", []string{"PiNg\r\n"}, false},
	{"inline argument", []string{"ping hello\r\n"}, false},
	{"blanks around", []string{"  \t ping \t  hello   \r\n"}, false},
	{"empty lines", []string{"\r\n\n  \r\n\t\n"}, false},
	{"double and single quotes", []string{`echo "a b"` + "\n" + `echo 'c d'` + "\n"}, false},
	{"escapes in double quotes", []string{`echo "\x41\x4a\n\t\\\"\q"` + "\n"}, false},
	{"bad hex escape", []string{`echo "\xZZ\x4"` + "\n"}, false},
	{"escaped single quote", []string{`echo 'it\'s'` + "\n" + `echo 'a\nb'` + "\n"}, false},
	{"quote opening mid-argument", []string{`echo ab"cd ef"` + "\n"}, false},
	{"empty quoted argument", []string{`echo ""` + "\n" + `echo ''` + "\n"}, false},
	{"vertical tab inside argument", []string{"echo a\vb\n"}, false},
	{"closing quote glued to text", []string{`echo "a"b` + "\n" + "ping\n"}, false},
	{"unbalanced double quote", []string{"set diff:k \"abc\r\n"}, false},
	{"unbalanced single quote", []string{"set diff:k 'abc\n"}, false},
	{"error after good commands", []string{"ping\necho \"x\nping\n"}, false},
	{"cr cr lf", []string{"echo x\r\r\n"}, false},
	{"lone cr", []string{"ping\r"}, false},
	{"cr inside line", []string{"echo a\rb\n"}, false},
	{"nul hides the newline", []string{"ping\x00\r\nping\r\n"}, false},
	{"escaped nul in argument", []string{`echo "a\x00b"` + "\n"}, false},
	{"unknown command", []string{"foo bar 'baz qux'\r\n"}, false},
	{"unknown command long args", []string{"nope " + strings.Repeat("a", 100) + " " + strings.Repeat("b", 100) + " c\n"}, false},
	{"unknown command long name", []string{strings.Repeat("Z", 200) + " x\n"}, false},
	{"unknown command crlf in name", []string{"*2\r\n$5\r\nfo\r\no\r\n$3\r\na\nb\r\n"}, false},
	{"unknown command nul in name", []string{"*2\r\n$5\r\nfo\x00oo\r\n$3\r\na\x00b\r\n"}, false},
	{"unknown empty command", []string{"\"\"\n"}, false},
	{"wrong arity", []string{"get\r\nincr\r\n"}, false},
	{"incr pipelined", []string{"incr diff:n\nincr diff:n\nincr diff:n\n"}, false},
	{"pipelined inline and arrays", []string{"ping\r\n*1\r\n$4\r\nPING\r\necho mixed\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nping\n"}, false},
	{"binary bulk", []string{"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00\xff\r\n"}, false},
	{"array split across writes", []string{"*2\r\n$4\r\nEC", "HO\r\n$2\r\nhi", "\r\n"}, false},
	{"inline split across writes", []string{"pi", "ng\r", "\n"}, false},
	{"empty array", []string{"*0\r\nping\r\n"}, false},
	{"negative array", []string{"*-1\r\n*-7\r\nping\r\n"}, false},
	{"bad array length", []string{"*abc\r\nping\r\n"}, false},
	{"array length leading zero", []string{"*01\r\n$4\r\nPING\r\n"}, false},
	{"array length plus sign", []string{"*+1\r\n$4\r\nPING\r\n"}, false},
	{"array length too large", []string{"*3000000000\r\n"}, false},
	{"array length lf only", []string{"*1\n$4\r\nPING\r\n"}, false},
	{"array length any byte after cr", []string{"*1\rX$4\r\nPING\r\n"}, false},
	{"element not a bulk", []string{"*1\r\n:4\r\n"}, false},
	{"element cr instead of dollar", []string{"*1\r\n\r\n"}, false},
	{"element high byte", []string{"*1\r\n\xe9\r\n"}, false},
	{"negative bulk length", []string{"*1\r\n$-1\r\n"}, false},
	{"bad bulk length", []string{"*1\r\n$4x\r\nPING\r\n"}, false},
	{"bulk length too large", []string{"*1\r\n$600000000\r\n"}, false},
	{"bulk trailer not checked", []string{"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"}, false},
	{"incomplete bulk", []string{"*1\r\n$4\r\nPING\r"}, false},
	{"error inside pipelined array", []string{"ping\r\n*2\r\n$4\r\nECHO\r\n:3\r\nping\r\n"}, false},
	{"too big inline", []string{strings.Repeat("a", 70000)}, false},
	{"big inline with newline", []string{"echo " + strings.Repeat("a", 60000) + "\n"}, false},
	{"too big array count", []string{"*" + strings.Repeat("1", 70000)}, false},
	{"too big bulk count", []string{"*1\r\n$" + strings.Repeat("1", 70000)}, false},
	{"quit", []string{"QUIT\r\nping\r\n"}, false},
	{"half close after commands", []string{"ping\r\necho hi\r\nsubscribe diff:ch\r\n"}, true},
	{"half close mid request", []string{"ping\r\n*2\r\n$4\r\nECHO"}, true},
	{"half close after protocol error", []string{"ping\r\n*x\r\n"}, true},
	{"subscribed-mode error text", []string{"subscribe diff:sub\r\nget x\r\n"}, false},
	{"ping with an empty argument", []string{"ping \"\"\r\n"}, false},
}

// backends starts, once for the package's tests, a real redis-server
// and a sandbox; TestMain stops them. Without redis-server the calling
// test is skipped, or fails when REDIS_SERVER_REQUIRED=1.
func backends(t *testing.T) (real, sandbox string) {
	t.Helper()
	realredis.Require(t)
	shared.once.Do(func() {
		shared.real, shared.err = realredis.Start()
		if shared.err == nil {
			shared.sandbox, shared.err = Start("127.0.0.1:0")
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.real.Addr, shared.sandbox.Addr()
}

var shared struct {
	once    sync.Once
	real    *realredis.Server
	sandbox *Server
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.real != nil {
		shared.real.Stop()
	}
	if shared.sandbox != nil {
		shared.sandbox.Close()
	}
	os.Exit(code)
}

// result is one request's exchange with each server.
type result struct{ sandbox, real string }

// exchangeBoth runs every exchange against both servers at once: each
// waits out its quiet period, so running them one after the other, or
// at t.Parallel's pace of GOMAXPROCS at a time, would take seconds.
func exchangeBoth(t *testing.T, requests [][]string, halfClose []bool) []result {
	real, sb := backends(t)
	results := make([]result, len(requests))
	var wg sync.WaitGroup
	for i, chunks := range requests {
		wg.Add(2)
		go func() { defer wg.Done(); results[i].real = exchange(real, chunks, halfClose[i]) }()
		go func() { defer wg.Done(); results[i].sandbox = exchange(sb, chunks, halfClose[i]) }()
	}
	wg.Wait()
	return results
}

func TestDifferential(t *testing.T) {
	t.Parallel()
	var requests [][]string
	var halfClose []bool
	for _, tc := range diffCases {
		requests = append(requests, tc.chunks)
		halfClose = append(halfClose, tc.halfClose)
	}
	results := exchangeBoth(t, requests, halfClose)
	for i, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			if r := results[i]; r.sandbox != r.real {
				t.Errorf("sent %q\nsandbox:      %s\nredis-server: %s",
					tc.chunks, r.sandbox, r.real)
			}
		})
	}
}

// An ending is an exchange and how it ends on each server.
type ending struct {
	name            string
	send            string
	sandbox, server string // how each exchange ends
}

// knownDifferences are the command-level differences between miniredis
// and redis-server 7.0 that docs/README.md lists ("The embedded Redis
// and a real one"). The test fails when one goes away or changes, so
// that the list stays true.
var knownDifferences = []ending{}

// sameEndings are exchanges that start with a reply that names the
// server (HELLO), and must end the same.
var sameEndings = []ending{
	{
		// HELLO's own reply names the server, so only the ends of
		// the exchanges are compared.
		"commands while subscribed under RESP3",
		"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\nsubscribe diff:sub3\r\nget x\r\n",
		`:1\r\n_\r\n", open`,
		`:1\r\n_\r\n", open`,
	},
}

func TestSameEndings(t *testing.T) { testEndings(t, sameEndings) }

func TestKnownDifferences(t *testing.T) { testEndings(t, knownDifferences) }

func testEndings(t *testing.T, cases []ending) {
	t.Parallel()
	var requests [][]string
	for _, d := range cases {
		requests = append(requests, []string{d.send})
	}
	results := exchangeBoth(t, requests, make([]bool, len(requests)))
	for i, d := range cases {
		t.Run(d.name, func(t *testing.T) {
			if got := results[i].sandbox; !strings.HasSuffix(got, d.sandbox) {
				t.Errorf("sandbox now answers %s\nnot ...%s: update docs/differences.md", got, d.sandbox)
			}
			if got := results[i].real; !strings.HasSuffix(got, d.server) {
				t.Errorf("redis-server now answers %s\nnot ...%s: update docs/differences.md", got, d.server)
			}
		})
	}
}
