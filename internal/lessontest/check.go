package lessontest

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

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
	// What the lesson said on stderr, and how it ended, when it said
	// anything: its last run that has ended.
	if runs := readRuns(s.runs); s.runs != "" && len(runs) > 0 {
		run := runs[len(runs)-1]
		if f.Said = said(run.Stderr); len(f.Said) > 0 {
			f.Status = cmp.Or(run.Status, "exit status 0")
		}
		f.Mistakes = append(runMistakes(run, step{}, s.wire), f.Mistakes...)
	}
	f.Mistakes = append(f.Mistakes, scriptHints(filepath.Join(s.dir, ts.Name()+".txtar"))...)
	s.caught = f
	fatalf(ts, "%s", f.Message())
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

// checkScript runs one script of a lesson on one backend. The script
// runs from a copy with a mark after each step, and each run of the
// lesson is recorded (record.go): a failure is explained from that
// data, never from testscript's log.
func checkScript(b backend, path, tdir, bin string) (*Failure, error) {
	if !recorderCalled {
		return nil, errors.New("the program that checks lessons must call " +
			"lessontest.Recorder first in its main: the lessons run through it")
	}
	rec := &recorder{}
	work, err := os.MkdirTemp("", "lessontest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	marked, err := markSteps(path, work)
	if err != nil {
		return nil, err
	}
	rdir := filepath.Join(work, "recorder")
	if err := os.Mkdir(rdir, 0o777); err != nil {
		return nil, err
	}
	if err := linkRecorder(rdir, lesson); err != nil {
		return nil, err
	}
	cmds := maps.Clone(commands)
	cmds["mark"] = cmdMark
	var s *script
	testscript.RunT(rec, testscript.Params{
		// A script that fails stops what it started in the
		// background: Ctrl-C, then, after a grace period, a kill.
		// The deadline makes that period 3 s instead of 100 ms,
		// time enough, on a busy machine, for the recorder to write
		// down the lesson's run, which the hints are made from.
		Deadline:            time.Now().Add(time.Minute),
		WorkdirRoot:         work,
		Files:               []string{marked},
		RequireExplicitExec: true,
		Setup:               withBin(setup(b, tdir, false), bin, rdir, &s),
		Condition: func(cond string) (bool, error) {
			return cond == b.name, nil
		},
		Cmds: cmds,
	})
	if !rec.failed {
		return nil, nil
	}
	if s != nil && s.caught != nil {
		return s.caught, nil
	}
	if s == nil {
		// The setup failed: the backend did not start.
		return &Failure{Lesson: lesson, Backend: b.name,
			Script: "testdata/" + filepath.Base(path),
			Detail: strings.TrimSpace(rec.log.String())}, nil
	}
	name := strings.TrimSuffix(filepath.Base(path), ".txtar")
	return s.explain(path, b.name, filepath.Join(work, "script-"+name), readRuns(s.runs)), nil
}

// markSteps copies the script at path into dir with a step "mark N"
// after each of its steps, N being that step's line: the last mark
// that ran says which step failed. A mark changes neither stdout nor
// stderr, which the next step may check.
func markSteps(path, dir string) (string, error) {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for i, line := range strings.Split(string(a.Comment), "\n") {
		b.WriteString(line + "\n")
		if isStep(line) {
			fmt.Fprintf(&b, "mark %d\n", i+1)
		}
	}
	a.Comment = []byte(b.String())
	out := filepath.Join(dir, filepath.Base(path))
	return out, os.WriteFile(out, txtar.Format(a), 0o666)
}

// isStep says whether a script line is a command.
func isStep(line string) bool {
	t := strings.TrimSpace(line)
	return t != "" && !strings.HasPrefix(t, "#")
}

// mark N records that the script's line N is done, and the stdout and
// stderr it left.
func cmdMark(ts *testscript.TestScript, neg bool, args []string) {
	s := scriptOf(ts)
	s.done, _ = strconv.Atoi(args[0])
	s.out, s.err = ts.ReadFile("stdout"), ts.ReadFile("stderr")
	s.gone = ended(ts, s)
}

// ended says whether the programs in the background had ended by
// now: exited, or, since an exit can take a moment more to be seen on
// a busy machine, closed every connection they opened while the
// server still ran (a script that stops the server closes them
// itself).
func ended(ts *testscript.TestScript, s *script) bool {
	n, open := s.wire.count()
	return exited(ts) || n > 0 && open == 0 && !s.serverStopped && len(ts.BackgroundCmds()) > 0
}

// fatalf fails a script from one of the harness's commands, and keeps
// the reason as data for Check.
func fatalf(ts *testscript.TestScript, format string, args ...any) {
	if s, ok := ts.Value(scriptKey{}).(*script); ok {
		s.why = fmt.Sprintf(format, args...)
		s.gone = s.gone || ended(ts, s)
	}
	ts.Fatalf(format, args...)
}

// checkErr fails the script with err, if it is not nil.
func checkErr(ts *testscript.TestScript, err error) {
	if err != nil {
		fatalf(ts, "%v", err)
	}
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

// withBin puts the directory of the lessons' programs first on PATH,
// and before it the recorder of the lesson's runs (rdir). It keeps
// the script's state in *s.
func withBin(f func(*testscript.Env) error, bin, rdir string, s **script) func(*testscript.Env) error {
	return func(env *testscript.Env) error {
		if err := f(env); err != nil {
			return err
		}
		*s = env.Values[scriptKey{}].(*script)
		(*s).runs = filepath.Join(filepath.Dir(env.WorkDir), "runs-"+filepath.Base(env.WorkDir))
		if err := os.Mkdir((*s).runs, 0o777); err != nil {
			return err
		}
		sep := string(os.PathListSeparator)
		env.Setenv("PATH", rdir+sep+bin+sep+env.Getenv("PATH"))
		env.Setenv(recorderDir, rdir)
		env.Setenv(runsDir, (*s).runs)
		// A lesson that waits for a reply that never comes (an inline
		// command without its \n) gives up sooner than its usual 5s.
		env.Setenv("REDIS_TIMEOUT", "2s")
		return nil
	}
}

// explain tells what failed in a script that is no golden
// comparison, from data: the step after the last mark, the lesson's
// recorded runs, the stdout and stderr that step checked, and the
// script's work folder. When the script compares what the lesson
// printed with a golden file further on, the comparison is made here,
// with what it had printed so far, so that the caret shows what went
// wrong first.
func (s *script) explain(path, backend, work string, runs []*LessonRun) *Failure {
	f := &Failure{Lesson: lesson, Backend: backend,
		Script: "testdata/" + filepath.Base(path)}
	a, err := txtar.ParseFile(path)
	if err != nil {
		f.Detail = err.Error()
		return f
	}
	lines := strings.Split(string(a.Comment), "\n")
	// The failing step: the first after the last that completed.
	f.Line = s.done + 1
	for f.Line <= len(lines) && !isStep(lines[f.Line-1]) {
		f.Line++
	}
	if f.Line > len(lines) {
		f.Line = 0
		f.Detail = "the script failed after its last step"
		return f
	}
	f.Step = strings.TrimSpace(lines[f.Line-1])
	st := parseStep(f.Step)
	var run *LessonRun
	if len(runs) > 0 {
		run = runs[len(runs)-1]
		for i := f.Line - 1; i >= 0; i-- {
			if isRun(lines[i]) {
				run.Background = strings.HasSuffix(strings.TrimSpace(lines[i]), "&")
				// It had exited before the step that failed: any
				// signal came after, as the script was cleaned up.
				if run.Background && s.gone {
					run.Signal = ""
				}
				break
			}
		}
	}
	f.Sent = fakeSent(lines[:f.Line], backend)
	switch {
	case st.cmd == "exec" && isRun(f.Step) && run == nil:
		f.Detail = "the lesson did not run"
	case st.cmd == "exec" && isRun(f.Step) && st.neg && !run.Failed():
		f.Detail = "unexpected command success"
	case st.cmd == "exec" && isRun(f.Step) && !st.neg && run.Failed():
		f.Detail = "unexpected command failure"
	case st.cmd == "stdout" || st.cmd == "stderr":
		f.Detail = st.judge(s.out, s.err)
	case s.why != "":
		f.Detail, _, _ = strings.Cut(s.why, "\n")
	default:
		f.Detail = "this step failed"
	}
	if run != nil {
		f.Said = said(run.Stderr)
		if len(f.Said) > 0 || isRun(f.Step) || st.cmd == "stderr" {
			f.Status = run.Status
			if f.Status == "" {
				f.Status = "exit status 0"
			}
		}
	}
	// The mistakes the run shows; then those the script names, which
	// come last, after any a comparison finds.
	var ms []string
	if run != nil {
		ms = runMistakes(run, st, s.wire)
	}
	if s.neverConnected {
		ms = []string{"connect"}
	}
	// A run that should have failed on what a fake server sent, and
	// did not: it printed the reply and never judged it.
	if st.cmd == "exec" && st.neg && run != nil && !run.Failed() && f.Sent != "" &&
		strings.Contains(run.Stdout, "Received: ") {
		ms = append(ms, "check")
	}
	hints := scriptHints(path)
	f.Mistakes = append(slices.Clone(ms), hints...)
	// stderr 'PATTERN' that no line matches: the line that comes
	// closest, with a caret where it stops matching.
	if st.cmd == "stderr" && !st.neg && st.count < 0 {
		best, at, n := "", 0, 0
		for i, l := range strings.Split(strings.TrimSuffix(s.err, "\n"), "\n") {
			if k := matchedPrefix(st.pattern, l); k > n {
				best, at, n = l, i+1, k
			}
		}
		if n > 0 {
			f.Header = "stderr differs"
			f.At, f.Want, f.Got = at, plain(f.Step), best
			f.Col = utf8.RuneCountInString(best[:n])
			f.Detail = ""
			f.Status, f.Said = "", nil
		}
	}
	// cmp stdout|stderr FILE: the difference, with its caret.
	if st.cmd == "cmp" && !st.neg && len(st.args) == 2 && (st.args[0] == "stdout" || st.args[0] == "stderr") {
		got := s.out
		if st.args[0] == "stderr" {
			got = s.err
		}
		for _, file := range a.Files {
			if file.Name == st.args[1] && string(file.Data) != got {
				c := compare(string(file.Data), got)
				c.Lesson, c.Backend, c.Script, c.Line, c.Step = f.Lesson, f.Backend, f.Script, f.Line, f.Step
				c.Sent = f.Sent // the difference shows what it printed
				c.Header = fmt.Sprintf("%s differs from %s", st.args[0], st.args[1])
				c.Mistakes = append(append(ms, c.Mistakes...), hints...)
				for i := f.Line - 2; i >= 0; i-- {
					if isRun(lines[i]) {
						c.Ran = strings.TrimSpace(lines[i])
						break
					}
				}
				return c
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
	} else if run != nil && at == f.Line-1 {
		got = run.Stdout
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
			if file.Name != fs[2] {
				continue
			}
			if string(file.Data) == got {
				// It printed all it should, and failed all the same:
				// it judged a right reply wrong.
				if run != nil && run.Status == "exit status 1" && st.cmd == "exec" && !st.neg {
					f.Mistakes = append([]string{"check-prefix"}, f.Mistakes...)
				}
				return f
			}
			c := compare(string(file.Data), got)
			c.Lesson, c.Backend, c.Script = f.Lesson, f.Backend, f.Script
			c.Line, c.Step, c.Detail = at+1, strings.TrimSpace(lines[at]), f.Detail
			c.Said, c.Status, c.Sent = f.Said, f.Status, f.Sent
			if f.Line != at+1 {
				c.Detail = "then " + strings.TrimSuffix(f.Detail, ":")
			}
			// What the run shows comes first; a missing last line
			// is no mistake of its own when the run ended early.
			if run != nil && (run.Failed() || slices.Contains(ms, "exited")) {
				c.Mistakes = slices.DeleteFunc(c.Mistakes, func(m string) bool { return m == "close" })
			}
			c.Mistakes = append(append(ms, c.Mistakes...), hints...)
			c.Header = fmt.Sprintf("%s differs from %s", out, fs[2])
			return c
		}
	}
	return f
}

// matchedPrefix is how much of line, from its start, a prefix of
// the regular expression pattern matches: where the line stops being
// what the pattern wants.
func matchedPrefix(pattern, line string) int {
	p := strings.TrimPrefix(pattern, "^")
	for k := len(p); k > 0; k-- {
		re, err := regexp.Compile("^(?:" + p[:k] + ")")
		if err != nil {
			continue
		}
		if loc := re.FindStringIndex(line); loc != nil {
			return loc[1]
		}
	}
	return 0
}

// scriptHints are the mistakes that a script names for any failure
// of its own, in lines "# hint: MISTAKE": what it was written to
// catch, when nothing more telling is found.
func scriptHints(path string) []string {
	a, err := txtar.ParseFile(path)
	if err != nil {
		return nil
	}
	var ms []string
	for line := range strings.Lines(string(a.Comment)) {
		if m, ok := strings.CutPrefix(strings.TrimSpace(line), "# hint:"); ok {
			ms = append(ms, strings.Fields(m)...)
		}
	}
	return ms
}

// A step is a script line, in parts.
type step struct {
	neg     bool
	cmd     string
	args    []string
	count   int // stdout -count=N, or -1
	pattern string
}

// parseStep splits a script line: [cond] [!] cmd args.
func parseStep(line string) step {
	st := step{count: -1}
	f := quotedFields(line)
	for len(f) > 0 && strings.HasPrefix(f[0], "[") {
		f = f[1:]
	}
	if len(f) > 0 && f[0] == "!" {
		st.neg, f = true, f[1:]
	}
	if len(f) == 0 {
		return st
	}
	st.cmd, st.args = f[0], f[1:]
	if st.cmd == "stdout" || st.cmd == "stderr" {
		for _, a := range st.args {
			if n, ok := strings.CutPrefix(a, "-count="); ok {
				st.count, _ = strconv.Atoi(n)
			} else if !strings.HasPrefix(a, "-") {
				st.pattern = unquoteArg(a)
			}
		}
	}
	return st
}

// unquoteArg is a script argument as testscript reads it: '...',
// inside which a doubled quote is one.
func unquoteArg(a string) string {
	if len(a) >= 2 && a[0] == '\'' && a[len(a)-1] == '\'' {
		return strings.ReplaceAll(a[1:len(a)-1], "''", "'")
	}
	return a
}

// judge says why a stdout or stderr step failed on what the lesson
// printed there.
func (st step) judge(stdout, stderr string) string {
	text := stdout
	if st.cmd == "stderr" {
		text = stderr
	}
	re, err := regexp.Compile("(?m)" + st.pattern)
	if err != nil {
		return "this step failed"
	}
	switch n := len(re.FindAllString(text, -1)); {
	case st.neg:
		return fmt.Sprintf("unexpected match for `%s` found in %s: %s",
			st.pattern, st.cmd, re.FindString(text))
	case st.count >= 0:
		return fmt.Sprintf("have %d matches for `%s`, want %d", n, st.pattern, st.count)
	}
	return fmt.Sprintf("no match for `%s` found in %s", st.pattern, st.cmd)
}

// runMistakes are the usual mistakes that a run of the lesson, the
// step that judged it, and the bytes it received point to.
func runMistakes(run *LessonRun, st step, w *wire) []string {
	crashed := strings.HasPrefix(run.Stderr, "panic: ") || strings.Contains(run.Stderr, "\npanic: ") ||
		strings.HasPrefix(run.Stderr, "fatal error: ")
	switch {
	case run.Status == "signal: killed" ||
		crashed && strings.Contains(run.Stderr, "out of memory") ||
		crashed && strings.Contains(run.Stderr, "makeslice") ||
		crashed && strings.Contains(run.Stderr, "out of range") && strings.Contains(run.Stderr, "readReply"):
		return []string{"bounds"}
	case crashed:
		return []string{"crash"}
	case st.cmd == "stdout" && st.neg && strings.Contains(st.pattern, "Received"):
		return []string{"early"}
	case run.Background && !run.Failed() && run.Signal == "":
		return []string{"exited"}
	}
	// It quotes, on stderr, the data of a bulk string it received,
	// with its \r\n: it read that data as a line.
	if run.Failed() && w != nil {
		for _, data := range w.bulkData() {
			if strings.Contains(run.Stderr, strconv.Quote(data)) {
				return []string{"bulk-line"}
			}
		}
	}
	return nil
}

// fakeSent is what the last fake server that the lines start sends,
// as the script writes it: 'TEXT', then 'MORE' ×COUNT; "" when there
// is none, or REDIS_ADDR was set again since.
func fakeSent(lines []string, backend string) string {
	sent := ""
	for _, l := range lines {
		st := parseStep(l)
		if !holds(l, backend) {
			continue
		}
		switch {
		case st.cmd == "env" && len(st.args) > 0 && strings.HasPrefix(st.args[0], "REDIS_ADDR="):
			sent = ""
		case st.cmd == "fake":
			args := st.args
			if len(args) > 1 && args[0] == "-drip" {
				args = args[2:]
			}
			switch len(args) {
			case 1:
				sent = args[0]
			case 3:
				sent = args[0] + ", then " + args[1] + " ×" + args[2]
			default:
				sent = strings.Join(args, " ")
			}
		}
	}
	return sent
}

// holds says whether a script line's conditions hold on backend.
func holds(line, backend string) bool {
	for _, f := range quotedFields(line) {
		c, ok := strings.CutPrefix(f, "[")
		if !ok {
			return true
		}
		c = strings.TrimSuffix(c, "]")
		if not, ok := strings.CutPrefix(c, "!"); ok {
			if not == backend {
				return false
			}
		} else if c != backend {
			return false
		}
	}
	return true
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

// redirect finds where a step sends the lesson's output: >sub.out.
var redirect = regexp.MustCompile(`>\s*([\w.-]+)`)

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
