package main

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	pathpkg "path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"redis-by-hand/internal/lessontest"
)

// TestExercisesProveThemselves does, on a copy of the lessons, what
// a workshop does: make workshop, make check, then the reference
// solutions put back one at a time. make check must fail at each
// exercise and pass each reference, so that progress climbs to N/N;
// make solutions must then leave the copy as it was. It runs the
// lessons on the embedded Redis only: the lessons' own tests run them
// on redis-server too.
func TestExercisesProveThemselves(t *testing.T) {
	inTurn(t)
	start := time.Now()
	root := copyRepo(t)
	t.Logf("%v: the copy is made", time.Since(start))
	names, err := lessons(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		h, err := lessontest.ReadHints(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if len(h.Order) == 0 {
			t.Errorf("%s has no hints: write %s/testdata/hints.txt (see 01-ping's)", name, name)
		}
	}

	var out bytes.Buffer
	if err := makeExercises(&out, root, false); err != nil {
		t.Fatalf("make workshop: %v", err)
	}
	exercises := map[string][]byte{}
	for _, name := range names {
		exercises[name] = read(t, filepath.Join(root, name, "main.go"))
		if !isExercise(exercises[name]) {
			t.Errorf("%s/main.go is not an exercise after make workshop", name)
		}
		if bytes.Equal(exercises[name], read(t, solutionPath(root, name))) {
			t.Fatalf("%s: the exercise is the reference", name)
		}
	}
	// Twice: it refuses, and changes nothing.
	os.WriteFile(filepath.Join(root, names[0], "main.go"), []byte("package main\n\n// my work\nfunc main() {}\n"), 0o666)
	if err := makeExercises(&out, root, false); err == nil {
		t.Errorf("make workshop ran twice without -force")
	}
	if got := read(t, filepath.Join(root, names[0], "main.go")); !bytes.Contains(got, []byte("// my work")) {
		t.Errorf("make workshop, run twice, replaced the attendee's %s/main.go", names[0])
	}
	os.WriteFile(filepath.Join(root, names[0], "main.go"), exercises[names[0]], 0o666)

	checkSample(t, root)
	t.Logf("%v: make workshop, and the CRLF sample", time.Since(start))

	for k := 0; k <= len(names); k++ {
		out.Reset()
		ok, err := check(&out, root, nil)
		if err != nil {
			t.Fatalf("make check: %v", err)
		}
		got := out.String()
		t.Logf("%v: make check with %d references back", time.Since(start), k)
		if k == len(names) {
			if !ok || !strings.Contains(got, progress(names, k, false)) {
				t.Fatalf("with every reference solution back, make check says:\n%s", got)
			}
			break
		}
		want := progress(names, k, true)
		if strings.Contains(got, "it does not compile") {
			// An attendee starts from an exercise that builds.
			t.Fatalf("%s: its exercise does not compile:\n%s", names[k], got)
		}
		if !ok && strings.Contains(got, want) && strings.Contains(got, "\nhint: ") {
			// Solve the exercise with its reference.
			if err := os.WriteFile(filepath.Join(root, names[k], "main.go"),
				read(t, solutionPath(root, names[k])), 0o666); err != nil {
				t.Fatal(err)
			}
			continue
		}
		switch {
		case ok || strings.Contains(got, "✓ "+names[k]):
			t.Errorf("%s: its exercise passes make check: the exercise must fail "+
				"until it is written", names[k])
		case !strings.Contains(got, "\nhint: "):
			t.Errorf("%s: its exercise fails with no hint: write one in %s/testdata/hints.txt; make check says:\n%s",
				names[k], names[k], got)
		default:
			t.Errorf("%s: with the reference solutions of the lessons before it, "+
				"make check should show\n%s\nbut says:\n%s", names[k], want, got)
		}
		t.FailNow()
	}

	if err := restoreSolutions(&out, root); err != nil {
		t.Fatalf("make solutions: %v", err)
	}
	if st := git(t, root, "status", "--porcelain"); st != "" {
		t.Errorf("make solutions left the copy changed:\n%s", st)
	}
}

// checkSample runs make check on an attendee's 01-ping that trims the
// reply's \r\n (testdata/crlf.txtar), and compares what it prints with
// check.out there, which docs/README.md shows. It must stay short.
func checkSample(t *testing.T, root string) {
	t.Helper()
	arch, err := txtar.ParseFile(filepath.Join("testdata", "crlf.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	var wantOut *txtar.File
	for i, f := range arch.Files {
		if f.Name == "check.out" {
			wantOut = &arch.Files[i]
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(f.Name))
		old := read(t, path)
		if err := os.WriteFile(path, f.Data, 0o666); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(path, old, 0o666)
	}
	var out bytes.Buffer
	if ok, err := check(&out, root, nil); ok || err != nil {
		t.Fatalf("make check passed the CRLF mistake (%v):\n%s", err, out.String())
	}
	got := out.String()
	if n := strings.Count(got, "\n"); n > 15 {
		t.Errorf("make check explains the CRLF mistake in %d lines, more than 15:\n%s", n, got)
	}
	switch {
	case lessontest.Updating():
		wantOut.Data = []byte(got)
		if err := os.WriteFile(filepath.Join("testdata", "crlf.txtar"), txtar.Format(arch), 0o666); err != nil {
			t.Fatal(err)
		}
	case wantOut == nil:
		t.Fatal("testdata/crlf.txtar has no check.out: run go test ./scripts/workshop -args -update")
	case string(wantOut.Data) != got:
		t.Errorf("make check's message changed (go test ./scripts/workshop -args -update):\n%s", got)
	}
}

// copyRepo copies what make workshop, make check (of the scripts, as
// here) and make solutions read, with the reference solutions in
// place if the repository is in workshop mode, to a temporary folder,
// and commits it there: go.mod, go.sum, .gitignore and the lessons.
func copyRepo(t *testing.T) string {
	t.Helper()
	names, err := lessons(repoDir(t))
	if err != nil {
		t.Fatal(err)
	}
	keep := lessonFiles(t, false, names...)
	dst := copyFiles(t, func(path string) bool { return path == ".gitignore" || keep(path) })
	git(t, dst, "init", "-q")
	git(t, dst, "add", "-A")
	git(t, dst, "-c", "user.name=workshop", "-c", "user.email=workshop@example.com",
		"commit", "-q", "-m", "copy")
	return dst
}

// copyFiles copies the repository's files that git would keep and
// keep accepts (by their paths from the root, with slashes), with the
// reference solutions in place if the repository is in workshop mode,
// to a temporary folder. A test that needs a few lessons copies only
// what it reads: creating files is most of a copy's cost.
func copyFiles(t *testing.T, keep func(path string) bool) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH: it lists the files to copy, and a copy's git status is a test")
	}
	src := repoDir(t)
	dst := t.TempDir()
	files := strings.Split(strings.TrimRight(
		git(t, src, "ls-files", "-z", "--cached", "--others", "--exclude-standard"), "\x00"), "\x00")
	for _, f := range files {
		if !keep(f) {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, f))
		if os.IsNotExist(err) {
			continue // deleted, not yet committed
		}
		if err != nil {
			t.Fatal(err)
		}
		// In workshop mode, the lessons are exercises: take the references.
		if ref, err := os.ReadFile(filepath.Join(src, stateDir, "solutions", f)); err == nil {
			data = ref
		}
		path := filepath.Join(dst, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(path), 0o777)
		if err := os.WriteFile(path, data, 0o666); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// lessonFiles accepts what make workshop and make check read of the
// lessons named: go.mod and go.sum, the lessons' folders, and the Go
// files (tests aside) of this module's packages that the lessons'
// tests import, directly or not, since make check runs those tests
// with go test. withTests false leaves the packages out: enough when
// make check runs only the scripts (storyOnly, or a lesson with no
// Go tests but main_test.go: hasGoTests).
func lessonFiles(t *testing.T, withTests bool, names ...string) func(path string) bool {
	t.Helper()
	src := repoDir(t)
	module := ""
	for line := range strings.Lines(string(read(t, filepath.Join(src, "go.mod")))) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			module = strings.Trim(f[1], `"`)
		}
	}
	if module == "" {
		t.Fatal("go.mod names no module")
	}
	pkgs := map[string]bool{} // the packages' folders, with slashes
	var visit func(dir string, tests bool)
	visit = func(dir string, tests bool) {
		files, err := filepath.Glob(filepath.Join(src, filepath.FromSlash(dir), "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if !tests && strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if rel, ok := strings.CutPrefix(p, module+"/"); ok && !pkgs[rel] {
					pkgs[rel] = true
					visit(rel, false)
				}
			}
		}
	}
	if withTests {
		for _, name := range names {
			visit(name, true)
		}
	}
	return func(path string) bool {
		if path == "go.mod" || path == "go.sum" {
			return true
		}
		for _, name := range names {
			if strings.HasPrefix(path, name+"/") {
				return true
			}
		}
		return pkgs[pathpkg.Dir(path)] && strings.HasSuffix(path, ".go") &&
			!strings.HasSuffix(path, "_test.go")
	}
}

// repoDir is the repository's root, two folders up.
func repoDir(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestMain keeps the check to the embedded Redis, whatever is on PATH,
// and to each lesson's main story: the lessons' own tests run every
// script of every reference on both backends; here it is enough that
// each exercise fails its story and each reference passes it.
//
// Started with WORKSHOP_MAIN set, the test binary is the program
// itself: main runs with WORKSHOP_MAIN's words as its arguments
// ("watch 01"). A test then runs the program without linking it.
func TestMain(m *testing.M) {
	lessontest.Recorder()
	withServer = false
	storyOnly = true
	if args, ok := os.LookupEnv(mainEnv); ok {
		os.Args = append([]string{"workshop"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// mainEnv makes the test binary run main (TestMain).
const mainEnv = "WORKSHOP_MAIN"

// The tests run side by side, most of them waiting on lessons and
// servers, but make check keeps its state in the process (the
// lessons' results; in lessontest, the lesson it runs): the tests
// that run it here, rather than in a process of their own, take
// turns.
var checking sync.Mutex

// inTurn makes t a parallel test that runs make check in this
// process: it waits for its turn, and ends it when t ends.
func inTurn(t *testing.T) {
	t.Helper()
	t.Parallel()
	checking.Lock()
	t.Cleanup(checking.Unlock)
}

// TestYoursPerRound runs two rounds of make workshop and make
// solutions: each round's files go to a folder of their own, which
// the message names, with only that round's files in it.
func TestYoursPerRound(t *testing.T) {
	t.Parallel()
	names, err := lessons(repoDir(t))
	if err != nil || len(names) < 2 {
		t.Fatalf("lessons: %v %v", names, err)
	}
	// The first two lessons are enough.
	names = names[:2]
	root := copyFiles(t, lessonFiles(t, false, names...))
	var dirs []string
	for round, name := range names[:2] {
		var out bytes.Buffer
		if err := makeExercises(&out, root, false); err != nil {
			t.Fatalf("round %d: make workshop: %v", round+1, err)
		}
		mine := []byte("package main\n\n// round " + name + "\nfunc main() {}\n")
		os.WriteFile(filepath.Join(root, name, "main.go"), mine, 0o666)
		out.Reset()
		if err := restoreSolutions(&out, root); err != nil {
			t.Fatalf("round %d: make solutions: %v", round+1, err)
		}
		_, dir, ok := strings.Cut(out.String(), "Your versions of "+name+" are in ")
		dir, _, _ = strings.Cut(dir, " ")
		if !ok || dir == "" {
			t.Fatalf("round %d: make solutions does not say where %s went:\n%s", round+1, name, out.String())
		}
		got, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(dir), "*", "main.go"))
		if err != nil || len(got) != 1 || !bytes.Equal(read(t, got[0]), mine) {
			t.Errorf("round %d: %s holds %v, want only %s/main.go", round+1, dir, got, name)
		}
		if slices.Contains(dirs, dir) {
			t.Errorf("round %d: %s was used by an earlier round too", round+1, dir)
		}
		dirs = append(dirs, dir)
	}
}

// TestExerciseTodos reads the exercises that make workshop writes for
// the lessons here: each TODO says what is sent and printed, with the
// bytes of the lesson's main story, in the order a run prints them,
// and never breaks a quoted string across comment lines.
func TestExerciseTodos(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	names, err := lessons(root)
	if err != nil {
		t.Fatal(err)
	}
	todos := map[string]string{}
	for _, name := range names {
		ref, err := os.ReadFile(solutionPath(root, name))
		if err != nil {
			ref = read(t, filepath.Join(root, name, "main.go"))
		}
		plumbing, err := funcs(filepath.Join(root, name, "conn.go"))
		if err != nil {
			t.Fatal(err)
		}
		out, from, err := lessontest.Story(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		ex, err := exercise(name, ref, plumbing, out, from)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		// The TODOs, one per line, as the attendee reads them.
		var all []string
		for line := range strings.Lines(string(ex)) {
			text, ok := strings.CutPrefix(strings.TrimSpace(line), "//")
			if !ok || strings.HasPrefix(text, "\t") {
				continue
			}
			if open := quoted(text); open != 0 {
				t.Errorf("%s: a comment line breaks a quoted string (%c):\n%s", name, open, line)
			}
			if strings.HasPrefix(text, " TODO ") {
				all = append(all, "")
			}
			if len(all) > 0 && strings.TrimSpace(text) != "" {
				all[len(all)-1] += text
			}
		}
		todos[name] = strings.Join(all, "\n")
		// The first Send: of the story says what the lesson sends.
		for line := range strings.Lines(out) {
			if strings.HasPrefix(line, "Send: ") {
				if !strings.Contains(todos[name], "`"+strings.TrimSuffix(line, "\n")+"`") {
					t.Errorf("%s: no TODO says %s", name, line)
				}
				break
			}
		}
	}
	for name, want := range map[string][]string{
		"01-ping": {`expect(reply, "+")`, "net.DialTimeout", "`Send: \"ping\\n\"` (with \"Send: %q\\n\") and send those bytes"},
		"03-subscribe": {"readReply(r)", "SetDeadline(time.Time{})", `"%q: length not in -1..64Mi"`,
			"fmt.Sprintf(\"*3\\r\\n$9\\r\\nsubscribe\\r\\n$%d\\r\\n%s\\r\\n:\", len(channel), channel)"},
		"05-pipeline": {`"%s: timing %d INCRs one at a time, then pipelined...\n"`, `"-n must be from 1 to 1000000"`},
	} {
		for _, w := range want {
			if !strings.Contains(todos[name], w) {
				t.Errorf("%s: no TODO says %s:\n%s", name, w, todos[name])
			}
		}
	}
	// 03 prints each reply, then, on Ctrl-C, Close the connection.
	for todo := range strings.Lines(todos["03-subscribe"]) {
		r, c := strings.Index(todo, "`Received: "), strings.Index(todo, `"Close the connection" on Ctrl-C`)
		if (r >= 0 || c >= 0) && !(0 <= r && r < c) {
			t.Errorf("03-subscribe: a TODO does not say Received:, then Close on Ctrl-C:\n%s", todo)
		}
	}
}

// quoted says which quote, " or `, a line leaves open, or 0.
func quoted(line string) byte {
	var q byte
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case q == '"' && c == '\\':
			i++
		case q != 0 && c == q:
			q = 0
		case q == 0 && (c == '"' || c == '`'):
			q = c
		}
	}
	return q
}

// TestDoesNotCompile: an attempt that does not build fails make check
// with the compiler's first error, file and line, and its hint.
func TestDoesNotCompile(t *testing.T) {
	inTurn(t)
	root := t.TempDir()
	for name, text := range map[string]string{
		"go.mod":                  "module example.com/lessons\n\ngo 1.25\n",
		"01-x/main.go":            "package main\n\nfunc main() { undefined() }\n",
		"01-x/testdata/hints.txt": "",
	} {
		path := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(path), 0o777)
		if err := os.WriteFile(path, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if ok, err := check(&out, root, nil); ok || err != nil {
		t.Fatalf("make check on a lesson that does not compile: %v, %v\n%s", ok, err, out.String())
	}
	for _, want := range []string{"✗ 01-x", "> go build ./01-x", "it does not compile:",
		"01-x/main.go:3:15: undefined: undefined", "hint: the lesson does not compile"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("make check does not say %q:\n%s", want, out.String())
		}
	}
}
