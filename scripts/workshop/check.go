package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
// when it is on PATH (and REDIS_SERVER_SKIP is not 1).
var withServer = realredis.Available()

// storyOnly makes check run only each lesson's first script: the
// self-proving test sets it, since the lessons' own tests already run
// every script of every reference on both backends.
var storyOnly bool

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
	} else if f == nil && !storyOnly {
		// The scripts pass: the lesson's Go tests judge the rest
		// (hostile replies, bounds, requests at once).
		if f, err = goTests(root, name); err != nil {
			return nil, err
		}
	}
	results[key] = f
	return f, nil
}

// goTests runs the Go tests of a lesson, if it has any besides
// main_test.go (which runs the scripts, as Check did), and returns
// the first that failed, with what it logged. go test caches what
// passed: a lesson whose files did not change is not tested again.
func goTests(root, name string) (*lessontest.Failure, error) {
	if !hasGoTests(filepath.Join(root, name)) {
		return nil, nil
	}
	// -trimpath: the packages a lesson's tests use are compiled
	// once for every copy of the repository, wherever it is (the
	// workshop's own tests check copies in temporary folders).
	cmd := exec.Command("go", "test", "-trimpath", "-json", "-skip", "^TestScripts$", "./"+name)
	cmd.Dir = root
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("go test ./%s: %v", name, err)
	}
	f := testFailure(name, out)
	if f != nil {
		if err := f.UseHints(filepath.Join(root, name)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// hasGoTests says whether the lesson in dir has Go tests besides
// main_test.go, which runs its scripts.
func hasGoTests(dir string) bool {
	tests, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	return len(tests) > 1
}

// testFailure reads go test -json's events: the first test that
// failed, and the lines it logged; or the build's errors.
func testFailure(name string, events []byte) *lessontest.Failure {
	type event struct{ Action, Test, Output string }
	logs := map[string][]string{}
	var failed, running []string
	var build []string
	pkgFailed := false
	dec := json.NewDecoder(bytes.NewReader(events))
	for {
		var e event
		if dec.Decode(&e) != nil {
			break
		}
		top, _, _ := strings.Cut(e.Test, "/")
		switch {
		case e.Action == "build-output":
			build = append(build, e.Output)
		case e.Action == "run" && e.Test == top:
			running = append(running, top)
		case (e.Action == "pass" || e.Action == "skip") && e.Test == top:
			running = slices.DeleteFunc(running, func(t string) bool { return t == top })
		case e.Action == "output":
			line := strings.TrimRight(e.Output, "\n")
			t := strings.TrimSpace(line)
			if t != "" && !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- ") &&
				t != "FAIL" && !strings.HasPrefix(t, "FAIL\t") && !strings.HasPrefix(t, "exit status ") {
				logs[top] = append(logs[top], clipLine(t))
			}
		case e.Action == "fail" && e.Test == "":
			pkgFailed = true
		case e.Action == "fail" && !slices.Contains(failed, top):
			failed = append(failed, top)
		}
	}
	// A test binary that exited in the middle of a test (the lesson
	// called fail): the test that was running is the one.
	if len(failed) == 0 && pkgFailed && len(running) > 0 {
		failed = running[len(running)-1:]
		logs[failed[0]] = append(logs[failed[0]], logs[""]...)
	}
	if len(failed) == 0 {
		if len(build) > 0 {
			return buildFailure(name, strings.Join(build, ""))
		}
		if pkgFailed {
			return &lessontest.Failure{Lesson: name, Step: "go test ./" + name,
				Mistakes: []string{"gotest"}, Detail: strings.Join(logs[""], "\n")}
		}
		return nil
	}
	t := failed[0]
	ls := logs[t]
	if len(ls) > 6 {
		ls = append(ls[:6], "...")
	}
	return &lessontest.Failure{
		Lesson:   name,
		Step:     fmt.Sprintf("go test ./%s -run '^%s$'", name, t),
		Mistakes: []string{t, "gotest"},
		Detail:   t + " failed:\n  | " + strings.Join(ls, "\n  | "),
	}
}

// clipLine cuts a line of a test's output to about 160 columns.
func clipLine(s string) string {
	if r := []rune(s); len(r) > 160 {
		return string(r[:160]) + "..."
	}
	return s
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
