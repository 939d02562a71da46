package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"redis-by-hand/internal/lessonbin"
	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/sandbox"
)

// preflight readies a laptop for the workshop and says what is
// missing: the Go version, a build of everything (which fills the
// caches that make check and make test use), the lessons' programs,
// one round trip on the embedded Redis. It ends with "ready", or
// with each problem and how to fix it; ok says which.
func preflight(w io.Writer, root string) (ok bool, err error) {
	start := time.Now()
	var problems []string
	problem := func(format string, a ...any) {
		problems = append(problems, fmt.Sprintf(format, a...))
		say(w, "  ✗ "+format, a...)
	}
	good := func(format string, a ...any) { say(w, "  ✓ "+format, a...) }
	say(w, "make preflight: is this machine ready for the workshop? A first run compiles everything: a few minutes on 2 cores.")

	// Go: the version go.mod asks for, or newer.
	want, err := goLine(root)
	if err != nil {
		return false, err
	}
	have := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		have = strings.TrimSpace(string(out))
	}
	if newer(strings.TrimPrefix(have, "go"), want) {
		good("Go %s (the lessons need %s or newer)", strings.TrimPrefix(have, "go"), want)
	} else {
		problem("Go %s is too old: install Go %s or newer (https://go.dev/dl/), then run make preflight again", have, want)
	}

	// Everything compiles: the modules are there, and the compiled
	// packages are cached for make check and make test. (go vet
	// compiles every package it checks, and links no program: the
	// lessons' programs come next.)
	for _, args := range [][]string{{"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			problem("go %s failed:\n%s    %s", strings.Join(args, " "), indent(string(out), 6),
				"Modules missing and no network? See docs/workshop.md, \"Without network\".")
		} else {
			good("go %s: everything compiles (%v so far)", strings.Join(args, " "), time.Since(start).Round(time.Second))
		}
	}

	// The lessons' programs, as make check builds them.
	names, err := lessons(root)
	if err != nil {
		return false, err
	}
	built := 0
	for _, name := range names {
		if _, out, err := lessonbin.Build(root, name); err != nil {
			problem("%s does not build: %v\n%s", name, err, indent(string(out), 6))
		} else {
			built++
		}
	}
	if built == len(names) {
		good("the %d lessons' programs are built for make check", built)
	}

	// One round trip on the embedded Redis.
	if reply, err := roundTrip(); err != nil {
		problem("the embedded Redis did not answer PING: %v (is a firewall in the way of 127.0.0.1?)", err)
	} else {
		good("the embedded Redis answers: %q", reply)
	}

	// What is optional.
	if realredis.Available() {
		good("redis-server is on PATH: make check runs each lesson on it too")
	} else {
		say(w, "  · redis-server is not on PATH: optional, the embedded Redis is enough")
	}
	if _, err := exec.LookPath("make"); err != nil {
		say(w, "  · make is not on PATH: use go run ./scripts/workshop (docs/workshop.md lists each command)")
	}

	if len(problems) > 0 {
		say(w, "\nnot ready: %d problem(s) above, each with what to do.", len(problems))
		return false, nil
	}
	say(w, "\nready (%v)", time.Since(start).Round(100*time.Millisecond))
	return true, nil
}

// roundTrip sends PING to a fresh embedded Redis and returns its reply.
func roundTrip() (string, error) {
	s, err := sandbox.Start("127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer s.Close()
	c, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		return "", err
	}
	reply, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && reply != "+PONG\r\n" {
		err = fmt.Errorf("it answered %q", reply)
	}
	return reply, err
}

// goLine is the Go version that go.mod asks for: "1.25".
func goLine(root string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "go" {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("go.mod has no go line")
}

// newer says whether Go version have ("1.26.1") is want ("1.25") or
// newer.
func newer(have, want string) bool {
	h, w := strings.Split(have, "."), strings.Split(want, ".")
	for i := range w {
		if i >= len(h) {
			return false
		}
		// "1.26rc1": the digits before anything else.
		d := h[i]
		if j := strings.IndexFunc(d, func(r rune) bool { return r < '0' || r > '9' }); j >= 0 {
			d = d[:j]
		}
		hn, _ := strconv.Atoi(d)
		wn, _ := strconv.Atoi(w[i])
		if hn != wn {
			return hn > wn
		}
	}
	return true
}

// indent puts n blanks before each line of s.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for line := range strings.Lines(strings.TrimRight(s, "\n")) {
		b.WriteString(pad + line)
	}
	return strings.TrimRight(b.String(), "\n")
}
