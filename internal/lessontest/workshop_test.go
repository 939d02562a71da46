package lessontest

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"
)

// The workshop test runs lessons broken the way beginners break them,
// and checks the failure message they would read: see
// testdata/broken/*.txtar for the scripts, and testdata/workshop.txtar
// for the messages.
func TestMain(m *testing.M) {
	Recorder()
	testscript.Main(m, map[string]func(){
		"01-ping":       trimmedPing,
		"02-incr":       incrWithoutClose,
		"03-subscribe":  fixedSizeReads,
		"01-ping-lies":  pingThatLies,
		"01-ping-trim":  trimmedAll,
		"01-ping-buf":   wholeBuffer,
		"01-ping-nochk": pingUnchecked(""),
		"01-ping-chk":   pingUnchecked(":"),
		"03-sub-trust":  trustedLength,
		"01-ping-early": printsFirst,
	})
}

func dialEnv() net.Conn {
	c, err := net.Dial("tcp", os.Getenv("REDIS_ADDR"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return c
}

// trimmedPing trims the reply and adds a line feed back: the \r is lost.
func trimmedPing() {
	c := dialEnv()
	fmt.Printf("Send: %q\n", "ping\n")
	fmt.Fprint(c, "ping\n")
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("Received: %q\n", strings.TrimSpace(reply)+"\n")
	fmt.Println("Close the connection")
	c.Close()
}

// trimmedAll trims the reply's \r\n and prints what is left.
func trimmedAll() {
	c := dialEnv()
	fmt.Printf("Send: %q\n", "ping\n")
	fmt.Fprint(c, "ping\n")
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("Received: %q\n", strings.TrimSpace(reply))
	fmt.Println("Close the connection")
	c.Close()
}

// wholeBuffer reads into 100 bytes and prints all of them, the zeros
// after the reply too.
func wholeBuffer() {
	c := dialEnv()
	fmt.Printf("Send: %q\n", "ping\n")
	fmt.Fprint(c, "ping\n")
	buf := make([]byte, 100)
	c.Read(buf)
	fmt.Printf("Received: %q\n", buf)
	fmt.Println("Close the connection")
	c.Close()
}

// pingUnchecked prints the reply and never judges it, or, with a
// type, judges it by the wrong one: 01-ping without expect(reply, "+").
func pingUnchecked(typ string) func() {
	return func() {
		c := dialEnv()
		fmt.Printf("Send: %q\n", "ping\n")
		fmt.Fprint(c, "ping\n")
		reply, _ := bufio.NewReader(c).ReadString('\n')
		fmt.Printf("Received: %q\n", reply)
		fmt.Println("Close the connection")
		c.Close()
		if typ != "" && !strings.HasPrefix(reply, typ) {
			fmt.Fprintf(os.Stderr, "01-ping: expected a reply that starts with %q\n", typ)
			os.Exit(1)
		}
	}
}

// printsFirst prints what it read before it knows that it is a reply.
func printsFirst() {
	c := dialEnv()
	fmt.Fprint(c, "ping\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("Received: %q\n", line)
	if !strings.HasSuffix(line, "\r\n") || !strings.ContainsAny(line[:1], "+-:$*") {
		fmt.Fprintf(os.Stderr, "01-ping: bad reply: %q\n", line)
		os.Exit(1)
	}
}

// trustedLength believes the length of a bulk string it is sent.
func trustedLength() {
	c := dialEnv()
	fmt.Fprint(c, "subscribe messages\n")
	r := bufio.NewReader(c)
	line, _ := r.ReadString('\n')
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	data := make([]byte, n+2)
	io.ReadFull(r, data)
	fmt.Printf("Received: %q\n", line+string(data))
}

// pingThatLies prints one message and sends another.
func pingThatLies() {
	c := dialEnv()
	fmt.Printf("Send: %q\n", "ping\n")
	fmt.Fprint(c, "PING\r\n")
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("Received: %q\n", reply)
	fmt.Println("Close the connection")
	c.Close()
}

// incrWithoutClose forgets to say that it closes the connection.
func incrWithoutClose() {
	c := dialEnv()
	fmt.Printf("Send: %q\n", "INCR my-key\n")
	fmt.Fprint(c, "INCR my-key\n")
	reply, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Printf("Received: %q\n", reply)
	c.Close()
}

// fixedSizeReads is the blog's loop: read(100), print, repeat.
func fixedSizeReads() {
	c := dialEnv()
	fmt.Printf("Send: %q\n", "subscribe messages\n")
	fmt.Fprint(c, "subscribe messages\n")
	buf := make([]byte, 100)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		fmt.Printf("Received: %q\n", buf[:n])
	}
}

var testmainLine = regexp.MustCompile(`_testmain\.go:\d+`)

func TestWorkshopMessages(t *testing.T) {
	want, err := txtar.ParseFile(filepath.Join("testdata", "workshop.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "broken"))
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]string{ // script: the lesson it breaks
		"crlf": "01-ping", "no-close": "02-incr", "fixed-read": "03-subscribe",
		"lies": "01-ping-lies", "varied-lies": "01-ping-lies", "crlf-golden": "01-ping",
		"trimmed": "01-ping-trim", "whole-buffer": "01-ping-buf",
		"no-check": "01-ping-nochk", "wrong-check": "01-ping-chk",
		"trusted-length": "03-sub-trust", "early-print": "01-ping-early",
	}
	// These fail on their exit status or stderr, not on a golden
	// file: their message is what make check says (name.check).
	checked := map[string]bool{"no-check": true, "wrong-check": true,
		"trusted-length": true, "early-print": true}
	file := func(name string) string {
		if checked[name] {
			return name + ".check"
		}
		return name + ".message"
	}
	// Every broken lesson has its message; -update adds a new one's.
	for _, name := range slices.Sorted(maps.Keys(broken)) {
		if !slices.ContainsFunc(want.Files, func(f txtar.File) bool { return f.Name == file(name) }) {
			if !*update {
				t.Errorf("testdata/workshop.txtar has no %s: run go test -args -update", file(name))
				continue
			}
			want.Files = append(want.Files, txtar.File{Name: file(name)})
		}
	}
	checkWire = true
	for i := range want.Files {
		f := &want.Files[i]
		name := strings.TrimSuffix(strings.TrimSuffix(f.Name, ".message"), ".check")
		if checked[name] {
			t.Run(name, func(t *testing.T) {
				lesson = broken[name]
				fail, err := checkScript(backends[0], filepath.Join(dir, name+".txtar"), dir, t.TempDir())
				if err != nil || fail == nil {
					t.Fatalf("the broken lesson passed its check (%v)", err)
				}
				// A crash here is placed in the test's generated main,
				// whose lines move as tests are added.
				got := testmainLine.ReplaceAllString(fail.Brief(), "_testmain.go:N")
				if n := strings.Count(got, "\n"); n > 15 {
					t.Errorf("make check explains it in %d lines, more than 15:\n%s", n, got)
				}
				if *update {
					f.Data = []byte(got)
				} else if got != string(f.Data) {
					t.Errorf("message changed; got:\n%s\nwant:\n%s", got, f.Data)
				}
			})
			continue
		}
		t.Run(name, func(t *testing.T) {
			lesson = broken[name]
			rec := &recorder{}
			var s *script
			keep := func(env *testscript.Env) error {
				err := setup(backends[0], dir, false)(env)
				s, _ = env.Values[scriptKey{}].(*script)
				return err
			}
			testscript.RunT(rec, testscript.Params{
				Files:               []string{filepath.Join(dir, name+".txtar")},
				RequireExplicitExec: true,
				Setup:               keep,
				Cmds:                commands,
			})
			if !rec.failed {
				t.Fatalf("the broken lesson passed its golden check:\n%s", rec.log.String())
			}
			if s == nil || s.caught == nil {
				t.Fatalf("no golden comparison explained the failure:\n%s", rec.log.String())
			}
			got := strings.TrimRight(s.caught.Message(), " \n") + "\n"
			if *update {
				f.Data = []byte(got)
				return
			}
			if got != string(f.Data) {
				t.Errorf("message changed; got:\n%s\nwant:\n%s", got, f.Data)
			}
		})
	}
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", "workshop.txtar"), txtar.Format(want), 0o666); err != nil {
			t.Fatal(err)
		}
	}
}
