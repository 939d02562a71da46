package lessontest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
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
	testscript.Main(m, map[string]func(){
		"01-ping":      trimmedPing,
		"02-incr":      incrWithoutClose,
		"03-subscribe": fixedSizeReads,
		"01-ping-lies": pingThatLies,
		"01-ping-trim": trimmedAll,
		"01-ping-buf":  wholeBuffer,
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
		"lies": "01-ping-lies", "crlf-golden": "01-ping",
		"trimmed": "01-ping-trim", "whole-buffer": "01-ping-buf",
	}
	// Every broken lesson has its message; -update adds a new one's.
	for name := range broken {
		if !slices.ContainsFunc(want.Files, func(f txtar.File) bool { return f.Name == name+".message" }) {
			if !*update {
				t.Errorf("testdata/workshop.txtar has no %s.message: run go test -args -update", name)
				continue
			}
			want.Files = append(want.Files, txtar.File{Name: name + ".message"})
		}
	}
	checkWire = true
	for i := range want.Files {
		f := &want.Files[i]
		name := strings.TrimSuffix(f.Name, ".message")
		t.Run(name, func(t *testing.T) {
			lesson = broken[name]
			rec := &recorder{}
			testscript.RunT(rec, testscript.Params{
				Files:               []string{filepath.Join(dir, name+".txtar")},
				RequireExplicitExec: true,
				Setup:               setup(backends[0], dir, false),
				Cmds:                commands,
			})
			if !rec.failed {
				t.Fatalf("the broken lesson passed its golden check:\n%s", rec.log.String())
			}
			log := rec.log.String()
			start := strings.Index(log, "FAIL: ")
			if start < 0 {
				t.Fatalf("no FAIL line in:\n%s", log)
			}
			_, got, _ := strings.Cut(log[start:], ": ")
			_, got, _ = strings.Cut(got, ": ")           // past file:line
			got, _, _ = strings.Cut(got, "\n        \n") // testscript's end of log
			got = strings.TrimRight(got, " \n") + "\n"
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
