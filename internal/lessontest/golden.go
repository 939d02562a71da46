package lessontest

import (
	"fmt"
	"os"
	"path/filepath"
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
		ts.Fatalf("usage: golden stdout|stderr|OUTFILE FILE")
	}
	got, want := ts.ReadFile(args[0]), ts.ReadFile(args[1])
	s := scriptOf(ts)
	lie := func() {
		if !checkWire {
			return
		}
		if wire := s.wire.check(got); wire != "" {
			ts.Fatalf("%s", mismatch(
				fmt.Sprintf("%s: %s differs from the bytes on the wire", lesson, args[0]),
				wire, got, s.wire.record(got),
				"(Send: must print exactly the bytes written, Received: exactly "+
					"bytes read, in order; make golden records nothing else)"))
		}
	}
	switch {
	case s.update:
		lie()
		if got != want {
			updateArchive(ts, filepath.Join(s.dir, ts.Name()+".txtar"), args[1], got)
		}
	case got != want:
		ts.Fatalf("%s", mismatch(
			fmt.Sprintf("%s: %s differs from %s in testdata/%s.txtar", lesson, args[0], args[1], ts.Name()),
			want, got, s.wire.record(got),
			"(if you changed what the lesson should print on purpose, run: make golden)"))
	default:
		lie()
	}
}

// mismatch explains how got differs from want, for a reader who edited
// a lesson and ran make test: the header, the first differing line of
// each with a caret, the wire record, hints, and the footer.
func mismatch(header, want, got, record, footer string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	// Point at an escape sequence (\r, \n, \x00) as a whole.
	if i > 0 && want[i-1] == '\\' {
		i--
	}
	start := strings.LastIndexByte(want[:i], '\n') + 1
	line := strings.Count(want[:i], "\n") + 1
	wantLine, gotLine := lineAt(want, start), lineAt(got, start)
	col := utf8.RuneCountInString(want[start:i])

	var b strings.Builder
	fmt.Fprintf(&b, "%s, at line %d:\n", header, line)
	fmt.Fprintf(&b, "  want: %s\n", wantLine)
	fmt.Fprintf(&b, "  got:  %s\n", gotLine)
	fmt.Fprintf(&b, "        %s^ first difference\n", strings.Repeat(" ", col))
	b.WriteString(record)
	for _, h := range hints(want[i:], got[i:], wantLine, gotLine, want, got) {
		fmt.Fprintf(&b, "hint: %s\n", h)
	}
	b.WriteString(footer)
	return b.String()
}

// lineAt is the line that starts at start, or a note that there is none.
func lineAt(s string, start int) string {
	if start >= len(s) {
		return "(nothing: the output ends before this line)"
	}
	line, _, _ := strings.Cut(s[start:], "\n")
	return line
}

// hints names the usual beginner mistakes that fit the difference.
// wantRest and gotRest start at the first differing byte.
func hints(wantRest, gotRest, wantLine, gotLine, want, got string) []string {
	var hs []string
	if strings.HasPrefix(wantRest, `\r\n`) && strings.HasPrefix(gotRest, `\n`) {
		hs = append(hs, `Redis ends every line with \r\n (CR LF), and the `+
			`lesson prints what it received byte for byte: a \n alone means `+
			`the \r was trimmed or the line was rebuilt on the way.`)
	}
	if strings.HasPrefix(wantLine, "Received: ") && gotLine != wantLine &&
		(strings.HasPrefix(wantLine, strings.TrimSuffix(gotLine, `"`)) ||
			strings.HasPrefix(gotLine, strings.TrimSuffix(wantLine, `"`))) {
		hs = append(hs, `a reply was cut or glued to the next one: one Read `+
			`(like the blog's read(100)) returns whatever has arrived, part `+
			`of a reply or several. Read exactly one reply: its first line, `+
			`then for $n the n bytes and \r\n after them, for *n that many `+
			`replies (docs/resp.md).`)
	}
	const closing = "Close the connection\n"
	if strings.Contains(want, closing) && !strings.Contains(got, closing) {
		hs = append(hs, `print "Close the connection" when the program `+
			`closes the connection on purpose, just before it does.`)
	}
	return hs
}

// updateArchive replaces file's contents inside the script's archive.
func updateArchive(ts *testscript.TestScript, archive, file, data string) {
	a, err := txtar.ParseFile(archive)
	ts.Check(err)
	for i := range a.Files {
		if a.Files[i].Name == file {
			a.Files[i].Data = []byte(data)
			ts.Check(os.WriteFile(archive, txtar.Format(a), 0o666))
			ts.Logf("updated %s in %s", file, archive)
			return
		}
	}
	ts.Fatalf("golden: %s is not a file of %s", file, archive)
}
