package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"redis-by-hand/internal/lessonbin"
	"redis-by-hand/internal/lessontest"
	"redis-by-hand/internal/realredis"
)

// check runs the lessons that args name (all by default) in order, on
// the embedded Redis, and on redis-server too when it is on PATH. It
// stops at the first lesson that fails: it prints the progress line,
// then what went wrong, in short. ok is true when every lesson passed.
func check(w io.Writer, root string, args []string) (ok bool, err error) {
	all, err := lessons(root)
	if err != nil {
		return false, err
	}
	names, err := selectLessons(all, args)
	if err != nil {
		return false, err
	}
	if withServer {
		say(w, "redis-server is on PATH: each lesson runs on it too, after the embedded Redis.")
	}
	// Each lesson is built while the one before it runs: the build
	// is most of a check's time when a lesson fails at once.
	builds := map[string]func() (string, string, error){}
	build := func(i int) {
		if i >= len(names) || builds[names[i]] != nil {
			return
		}
		// No build for a lesson whose result is known.
		key, err := fingerprint(filepath.Join(root, names[i]), withServer)
		if _, ok := results[key]; ok && err == nil {
			builds[names[i]] = func() (string, string, error) { return "", "", nil }
			return
		}
		builds[names[i]] = startBuild(root, names[i])
	}
	var failure *lessontest.Failure
	passed := 0
	for i, name := range names {
		build(i)
		build(i + 1)
		failure, err = checkLesson(root, name, withServer, builds[name])
		if err != nil {
			return false, err
		}
		if failure != nil {
			break
		}
		passed++
	}
	say(w, "%s", progress(names, passed, failure != nil))
	if failure == nil {
		if len(names) == len(all) {
			say(w, "Every lesson passes.")
		} else {
			verb := "passes"
			if len(names) > 1 {
				verb = "pass"
			}
			say(w, "%s %s%s.", strings.Join(names, ", "), verb, nextOf(all, names))
		}
		return true, nil
	}
	fmt.Fprint(w, "\n", failure.Brief())
	name := names[passed]
	say(w, "\nEdit %s/main.go, then: make check %s   (the reference: make solutions)",
		name, name[:2])
	return false, nil
}

// nextOf says which lesson comes after the last of names, if any.
func nextOf(all, names []string) string {
	last := names[len(names)-1]
	for i, l := range all {
		if l == last && i+1 < len(all) {
			return "; next: " + all[i+1]
		}
	}
	return ""
}

// progress is the line ✓ 01-ping  ✗ 02-incr  · 03-subscribe   (1/3).
func progress(names []string, passed int, failed bool) string {
	var b strings.Builder
	for i, n := range names {
		mark := "·"
		switch {
		case i < passed:
			mark = "✓"
		case i == passed && failed:
			mark = "✗"
		}
		fmt.Fprintf(&b, "%s %s  ", mark, n)
	}
	fmt.Fprintf(&b, " (%d/%d)", passed, len(names))
	return b.String()
}

// withServer says whether check runs the lessons on redis-server too:
// when it is on PATH.
// storyOnly makes check run only each lesson's first script: the
// self-proving test sets it, since the lessons' own tests already run
// every script of every reference on both backends.
var storyOnly bool

var withServer = func() bool {
	_, err := exec.LookPath(realredis.Binary)
	return err == nil
}()

// results remembers, within one process, how each version of a lesson
// fared: a lesson whose files have not changed is not run again.
var results = map[[32]byte]*lessontest.Failure{}

// checkLesson builds a lesson and runs its scripts.
func checkLesson(root, name string, withServer bool, built func() (string, string, error)) (*lessontest.Failure, error) {
	dir := filepath.Join(root, name)
	key, err := fingerprint(dir, withServer)
	if err != nil {
		return nil, err
	}
	if f, ok := results[key]; ok {
		return f, nil
	}
	var f *lessontest.Failure
	var exit *exec.ExitError
	if bin, out, err := built(); errors.As(err, &exit) {
		f = buildFailure(name, out)
	} else if err != nil {
		return nil, fmt.Errorf("building %s: %v", name, err)
	} else if f, err = lessontest.Check(dir, bin, withServer, storyOnly); err != nil {
		return nil, err
	}
	results[key] = f
	return f, nil
}

// startBuild builds a lesson in the background; the function it
// returns waits for the build and gives the program's folder, or the
// compiler's output.
func startBuild(root, name string) func() (string, string, error) {
	var dir string
	var out []byte
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		dir, out, err = lessonbin.Build(root, name)
	}()
	return func() (string, string, error) {
		<-done
		return dir, string(out), err
	}
}

// buildFailure is a lesson that does not compile: the compiler's
// first lines say where.
func buildFailure(name, out string) *lessontest.Failure {
	var lines []string
	for line := range strings.Lines(out) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if len(lines) == 6 {
			lines = append(lines, "...")
			break
		}
		lines = append(lines, "  "+strings.TrimRight(line, "\n"))
	}
	return &lessontest.Failure{
		Lesson:   name,
		Step:     "go build ./" + name,
		Mistakes: []string{"build"},
		Detail:   "it does not compile:\n" + strings.Join(lines, "\n"),
	}
}

// fingerprint covers what a lesson's check depends on: its files.
func fingerprint(dir string, withServer bool) ([32]byte, error) {
	h := sha256.New()
	fmt.Fprintln(h, withServer, storyOnly)
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return [32]byte{}, err
	}
	more, _ := filepath.Glob(filepath.Join(dir, "testdata", "*"))
	for _, f := range append(files, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			return [32]byte{}, err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return [32]byte(h.Sum(nil)), nil
}
