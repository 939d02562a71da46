package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer that watch writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits until the output holds want: an event, bounded by a
// minute for a busy machine.
func waitFor(t *testing.T, out interface{ String() string }, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWatch: make watch checks the exercises, then, when a solution
// is saved, checks again and the progress moves on; cancelled (Ctrl-C),
// it returns no error.
func TestWatch(t *testing.T) {
	inTurn(t)
	root := copyFiles(t, lessonFiles(t, false, "01-ping", "02-incr"))
	var out bytes.Buffer
	if err := makeExercises(&out, root, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var w syncBuffer
	done := make(chan error, 1)
	go func() { done <- watch(ctx, &w, root, []string{"01", "02"}, 50*time.Millisecond) }()
	// Stopped before the test ends, failed or not: the next test to
	// run make check here must not have a watch running beside it.
	var stopped error
	stop := sync.OnceFunc(func() { cancel(); stopped = <-done })
	t.Cleanup(stop)
	waitFor(t, &w, "✗ 01-ping  · 02-incr   (0/2)")
	waitFor(t, &w, "Ctrl-C")
	if err := os.WriteFile(filepath.Join(root, "01-ping", "main.go"),
		read(t, solutionPath(root, "01-ping")), 0o666); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &w, "✓ 01-ping  ✗ 02-incr   (1/2)")
	if stop(); stopped != nil {
		t.Errorf("watch, cancelled: %v", stopped)
	}
}

// TestWatchInterrupted: the program, sent Ctrl-C while it watches,
// says so and exits 0.
func TestWatchInterrupted(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no os.Interrupt to send on Windows")
	}
	t.Parallel()
	root := copyFiles(t, lessonFiles(t, false, "01-ping"))
	var out syncBuffer
	// The test binary, as the program (TestMain): workshop watch 01.
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), mainEnv+"=watch 01")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, &out, "Ctrl-C")
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch, interrupted: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "Stopped watching.") {
		t.Errorf("watch does not say it stopped:\n%s", out.String())
	}
}

// TestPreflight: on a fresh copy of the repository, make preflight
// ends with ready.
//
// It runs on the repository itself: make preflight only reads the
// tree and fills the caches, and the compiled packages of a copy in
// another folder would all be compiled again.
func TestPreflight(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ok, err := preflight(&out, root)
	if err != nil || !ok || !strings.Contains(out.String(), "\nready (") {
		t.Fatalf("make preflight: %v, %v:\n%s", ok, err, out.String())
	}
	t.Logf("\n%s", out.String())
}

// TestNewer: Go versions compare by number.
func TestNewer(t *testing.T) {
	for _, tt := range []struct {
		have, want string
		ok         bool
	}{
		{"1.26.1", "1.25", true}, {"1.25", "1.25", true}, {"1.25.0", "1.25", true},
		{"1.24.9", "1.25", false}, {"1.3", "1.25", false}, {"1.26rc1", "1.25", true},
		{"2.0", "1.25", true},
	} {
		if got := newer(tt.have, tt.want); got != tt.ok {
			t.Errorf("newer(%q, %q) = %v", tt.have, tt.want, got)
		}
	}
}

// TestDevcontainer: the Codespace definition parses, starts from a Go
// image, and runs make preflight once created.
func TestDevcontainer(t *testing.T) {
	data := read(t, filepath.Join("..", "..", ".devcontainer", "devcontainer.json"))
	var dc struct {
		Image             string
		PostCreateCommand string
	}
	if err := json.Unmarshal(data, &dc); err != nil {
		t.Fatalf("devcontainer.json: %v", err)
	}
	if !strings.Contains(dc.Image, "/go:") {
		t.Errorf("devcontainer.json: image %q is no Go image", dc.Image)
	}
	if dc.PostCreateCommand != "make preflight" {
		t.Errorf("devcontainer.json: postCreateCommand %q, want make preflight", dc.PostCreateCommand)
	}
}
