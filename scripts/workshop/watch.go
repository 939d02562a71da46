package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// watch runs check on the lessons that args name whenever a file of
// a lesson is saved, until ctx ends (Ctrl-C), as rustlings does. It
// polls: no dependency, and it works the same on every system. Each
// round starts with check's progress line; on a terminal, the screen
// is cleared first, so that the progress stays on top.
func watch(ctx context.Context, w io.Writer, root string, args []string, every time.Duration) error {
	last := ""
	for {
		state, err := saved(root)
		if err != nil {
			return err
		}
		if state != last {
			last = state
			if isTerminal(w) {
				fmt.Fprint(w, "\033[H\033[2J")
			}
			if _, err := check(w, root, args); err != nil {
				if ctx.Err() != nil {
					return nil // Ctrl-C in the middle of a check
				}
				return err
			}
			say(w, "\nWatching the lessons: save a file to check again. Ctrl-C (or q) ends.")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}

// saved sums up the lessons' files as they are on disk: their names,
// sizes and times. A save changes it.
func saved(root string) (string, error) {
	var files []string
	for _, pattern := range []string{"[0-9][0-9]-*/*.go", "[0-9][0-9]-*/testdata/*"} {
		m, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			return "", err
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	var b []byte
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue // removed while we looked
		}
		b = fmt.Appendf(b, "%s %d %d\n", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return string(b), nil
}

// isTerminal says whether w is a terminal, where the screen may be
// cleared.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// keysNoSignals makes Ctrl-C a key that calls stop, on a terminal
// that stty can set: then it reaches this program alone, not make,
// which would print an error and exit 130 for a watch that ended as
// it should. It returns what puts the terminal back, or nil when
// stdin is no such terminal (Ctrl-C is then the usual signal).
func keysNoSignals(stop func()) (restore func()) {
	if !isTerminal(os.Stdout) {
		return nil
	}
	fi, err := os.Stdin.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	stty := func(args ...string) (string, error) {
		cmd := exec.Command("stty", args...)
		cmd.Stdin = os.Stdin
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	saved, err := stty("-g")
	if err != nil {
		return nil
	}
	if _, err := stty("-isig", "-icanon", "-echo", "min", "1"); err != nil {
		return nil
	}
	go func() {
		b := make([]byte, 1)
		for {
			if _, err := os.Stdin.Read(b); err != nil || b[0] == 3 || b[0] == 'q' {
				stop()
				return
			}
		}
	}()
	return func() { stty(saved) }
}
