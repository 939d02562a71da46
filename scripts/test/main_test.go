package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMain is also the test program that TestResults runs: the
// environment tells it what to do.
func TestMain(m *testing.M) {
	switch os.Getenv("TEST_PROGRAM") {
	case "pass":
		fmt.Println("PASS")
		os.Exit(0)
	case "fail":
		fmt.Println("--- FAIL: TestSomething (0.00s)\n    x_test.go:1: wrong\nFAIL")
		os.Exit(1)
	case "die":
		fmt.Print("half a line")
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// TestResults runs a kept test program three ways (it passes, it
// fails, it exits without saying FAIL) and checks that each reads as
// go test prints it. The program is this test's own binary, copied
// under a package's name.
func TestResults(t *testing.T) {
	bin := t.TempDir()
	exe := "pkg.test"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, exe), self, 0o755); err != nil {
		t.Fatal(err)
	}
	p := pkg{path: "example/pkg", dir: t.TempDir(), tests: true}
	for _, c := range []struct {
		how  string
		ok   bool
		want []string // in order
	}{
		{"pass", true, []string{"ok  \texample/pkg\t"}},
		{"fail", false, []string{"--- FAIL: TestSomething", "FAIL\nFAIL\texample/pkg\t"}},
		{"die", false, []string{"half a line\nFAIL\texample/pkg\t"}},
	} {
		t.Setenv("TEST_PROGRAM", c.how)
		r := p.test(bin, os.Getenv("PATH"), 1, false)
		rest := r.out
		for _, w := range c.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: got %q, want %q in it", c.how, r.out, w)
				break
			}
			rest = rest[i+len(w):]
		}
		if r.ok != c.ok {
			t.Errorf("%s: ok = %v, want %v", c.how, r.ok, c.ok)
		}
	}
}
