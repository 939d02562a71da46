package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"redis-by-hand/internal/realredis"
)

// quiet is how long a connection must stay silent before an exchange
// counts as over with the connection still open.
const quiet = 300 * time.Millisecond

// exchange writes each chunk (with a pause between chunks, so they
// arrive as separate reads), then returns every byte received and how
// the connection ended: "closed" (EOF), "reset", or "open". A failure
// to connect or write is the result, so that it shows as a difference.
func exchange(addr string, chunks []string) string {
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
	name   string
	chunks []string
}{
	{"inline ping", []string{"ping\n"}},
	{"inline ping crlf", []string{"PING\r\n"}},
	{"mixed case", []string{"PiNg\r\n"}},
	{"inline argument", []string{"ping hello\r\n"}},
	{"blanks around", []string{"  \t ping \t  hello   \r\n"}},
	{"empty lines", []string{"\r\n\n  \r\n\t\n"}},
	{"double and single quotes", []string{`echo "a b"` + "\n" + `echo 'c d'` + "\n"}},
	{"escapes in double quotes", []string{`echo "\x41\x4a\n\t\\\"\q"` + "\n"}},
	{"bad hex escape", []string{`echo "\xZZ\x4"` + "\n"}},
	{"escaped single quote", []string{`echo 'it\'s'` + "\n" + `echo 'a\nb'` + "\n"}},
	{"quote opening mid-argument", []string{`echo ab"cd ef"` + "\n"}},
	{"empty quoted argument", []string{`echo ""` + "\n" + `echo ''` + "\n"}},
	{"vertical tab inside argument", []string{"echo a\vb\n"}},
	{"closing quote glued to text", []string{`echo "a"b` + "\n" + "ping\n"}},
	{"unbalanced double quote", []string{"set diff:k \"abc\r\n"}},
	{"unbalanced single quote", []string{"set diff:k 'abc\n"}},
	{"error after good commands", []string{"ping\necho \"x\nping\n"}},
	{"cr cr lf", []string{"echo x\r\r\n"}},
	{"lone cr", []string{"ping\r"}},
	{"cr inside line", []string{"echo a\rb\n"}},
	{"nul hides the newline", []string{"ping\x00\r\nping\r\n"}},
	{"escaped nul in argument", []string{`echo "a\x00b"` + "\n"}},
	{"unknown command", []string{"foo bar 'baz qux'\r\n"}},
	{"unknown command long args", []string{"nope " + strings.Repeat("a", 100) + " " + strings.Repeat("b", 100) + " c\n"}},
	{"unknown command long name", []string{strings.Repeat("Z", 200) + " x\n"}},
	{"unknown command crlf in name", []string{"*2\r\n$5\r\nfo\r\no\r\n$3\r\na\nb\r\n"}},
	{"unknown command nul in name", []string{"*2\r\n$5\r\nfo\x00oo\r\n$3\r\na\x00b\r\n"}},
	{"unknown empty command", []string{"\"\"\n"}},
	{"wrong arity", []string{"get\r\nincr\r\n"}},
	{"incr pipelined", []string{"incr diff:n\nincr diff:n\nincr diff:n\n"}},
	{"pipelined inline and arrays", []string{"ping\r\n*1\r\n$4\r\nPING\r\necho mixed\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nping\n"}},
	{"binary bulk", []string{"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00\xff\r\n"}},
	{"array split across writes", []string{"*2\r\n$4\r\nEC", "HO\r\n$2\r\nhi", "\r\n"}},
	{"inline split across writes", []string{"pi", "ng\r", "\n"}},
	{"empty array", []string{"*0\r\nping\r\n"}},
	{"negative array", []string{"*-1\r\n*-7\r\nping\r\n"}},
	{"bad array length", []string{"*abc\r\nping\r\n"}},
	{"array length leading zero", []string{"*01\r\n$4\r\nPING\r\n"}},
	{"array length plus sign", []string{"*+1\r\n$4\r\nPING\r\n"}},
	{"array length too large", []string{"*3000000000\r\n"}},
	{"array length lf only", []string{"*1\n$4\r\nPING\r\n"}},
	{"array length any byte after cr", []string{"*1\rX$4\r\nPING\r\n"}},
	{"element not a bulk", []string{"*1\r\n:4\r\n"}},
	{"element cr instead of dollar", []string{"*1\r\n\r\n"}},
	{"element high byte", []string{"*1\r\n\xe9\r\n"}},
	{"negative bulk length", []string{"*1\r\n$-1\r\n"}},
	{"bad bulk length", []string{"*1\r\n$4x\r\nPING\r\n"}},
	{"bulk length too large", []string{"*1\r\n$600000000\r\n"}},
	{"bulk trailer not checked", []string{"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"}},
	{"incomplete bulk", []string{"*1\r\n$4\r\nPING\r"}},
	{"error inside pipelined array", []string{"ping\r\n*2\r\n$4\r\nECHO\r\n:3\r\nping\r\n"}},
	{"too big inline", []string{strings.Repeat("a", 70000)}},
	{"big inline with newline", []string{"echo " + strings.Repeat("a", 60000) + "\n"}},
	{"too big array count", []string{"*" + strings.Repeat("1", 70000)}},
	{"too big bulk count", []string{"*1\r\n$" + strings.Repeat("1", 70000)}},
	{"quit", []string{"QUIT\r\nping\r\n"}},
}

func TestDifferential(t *testing.T) {
	if reason, required := realredis.Missing(); reason != "" {
		if required {
			t.Fatal(reason)
		}
		t.Skip(reason)
	}
	real, err := realredis.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(real.Stop)
	sb, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Close)

	// Every exchange waits out its quiet period, so run them all at
	// once rather than at t.Parallel's pace of GOMAXPROCS at a time.
	type result struct{ sandbox, real string }
	results := make([]chan result, len(diffCases))
	for i, tc := range diffCases {
		results[i] = make(chan result, 1)
		go func() {
			ch := make(chan string, 1)
			go func() { ch <- exchange(real.Addr, tc.chunks) }()
			got := exchange(sb.Addr(), tc.chunks)
			results[i] <- result{got, <-ch}
		}()
	}
	for i, tc := range diffCases {
		r := <-results[i]
		t.Run(tc.name, func(t *testing.T) {
			if r.sandbox != r.real {
				t.Errorf("sent %q\nsandbox:      %s\nredis-server: %s",
					tc.chunks, r.sandbox, r.real)
			}
		})
	}
}
