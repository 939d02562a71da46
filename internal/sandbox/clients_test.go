package sandbox

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"redis-by-hand/internal/lessonbin"
	"redis-by-hand/internal/realredis"
)

// These tests drive the real Redis tools against the sandbox, and
// against a redis-server when there is one, as a reader would.

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRedisCLIOneShot: redis-cli with commands on stdin and as
// arguments, for the commands the lessons send.
func TestRedisCLIOneShot(t *testing.T) {
	t.Parallel()
	realredis.RequireTool(t, "redis-cli")
	eachServer(t, func(t *testing.T, addr string) {
		p := port(t, addr)
		cli := exec.Command("redis-cli", "-p", p)
		cli.Stdin = strings.NewReader("ping\nincr cli:my-key\n")
		out, err := cli.CombinedOutput()
		if string(out) != "PONG\n1\n" || err != nil {
			t.Errorf("printf 'ping\\nincr cli:my-key\\n' | redis-cli: %q, %v", out, err)
		}
		for _, tc := range []struct{ args, want string }{
			{"ping", "PONG\n"},
			{"incr cli:my-key", "2\n"},
			{"publish cli:messages hey", "0\n"},
			{"set cli:k v", "OK\n"},
			{"get cli:k", "v\n"},
			{"rpush cli:q a", "1\n"},
			{"blpop cli:q 1", "cli:q\na\n"},
		} {
			out, err := exec.Command("redis-cli", append([]string{"-p", p}, strings.Fields(tc.args)...)...).CombinedOutput()
			if string(out) != tc.want || err != nil {
				t.Errorf("redis-cli %s: %q, %v; want %q", tc.args, out, err, tc.want)
			}
		}
	})
}

// TestRedisCLIInteractive: redis-cli at a terminal (a pseudo-terminal,
// from script(1)) starts, runs commands, subscribes, and stops on
// Ctrl-C (which, since 7.0, returns to the prompt). redis-cli reads COMMAND DOCS when it starts, for its hints.
func TestRedisCLIInteractive(t *testing.T) {
	// It spends its time waiting for a terminal program: let the
	// other parallel tests run meanwhile.
	t.Parallel()
	realredis.RequireTool(t, "redis-cli")
	if runtime.GOOS != "linux" {
		t.Skip("uses util-linux script(1) for a pseudo-terminal")
	}
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("script(1) is not on PATH")
	}
	eachServer(t, func(t *testing.T, addr string) {
		t.Parallel() // both servers at once: the test mostly waits
		pr, pw := io.Pipe()
		cli := exec.Command("script", "-qfec",
			"stty cols 200 rows 24; exec redis-cli -p "+port(t, addr), "/dev/null")
		cli.Stdin = pr
		out := &screen{}
		cli.Stdout = out
		cli.Stderr = out
		if err := cli.Start(); err != nil {
			t.Fatal(err)
		}
		defer cli.Process.Kill()
		// Type a line once the screen shows what the one before
		// printed, as a person would.
		prompt := "127.0.0.1:" + port(t, addr) + "> "
		typeLine := func(s, thenWant string) {
			t.Helper()
			n := strings.Count(out.String(), thenWant)
			io.WriteString(pw, s)
			if !out.waitFor(thenWant, n+1, 10*time.Second) {
				t.Fatalf("after %q, redis-cli did not print %q; it printed:\n%s", s, thenWant, out)
			}
		}
		if !out.waitFor(prompt, 1, 10*time.Second) {
			t.Fatalf("redis-cli did not show its prompt %q; it printed:\n%s", prompt, out)
		}
		// redis-cli reads a line in raw mode once it shows its
		// prompt again: a line typed before that is echoed and
		// read by the terminal instead (it happened under load).
		typeLine("ping\r", "PONG\r\n"+prompt)
		typeLine("incr cli:tty\r", "(integer) 1\r\n"+prompt)
		typeLine("subscribe cli:tty-ch\r", "Reading messages...")
		waitSubscribers(t, addr, "cli:tty-ch", 1)
		pub := dial(t, addr)
		io.WriteString(pub, "publish cli:tty-ch hey\r\n")
		if !out.waitFor(`3) "hey"`, 1, 10*time.Second) {
			t.Fatalf("redis-cli did not print the message; it printed:\n%s", out)
		}
		typeLine("\x03", prompt) // Ctrl-C: back to the prompt
		typeLine("ping after\r", `"after"`)
		io.WriteString(pw, "quit\r")
		pw.Close() // script(1) ends at the end of its input
		done := make(chan error, 1)
		go func() { done <- cli.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("redis-cli: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("redis-cli did not stop on quit; it printed:\n%s", out)
		}
		text := strings.ReplaceAll(out.String(), "\r", "")
		for _, want := range []string{
			"\nPONG\n", "\n(integer) 1\n", "Reading messages...",
			"1) \"message\"\n2) \"cli:tty-ch\"\n3) \"hey\"\n",
			"\n\"after\"\n",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("redis-cli's session lacks %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "Assertion") || strings.Contains(text, "ERR") {
			t.Errorf("redis-cli complained:\n%s", text)
		}
	})
}

// TestRedisBenchmark: redis-benchmark runs the usual tests without a
// warning (it reads CONFIG GET save and appendonly first).
func TestRedisBenchmark(t *testing.T) {
	t.Parallel()
	realredis.RequireTool(t, "redis-benchmark")
	eachServer(t, func(t *testing.T, addr string) {
		out, err := exec.Command("redis-benchmark", "-p", port(t, addr), "-q",
			"-n", "500", "-t", "ping,incr,set,get,lpush,rpop").CombinedOutput()
		if err != nil {
			t.Fatalf("redis-benchmark: %v\n%s", err, out)
		}
		var results int
		for _, line := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\r' || r == '\n' }) {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.Contains(line, "rps="):
				// progress
			case strings.Contains(line, " requests per second"):
				results++
			default:
				t.Errorf("redis-benchmark printed %q", line)
			}
		}
		if results != 7 { // PING_INLINE, PING_MBULK, and 5 more
			t.Errorf("redis-benchmark printed %d results, want 7:\n%s", results, out)
		}
	})
}

// TestMonitor: redis-cli monitor shows the commands of every client in
// Redis's format; a lesson's INCR shows as it was sent.
func TestMonitor(t *testing.T) {
	t.Parallel()
	realredis.RequireTool(t, "redis-cli")
	eachServer(t, func(t *testing.T, addr string) {
		mon := exec.Command("redis-cli", "-p", port(t, addr), "monitor")
		stdout, err := mon.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := mon.Start(); err != nil {
			t.Fatal(err)
		}
		defer mon.Wait()
		defer mon.Process.Kill()
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || lines.Text() != "OK" {
			t.Fatalf("redis-cli monitor: %q, %v", lines.Text(), lines.Err())
		}
		bin, out, err := lessonbin.Build(filepath.Join("..", ".."), "02-incr")
		if err != nil {
			t.Fatalf("go build ./02-incr: %v\n%s", err, out)
		}
		lesson := exec.Command(filepath.Join(bin, "02-incr"))
		lesson.Env = append(lesson.Environ(), "REDIS_ADDR="+addr)
		if out, err := lesson.CombinedOutput(); err != nil {
			t.Fatalf("02-incr: %v\n%s", err, out)
		}
		c := dial(t, addr)
		io.WriteString(c, "*2\r\n$4\r\necho\r\n$5\r\n\"a\"\n\xff\r\n")
		io.ReadFull(c, make([]byte, 11))

		line := regexp.MustCompile(`^\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] (.*)$`)
		for _, want := range []string{`"INCR" "my-key"`, `"echo" "\"a\"\n\xff"`} {
			if !lines.Scan() {
				t.Fatalf("monitor ended: %v", lines.Err())
			}
			m := line.FindStringSubmatch(lines.Text())
			if m == nil || m[1] != want {
				t.Errorf("monitor line %q, want ... %s", lines.Text(), want)
			}
		}
	})
}

// monitorLines has a client run req while a MONITOR watches, and
// returns the arguments part of each line the monitor got.
func monitorLines(t *testing.T, addr, req string) []string {
	m := dial(t, addr)
	io.WriteString(m, "monitor\r\n")
	r := bufio.NewReader(m)
	if l, err := r.ReadString('\n'); l != "+OK\r\n" {
		t.Fatalf("monitor: %q, %v", l, err)
	}
	c := dial(t, addr)
	io.WriteString(c, req+"ping\r\n")
	bufio.NewReader(c).ReadString('P') // the last reply: +PONG
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		_, args, _ := strings.Cut(strings.TrimSuffix(l, "\r\n"), "] ")
		if args == `"ping"` {
			return lines
		}
		lines = append(lines, args)
	}
}

// TestMonitorDifferences pins what MONITOR shows differently
// (docs/differences.md): the commands a Lua script runs, and a
// miniredis command with the wrong number of arguments.
func TestMonitorDifferences(t *testing.T) {
	t.Parallel()
	// Servers of its own: the shared ones have other clients.
	realredis.Require(t)
	real, err := realredis.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer real.Stop()
	sb, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	req := "eval \"return redis.call('incr','mon:y')\" 0\r\nincr\r\n"
	got := strings.Join(monitorLines(t, sb.Addr(), req), " | ")
	if want := `"eval" "return redis.call('incr','mon:y')" "0" | "incr"`; got != want {
		t.Errorf("sandbox's monitor: %s\nwant %s", got, want)
	}
	got = strings.Join(monitorLines(t, real.Addr, req), " | ")
	if want := `"eval" "return redis.call('incr','mon:y')" "0" | "incr" "mon:y"`; got != want {
		t.Errorf("redis-server's monitor: %s\nwant %s", got, want)
	}
}

// screen is what a terminal program printed so far, safe to read
// while it prints.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// waitFor waits until the screen shows want n times, and says
// whether it did within d.
func (s *screen) waitFor(want string, n int, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		if strings.Count(s.String(), want) >= n {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}
