package lessontest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"
)

// golden stdout|stderr|OUTFILE FILE compares what the lesson printed
// with a file of the script. On a difference it shows the first
// differing line of each, a caret under the first wrong byte, what the
// connection carried, and a hint when the mistake is a usual one. For
// a lesson it then checks the Send: and Received: lines against the
// wire (wire.go). With -update (make golden) it rewrites the file in
// the script instead, from the sandbox run only, and only with output
// that the wire confirms.
func cmdGolden(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: golden stdout|stderr|OUTFILE FILE")
	}
	whole, want := ts.ReadFile(args[0]), ts.ReadFile(args[1])
	s := scriptOf(ts)
	// The wire holds the bytes, all of them; the golden file leaves
	// out the lines that vary, and names what changes from run to
	// run (a cluster's ports).
	got := skipLines(whole, s.vary[args[0]])
	if s.placeholders != nil {
		got = s.placeholders(got)
	}
	lie := func() {
		if !checkWire {
			return
		}
		// Every line is checked against the wire, skipped or not.
		if wire := s.wire.check(whole); wire != "" {
			f := compare(wire, whole)
			f.Header = fmt.Sprintf("%s differs from the bytes on the wire", args[0])
			f.Wire = s.wire.record(whole)
			f.Footer = "(Send: must print exactly the bytes written, Received: exactly " +
				"bytes read, in order; make golden records nothing else)"
			s.fail(ts, f, "golden "+strings.Join(args, " "))
		}
	}
	switch {
	case s.update:
		lie()
		if got != want {
			updateArchive(ts, filepath.Join(s.dir, ts.Name()+".txtar"), args[1], got)
		}
	case got != want:
		f := compare(want, got)
		f.Header = fmt.Sprintf("%s differs from %s in testdata/%s.txtar", args[0], args[1], ts.Name())
		f.Wire = s.wire.record(got)
		f.Footer = "(if you changed what the lesson should print on purpose, run: make golden)"
		s.fail(ts, f, "golden "+strings.Join(args, " "))
	default:
		lie()
	}
}

// vary FILE REGEXP: the golden files that FILE is compared with leave
// out its lines that match REGEXP, for bytes that differ from server
// to server or run to run (HELLO's server name and version, a stream
// entry's ID). Each skipped line is still checked against the wire,
// and the script checks its shape with stdout or grep.
func cmdVary(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: vary FILE REGEXP")
	}
	re, err := regexp.Compile(args[1])
	ts.Check(err)
	s := scriptOf(ts)
	if s.vary == nil {
		s.vary = map[string][]*regexp.Regexp{}
	}
	s.vary[args[0]] = append(s.vary[args[0]], re)
}

// skipLines is out without the lines that match any of res.
func skipLines(out string, res []*regexp.Regexp) string {
	if len(res) == 0 {
		return out
	}
	var b strings.Builder
	for line := range strings.Lines(out) {
		if !slices.ContainsFunc(res, func(re *regexp.Regexp) bool {
			return re.MatchString(strings.TrimSuffix(line, "\n"))
		}) {
			b.WriteString(line)
		}
	}
	return b.String()
}

// A Failure is one failed step of a lesson's script, in parts: make
// test shows all of them (Message), make check a short form (Brief).
// Both come from here, so the two always say the same thing.
type Failure struct {
	Lesson  string // 01-ping
	Backend string // sandbox or redis-server
	Script  string // testdata/ping.txtar
	Line    int    // of the script: the step that ran the lesson
	Step    string // that step, "exec 01-ping"

	// A comparison: what differs, and where.
	Header    string // "stdout differs from stdout.golden in ..."
	At        int    // the output's line with the first difference
	Want, Got string // that line of each
	Col       int    // the caret's column, in runes
	Wire      string // what the connection carried, or ""
	Mistakes  []string
	Footer    string

	// Detail is what went wrong when it is not a comparison, or what
	// the lesson said on stderr besides it.
	Detail string
	// Ran is the step that ran the lesson, when the failing Step is a
	// later one (a check of its stderr).
	Ran string
	// Sent is what a fake server sent the lesson, as the script
	// writes it, or "".
	Sent string
	// Status is how the lesson's run ended ("exit status 2"), and
	// Said the first lines it printed on stderr, when they matter.
	Status string
	Said   []string
	// hints are the lesson's own hint texts (testdata/hints.txt).
	hints map[string]string
}

// compare finds the first difference between want and got, and the
// usual mistakes that fit it.
func compare(want, got string) *Failure {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	// Point at an escape sequence (\r, \n, \x00) as a whole.
	if i > 0 && want[i-1] == '\\' {
		i--
	}
	start := strings.LastIndexByte(want[:i], '\n') + 1
	f := &Failure{
		Lesson: lesson,
		At:     strings.Count(want[:i], "\n") + 1,
		Want:   lineAt(want, start),
		Got:    lineAt(got, start),
		Col:    utf8.RuneCountInString(want[start:i]),
	}
	f.Mistakes = mistakes(want[i:], got[i:], lineOf(want, start), lineOf(got, start), want, got)
	return f
}

// Message is the whole story, as make test prints it.
func (f *Failure) Message() string {
	var b strings.Builder
	if f.Header == "" {
		fmt.Fprintf(&b, "%s: %s\n", f.Lesson, f.Detail)
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %s, at line %d:\n", f.Lesson, f.Header, f.At)
	f.caret(&b)
	b.WriteString(f.Wire)
	for _, m := range f.Mistakes {
		fmt.Fprintf(&b, "hint: %s\n", f.hint(m))
	}
	if f.Detail != "" {
		fmt.Fprintf(&b, "%s\n", f.Detail)
	}
	b.WriteString(f.Footer)
	return b.String()
}

// Brief is what make check prints: the step, the difference with its
// caret, the wire, and one hint, the lesson's own when it has one.
func (f *Failure) Brief() string {
	var b strings.Builder
	switch {
	case f.Script == "":
		fmt.Fprintf(&b, "%s:\n", f.Lesson)
	case f.Backend == "sandbox":
		fmt.Fprintf(&b, "%s, %s:%d, on the embedded Redis:\n", f.Lesson, f.Script, f.Line)
	default:
		fmt.Fprintf(&b, "%s, %s:%d, on %s:\n", f.Lesson, f.Script, f.Line, f.Backend)
	}
	for _, step := range []string{f.Ran, f.Step} {
		if step != "" {
			fmt.Fprintf(&b, "  > %s\n", clip(step))
		}
	}
	if f.Sent != "" {
		fmt.Fprintf(&b, "the server (a fake) sent: %s\n", clip(f.Sent))
	}
	if f.Header != "" {
		what, _, _ := strings.Cut(f.Header, " ")
		fmt.Fprintf(&b, "%s, line %d:\n", what, f.At)
		f.caret(&b)
		b.WriteString(f.Wire)
	}
	if f.Detail != "" {
		d := f.Detail
		// The pattern is the step above: no need to say it twice.
		if strings.HasPrefix(d, "no match for `") && strings.HasPrefix(f.Step, "stderr ") {
			d = "no line of the lesson's stderr matches it, a line like:\n  | " +
				clip(plain(f.Step))
		}
		fmt.Fprintf(&b, "%s\n", d)
	}
	switch {
	case f.Status == "":
	case len(f.Said) == 0:
		fmt.Fprintf(&b, "the lesson printed nothing on stderr (%s)\n", f.Status)
	default:
		fmt.Fprintf(&b, "the lesson printed on stderr (%s):\n", f.Status)
		for _, l := range f.Said {
			fmt.Fprintf(&b, "  | %s\n", clip(l))
		}
	}
	if len(f.Mistakes) > 0 {
		fmt.Fprintf(&b, "hint: %s\n", f.hint(f.pick()))
	}
	return b.String()
}

func (f *Failure) caret(b *strings.Builder) {
	want, got, col := window(f.Want, f.Got, f.Col)
	fmt.Fprintf(b, "  want: %s\n", want)
	fmt.Fprintf(b, "  got:  %s\n", got)
	fmt.Fprintf(b, "        %s^ first difference\n", strings.Repeat(" ", col))
}

// plain is a script's stderr 'PATTERN' as the line it matches,
// roughly: \d+ is N, [^"]* is ..., \. is a dot.
func plain(step string) string {
	i, j := strings.IndexByte(step, '\''), strings.LastIndexByte(step, '\'')
	if i < 0 || j <= i {
		return step
	}
	p := strings.ReplaceAll(step[i+1:j], "''", "'")
	p = strings.TrimSuffix(strings.TrimPrefix(p, "^"), "$")
	p = strings.NewReplacer(`\d+`, "N", `[^"]*`, "...", `\\`, `\`).Replace(p)
	var b strings.Builder
	for k := 0; k < len(p); k++ {
		if p[k] == '\\' && k+1 < len(p) && strings.IndexByte(`.$^*+?()[]{}|`, p[k+1]) >= 0 {
			k++
		}
		b.WriteByte(p[k])
	}
	return b.String()
}

// clip cuts a line to about 120 columns.
func clip(s string) string {
	if r := []rune(s); len(r) > shown {
		return string(r[:shown]) + "..."
	}
	return s
}

// shown is how many runes of a want or got line fit in about 120
// columns; before is how many of them come before the caret.
const shown, before = 108, 40

// window cuts the want and got lines to what fits around the caret at
// col, with ... where they were cut, and moves the caret to match: a
// read of 100 bytes that printed its zeros, \x00 four runes each,
// stays one line.
func window(want, got string, col int) (string, string, int) {
	w, g := []rune(want), []rune(got)
	if len(w) <= shown && len(g) <= shown {
		return want, got, col
	}
	start := max(0, min(col-before, max(len(w), len(g))-shown))
	cut := func(r []rune) string {
		if start >= len(r) {
			return "..."
		}
		s := string(r[start:min(len(r), start+shown)])
		if start > 0 {
			s = "..." + s
		}
		if start+shown < len(r) {
			s += "..."
		}
		return s
	}
	if start > 0 {
		col += 3 - start
	}
	return cut(w), cut(g), col
}

// UseHints gives f the hints of the lesson in dir
// (testdata/hints.txt), for a failure found outside Check.
func (f *Failure) UseHints(dir string) error {
	h, err := ReadHints(dir)
	if err == nil {
		f.hints = h.Text
	}
	return err
}

// pick is the one mistake make check explains: the first that the
// lesson has a hint for, or else the first.
func (f *Failure) pick() string {
	for _, m := range f.Mistakes {
		if _, ok := f.hints[m]; ok {
			return m
		}
	}
	return f.Mistakes[0]
}

func (f *Failure) hint(m string) string {
	if h, ok := f.hints[m]; ok {
		return h
	}
	if h, ok := Mistakes[m]; ok {
		return h
	}
	// A test without a hint of its own.
	return Mistakes["gotest"]
}

// lineAt is the line that starts at start, or a note that there is none.
func lineAt(s string, start int) string {
	if start >= len(s) {
		return "(nothing: the output ends before this line)"
	}
	return lineOf(s, start)
}

func lineOf(s string, start int) string {
	if start >= len(s) {
		return ""
	}
	line, _, _ := strings.Cut(s[start:], "\n")
	return line
}

// updateArchive replaces file's contents inside the script's archive.
func updateArchive(ts *testscript.TestScript, archive, file, data string) {
	a, err := txtar.ParseFile(archive)
	checkErr(ts, err)
	for i := range a.Files {
		if a.Files[i].Name == file {
			a.Files[i].Data = []byte(data)
			checkErr(ts, os.WriteFile(archive, txtar.Format(a), 0o666))
			ts.Logf("updated %s in %s", file, archive)
			return
		}
	}
	fatalf(ts, "golden: %s is not a file of %s", file, archive)
}
