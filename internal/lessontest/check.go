package lessontest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"redis-by-hand/internal/realredis"
)

// fail stops the script with f, told from the step that ran the
// lesson. cmd is the failing command, as written in the script.
func (s *script) fail(ts *testscript.TestScript, f *Failure, cmd string) {
	f.Backend = s.backend
	f.Script = "testdata/" + ts.Name() + ".txtar"
	f.Line, f.Step = stepOf(filepath.Join(s.dir, ts.Name()+".txtar"), cmd)
	if h, err := ReadHints(filepath.Dir(s.dir)); err == nil {
		f.hints = h.Text
	}
	s.caught = f
	ts.Fatalf("%s", f.Message())
}

// stepOf finds cmd in a script and the step before it that ran the
// lesson: its line number and text. Without one, it is cmd's own.
func stepOf(archive, cmd string) (int, string) {
	a, err := txtar.ParseFile(archive)
	if err != nil {
		return 0, cmd
	}
	lines := strings.Split(string(a.Comment), "\n")
	at := slices.IndexFunc(lines, func(l string) bool {
		return strings.Join(strings.Fields(l), " ") == cmd
	})
	if at < 0 {
		return 0, cmd
	}
	for i := at; i >= 0; i-- {
		if isRun(lines[i]) {
			return i + 1, strings.TrimSpace(lines[i])
		}
	}
	return at + 1, cmd
}

// isRun says whether a script line runs the lesson.
func isRun(line string) bool { return isRunOf(line, lesson) }

func isRunOf(line, name string) bool {
	f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "! "))
	return len(f) > 1 && f[0] == "exec" && strings.Contains(line, name)
}

// quick is set by Check: commands that wait on the lesson give up
// sooner (waitUntil), since a lesson being written may never answer.
var quick bool

// neverConnected is how long a waiting command gives a lesson to
// connect, in a Check run.
const neverConnected = 3 * time.Second

// Check runs the scripts of the lesson in dir for the workshop's stage
// runner: the lesson's program is bin/<lesson>, built by the caller.
// It runs on the sandbox, then, when withServer, on a real
// redis-server, and returns the first failure, or nil when every
// script passes. The scripts are in order: the lesson's own main story
// first (hints.txt "first:"), then those that run it successfully,
// then the others. With storyOnly, only the first runs.
func Check(dir, bin string, withServer, storyOnly bool) (*Failure, error) {
	hints, err := ReadHints(dir)
	if err != nil {
		return nil, err
	}
	scripts, err := ordered(dir, hints)
	if err != nil {
		return nil, err
	}
	if storyOnly {
		scripts = scripts[:1]
	}
	lesson, checkWire, quick = filepath.Base(dir), true, true
	tdir := filepath.Join(dir, "testdata")
	defer func() {
		for _, b := range backends {
			closePool(b.name) // a cluster the scripts started
		}
	}()
	type run struct {
		b    backend
		path string
		f    *Failure
		err  error
	}
	var runs []*run
	for _, b := range backends {
		if b.name != realredis.Binary || withServer {
			for _, path := range scripts {
				runs = append(runs, &run{b: b, path: path})
			}
		}
	}
	// The scripts run side by side, a few at a time; the failure
	// reported is the first in order.
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for _, r := range runs {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			r.f, r.err = checkScript(r.b, r.path, tdir, bin)
		}()
	}
	wg.Wait()
	for _, r := range runs {
		if r.err != nil {
			return nil, r.err
		}
		if r.f != nil {
			r.f.hints = hints.Text
			return r.f, nil
		}
	}
	return nil, nil
}

// checkScript runs one script of a lesson on one backend.
func checkScript(b backend, path, tdir, bin string) (*Failure, error) {
	rec := &recorder{}
	work, err := os.MkdirTemp("", "lessontest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var s *script
	testscript.RunT(rec, testscript.Params{
		WorkdirRoot:         work,
		Files:               []string{path},
		RequireExplicitExec: true,
		Setup:               withBin(setup(b, tdir, false), bin, &s),
		Condition: func(cond string) (bool, error) {
			return cond == b.name, nil
		},
		Cmds: commands,
	})
	if !rec.failed {
		return nil, nil
	}
	if s != nil && s.caught != nil {
		return s.caught, nil
	}
	name := strings.TrimSuffix(filepath.Base(path), ".txtar")
	return fromLog(rec.log.String(), path, b.name, filepath.Join(work, "script-"+name)), nil
}

// ordered lists a lesson's scripts in the order Check runs them.
func ordered(dir string, hints *Hints) ([]string, error) {
	scripts, err := filepath.Glob(filepath.Join(dir, "testdata", "*.txtar"))
	if err != nil || len(scripts) == 0 {
		return nil, fmt.Errorf("%s: no testdata/*.txtar scripts", dir)
	}
	name := filepath.Base(dir)
	rank := func(path string) int {
		base := strings.TrimSuffix(filepath.Base(path), ".txtar")
		if i := slices.Index(hints.First, base); i >= 0 {
			return i - len(hints.First)
		}
		if runsWell(path, name) {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(scripts, func(a, b string) int { return rank(a) - rank(b) })
	return scripts, nil
}

// Story is what the lesson prints in its main story: the first golden
// file of the script that Check runs first, and where it is.
func Story(dir string) (output, from string, err error) {
	hints, err := ReadHints(dir)
	if err != nil {
		return "", "", err
	}
	scripts, err := ordered(dir, hints)
	if err != nil {
		return "", "", err
	}
	a, err := txtar.ParseFile(scripts[0])
	if err != nil {
		return "", "", err
	}
	for line := range strings.Lines(string(a.Comment)) {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "golden" {
			continue
		}
		for _, file := range a.Files {
			if file.Name == f[2] {
				return string(file.Data), "testdata/" + filepath.Base(scripts[0]), nil
			}
		}
	}
	return "", "", nil
}

// runsWell says whether a script runs the lesson expecting success.
func runsWell(path, lesson string) bool {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(a.Comment)) {
		if isRunOf(line, lesson) {
			return !strings.HasPrefix(strings.TrimSpace(line), "!")
		}
	}
	return false
}

// withBin puts the directory of the lessons' programs first on PATH.
// It keeps the script's state in *s.
func withBin(f func(*testscript.Env) error, bin string, s **script) func(*testscript.Env) error {
	return func(env *testscript.Env) error {
		if err := f(env); err != nil {
			return err
		}
		*s = env.Values[scriptKey{}].(*script)
		env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
		// A lesson that waits for a reply that never comes (an inline
		// command without its \n) gives up sooner than its usual 5s.
		env.Setenv("REDIS_TIMEOUT", "2s")
		return nil
	}
}

// fromLog explains a failure that is no golden comparison, from
// testscript's log and the script's work folder: the step, what
// testscript said, and what the lesson said on stderr. When the
// script compares what the lesson printed with a golden file further
// on, the comparison is made here, with what it had printed so far,
// so that the caret shows what went wrong first.
func fromLog(log, path, backend, work string) *Failure {
	f := &Failure{Lesson: lesson, Backend: backend,
		Script: "testdata/" + filepath.Base(path)}
	i := strings.LastIndex(log, "FAIL: ")
	if i < 0 {
		f.Detail = strings.TrimSpace(log)
		return f
	}
	why := strings.TrimSpace(log[i+len("FAIL: "):])
	// FAIL: <path>:<line>: <why>
	if rest, ok := strings.CutPrefix(why, path+":"); ok {
		n, msg, _ := strings.Cut(rest, ": ")
		f.Line, _ = strconv.Atoi(n)
		why = msg
	}
	why, _, _ = strings.Cut(why, "\n")
	f.Detail = why
	// The last run of the lesson: how it ended, what it said on
	// stderr, and what the fake server, if any, sent it.
	run := lastRun(log[:i])
	status := lastStatus(run)
	stderr := section(run, "[stderr]")
	f.Said = said(stderr)
	if len(f.Said) > 0 || strings.HasPrefix(why, "unexpected command") ||
		strings.Contains(why, "in stderr") {
		f.Status = status
		if f.Status == "" {
			f.Status = "exit status 0"
		}
	}
	f.Sent = fakeSent(log[:i])
	f.Mistakes = stderrMistakes(why, stderr, status)
	a, err := txtar.ParseFile(path)
	if err != nil {
		return f
	}
	lines := strings.Split(string(a.Comment), "\n")
	if f.Line < 1 || f.Line > len(lines) {
		return f
	}
	f.Step = strings.TrimSpace(lines[f.Line-1])
	if strings.Contains(why, "never connected") {
		f.Mistakes = []string{"connect"}
	}
	// A run that should have failed on what the server sent, and did
	// not: the reply was printed and never judged.
	if why == "unexpected command success" && f.Sent != "" {
		for _, l := range lines[f.Line:] {
			if isRun(l) || strings.HasPrefix(l, "fake ") {
				break
			}
			if strings.Contains(l, "refused the command") || strings.Contains(l, "starts with") {
				f.Mistakes = append(f.Mistakes, "check")
				break
			}
		}
	}
	// The step that ran the lesson, and where its output went.
	at := f.Line - 1
	for at >= 0 && !isRun(lines[at]) {
		at--
	}
	if at < 0 {
		return f
	}
	if at != f.Line-1 {
		f.Ran = strings.TrimSpace(lines[at])
	}
	out, got := "stdout", ""
	if m := redirect.FindStringSubmatch(lines[at]); m != nil {
		out = m[1]
		data, _ := os.ReadFile(filepath.Join(work, out))
		got = string(data)
	} else if at == f.Line-1 {
		got = section(log[:i], "[stdout]")
	} else {
		return f
	}
	// The next golden file for that output says what it should be.
	for _, l := range lines[at+1:] {
		fs := strings.Fields(l)
		if isRun(l) {
			break
		}
		if len(fs) != 3 || fs[0] != "golden" || fs[1] != out {
			continue
		}
		for _, file := range a.Files {
			if file.Name == fs[2] && string(file.Data) != got {
				c := compare(string(file.Data), got)
				c.Lesson, c.Backend, c.Script = f.Lesson, f.Backend, f.Script
				c.Line, c.Step, c.Detail = at+1, strings.TrimSpace(lines[at]), f.Detail
				c.Said, c.Status, c.Sent = f.Said, f.Status, f.Sent
				if f.Line != at+1 {
					c.Detail = "then " + strings.TrimSuffix(f.Detail, ":")
				}
				c.Mistakes = append(c.Mistakes, f.Mistakes...)
				c.Header = fmt.Sprintf("%s differs from %s", out, fs[2])
				return c
			}
		}
	}
	return f
}

// lastRun is what testscript logged for the last run of the lesson:
// from its "> exec" line to the next command.
func lastRun(log string) string {
	j := max(strings.LastIndex(log, "\n> exec "), strings.LastIndex(log, "\n> ! exec "))
	if j < 0 {
		return ""
	}
	run := log[j:]
	if k := strings.Index(run[1:], "\n> "); k >= 0 {
		run = run[:k+1]
	}
	return run
}

// fakeSent is what the last fake server of the log sends, as the
// script writes it: 'TEXT', then 'MORE' ×COUNT.
func fakeSent(log string) string {
	j := strings.LastIndex(log, "\n> fake ")
	if j < 0 || strings.LastIndex(log, "\n> env REDIS_ADDR") > j {
		return ""
	}
	line, _, _ := strings.Cut(log[j+len("\n> fake "):], "\n")
	args := quotedFields(line)
	if len(args) > 1 && args[0] == "-drip" {
		args = args[2:]
	}
	switch len(args) {
	case 1:
		return args[0]
	case 3:
		return args[0] + ", then " + args[1] + " ×" + args[2]
	}
	return line
}

// quotedFields splits a script line as testscript does: on blanks,
// but not inside a quoted '...', where a doubled quote is one.
func quotedFields(line string) []string {
	var args []string
	var cur strings.Builder
	in, has := false, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\'' && in && i+1 < len(line) && line[i+1] == '\'':
			cur.WriteByte(c)
			i++
		case c == '\'':
			in, has = !in, true
			cur.WriteByte(c)
		case !in && (c == ' ' || c == '\t'):
			if has {
				args = append(args, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteByte(c)
			has = true
		}
	}
	if has {
		args = append(args, cur.String())
	}
	return args
}

// said is what the lesson printed on stderr, in short: its first
// three lines; for a crash, the panic and where it happened in the
// lesson's own code.
func said(stderr string) []string {
	var ls []string
	for l := range strings.Lines(stderr) {
		if l = strings.TrimRight(l, "\r\n"); strings.TrimSpace(l) != "" {
			ls = append(ls, l)
		}
	}
	for k, l := range ls {
		if !strings.HasPrefix(l, "panic: ") && !strings.HasPrefix(l, "fatal error: ") {
			continue
		}
		out := []string{l}
		for j := k + 1; j+1 < len(ls); j++ {
			if strings.HasPrefix(ls[j], "main.") {
				fn, _, _ := strings.Cut(ls[j], "(")
				at, _, _ := strings.Cut(strings.TrimSpace(ls[j+1]), " ")
				out = append(out, "at "+fn+", "+at)
				break
			}
		}
		return out
	}
	return ls[:min(3, len(ls))]
}

// stderrMistakes are the usual mistakes that what a lesson said on
// stderr, and how it ended, point to.
func stderrMistakes(why, stderr, status string) []string {
	switch {
	case strings.Contains(stderr, "out of memory") || strings.Contains(stderr, "makeslice") ||
		strings.Contains(stderr, "out of range") || status == "signal: killed":
		return []string{"bounds"}
	case strings.HasPrefix(why, "unexpected match for `Received`"):
		return []string{"early"}
	case strings.Contains(stderr, "expected a reply that starts with") &&
		!strings.Contains(why, "stdout"):
		return []string{"check-prefix"}
	}
	return nil
}

// redirect finds where a step sends the lesson's output: >sub.out.
var redirect = regexp.MustCompile(`>\s*([\w.-]+)`)

// lastStatus is how the last command that ran ended, as testscript
// logged it: "exit status 1", "signal: interrupt".
func lastStatus(log string) string {
	i := strings.LastIndex(log, "\n[")
	if i < 0 {
		return ""
	}
	s, _, _ := strings.Cut(log[i+2:], "]")
	if strings.HasPrefix(s, "exit status") || strings.HasPrefix(s, "signal") {
		return s
	}
	return ""
}

// section is the text testscript logged under a heading such as
// [stdout] for the last command.
func section(log, heading string) string {
	cmd := strings.LastIndex(log, "\n> ")
	if cmd < 0 {
		return ""
	}
	log = log[cmd:]
	i := strings.Index(log, "\n"+heading+"\n")
	if i < 0 {
		return ""
	}
	s := log[i+len(heading)+2:]
	for _, end := range []string{"\n[stdout]\n", "\n[stderr]\n", "\n[exit status", "\nFAIL: "} {
		if j := strings.Index(s, end); j >= 0 {
			s = s[:j+1]
		}
	}
	return s
}

// recorder is a testscript.T that keeps what a failing script logs.
type recorder struct {
	mu     sync.Mutex
	log    strings.Builder
	failed bool
}

// Skip ends a script that does not apply to this backend (say, one
// that starts its own redis-server): it neither passes nor fails.
func (r *recorder) Skip(args ...any)  { r.Log(args...); runtime.Goexit() }
func (r *recorder) Parallel()         {}
func (r *recorder) Verbose() bool     { return false }
func (r *recorder) Fatal(args ...any) { r.Log(args...); r.FailNow() }
func (r *recorder) Log(args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(&r.log, args...)
}
func (r *recorder) FailNow() {
	r.mu.Lock()
	r.failed = true
	r.mu.Unlock()
	runtime.Goexit()
}
func (r *recorder) Run(_ string, f func(testscript.T)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}

// Updating says whether the tests run with -update (make golden): the
// tests of other packages that keep golden files follow it too.
func Updating() bool { return *update }
