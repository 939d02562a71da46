// Package docs holds the pages read beside the lessons. Its test keeps
// them true: transcripts must match the golden files, code excerpts
// must stand verbatim in the code, and relative links must resolve.
//
// A fenced block is checked when the line before it is a marker:
//
//	<!-- transcript: 01-ping/testdata/ping.txtar stdout.golden -->
//	<!-- transcript: 01-ping/testdata/ping.txtar stdout.golden (excerpt) -->
//	<!-- excerpt: 01-ping/main.go -->
//
// A transcript equals that file of the script archive; with (excerpt)
// its lines stand together in it. An excerpt stands verbatim in the Go
// file. A block that shows Send: or Received: lines, or Go code, must
// have a marker, so that nothing shown goes unchecked.
package docs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/rogpeppe/go-internal/txtar"
)

// root is the repository, seen from this folder.
const root = ".."

// A block is a fenced code block of a page.
type block struct {
	page   string
	line   int    // of the opening fence
	lang   string // after the opening fence
	marker string // the marker comment's text, or ""
	body   string
	folded bool // inside <details>
}

func pages(t *testing.T) []string {
	t.Helper()
	ps, err := filepath.Glob("*.md")
	if err != nil || len(ps) == 0 {
		t.Fatalf("no pages in docs/ (%v)", err)
	}
	return append(ps, filepath.Join(root, "README.md"))
}

// lessonPage is the name of a lesson's page.
var lessonPage = regexp.MustCompile(`^[0-9][0-9]-.*\.md$`)

var markerRE = regexp.MustCompile(`^<!-- (transcript|excerpt): (.+) -->$`)

// blocks reads a page's fenced blocks and the marker before each.
func blocks(t *testing.T, page string) []block {
	t.Helper()
	f, err := os.Open(page)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		bs   []block
		cur  *block
		prev string
		n    int
	)
	indent := ""
	folded := 0 // how many <details> the line is in
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		line := sc.Text()
		// A fence may be indented, inside a list item; its lines
		// carry the same indentation.
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && strings.HasPrefix(trimmed, "```"):
			indent = line[:len(line)-len(trimmed)]
			cur = &block{page: page, line: n, lang: strings.TrimPrefix(trimmed, "```"), folded: folded > 0}
			if markerRE.MatchString(strings.TrimSpace(prev)) {
				cur.marker = strings.TrimSpace(prev)
			}
		case cur != nil && trimmed == "```":
			bs = append(bs, *cur)
			cur = nil
		case cur != nil:
			cur.body += strings.TrimPrefix(line, indent) + "\n"
		case trimmed == "<details>":
			folded++
		case trimmed == "</details>":
			folded--
		}
		if strings.TrimSpace(line) != "" {
			prev = line
		}
	}
	if cur != nil {
		t.Errorf("%s:%d: code block never closed", page, cur.line)
	}
	return bs
}

func TestBlocks(t *testing.T) {
	checked := 0
	for _, page := range pages(t) {
		type rewrite struct {
			b    block
			body string
		}
		var rewrites []rewrite
		for _, b := range blocks(t, page) {
			where := fmt.Sprintf("%s:%d", b.page, b.line)
			if b.marker == "" {
				if b.lang == "go" {
					t.Errorf("%s: Go code with no excerpt marker", where)
				}
				if strings.Contains(b.body, `Send: "`) || strings.Contains(b.body, `Received: "`) {
					t.Errorf("%s: transcript with no transcript marker", where)
				}
				continue
			}
			// A lesson's page folds its code: a workshop reads the
			// page beside the exercise, not the answer.
			if b.lang == "go" && !b.folded && lessonPage.MatchString(filepath.Base(b.page)) {
				t.Errorf("%s: Go code outside <details>: fold it, as the "+
					"page's other code is, so that the page does not give the exercise away", where)
			}
			checked++
			m := markerRE.FindStringSubmatch(b.marker)
			if m[1] == "excerpt" {
				checkExcerpt(t, where, m[2], b.body)
			} else if want := checkTranscript(t, where, m[2], b.body); want != "" {
				rewrites = append(rewrites, rewrite{b, want})
			}
		}
		// From the last: a rewrite moves the lines after it.
		for i := len(rewrites) - 1; i >= 0; i-- {
			rewriteBlock(t, rewrites[i].b, rewrites[i].body)
		}
	}
	if checked == 0 {
		t.Fatal("no marked blocks found: is the marker syntax still the same?")
	}
}

func checkExcerpt(t *testing.T, where, file, body string) {
	code, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if !strings.Contains(string(code), body) {
		t.Errorf("%s: this excerpt is no longer in %s, word for word "+
			"(expected while you try an edit from a page: `make check NN` "+
			"checks the lesson alone, and git checkout restores it):\n%s", where, file, body)
	}
}

// checkTranscript checks a transcript block against its golden file.
// With -update (make golden), a whole transcript that differs is not
// an error: it returns the golden file, for the block to become it.
func checkTranscript(t *testing.T, where, spec, body string) (rewrite string) {
	fields := strings.Fields(spec)
	part := len(fields) == 3 && fields[2] == "(excerpt)"
	if len(fields) != 2 && !part {
		t.Errorf("%s: want <!-- transcript: ARCHIVE FILE [(excerpt)] -->", where)
		return ""
	}
	a, err := txtar.ParseFile(filepath.Join(root, fields[0]))
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return ""
	}
	for _, f := range a.Files {
		if f.Name != fields[1] {
			continue
		}
		want := string(f.Data)
		if part && (strings.HasPrefix(want, body) || strings.Contains(want, "\n"+body)) {
			return ""
		}
		if !part && body == want {
			return ""
		}
		if !part && *update {
			return want
		}
		t.Errorf("%s: transcript differs from %s in %s (make golden writes it)\ndocs:\n%s\ngolden:\n%s",
			where, fields[1], fields[0], body, want)
		return ""
	}
	t.Errorf("%s: %s has no file %s", where, fields[0], fields[1])
	return ""
}

// rewriteBlock makes a page's fenced block b hold body.
func rewriteBlock(t *testing.T, b block, body string) {
	data, err := os.ReadFile(b.page)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	end := b.line // the line after the opening fence, 0-based
	for end < len(lines) && strings.TrimSpace(lines[end]) != "```" {
		end++
	}
	indent := lines[b.line-1][:len(lines[b.line-1])-len(strings.TrimLeft(lines[b.line-1], " "))]
	var fresh []string
	for _, l := range strings.SplitAfter(body, "\n") {
		if l != "" {
			fresh = append(fresh, indent+l)
		}
	}
	out := append(append(lines[:b.line:b.line], fresh...), lines[end:]...)
	if err := os.WriteFile(b.page, []byte(strings.Join(out, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestLinks(t *testing.T) {
	for _, page := range pages(t) {
		data, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		inCode := false
		for i, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimLeft(line, " "), "```") {
				inCode = !inCode
			}
			if inCode {
				continue
			}
			for _, m := range linkRE.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "#") ||
					strings.HasPrefix(target, "mailto:") {
					continue
				}
				target, anchor, _ := strings.Cut(target, "#")
				path := filepath.Join(filepath.Dir(page), target)
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s:%d: broken link %s", page, i+1, m[1])
				} else if anchor != "" && !hasAnchor(t, path, anchor) {
					t.Errorf("%s:%d: %s has no heading for #%s", page, i+1, target, anchor)
				}
			}
		}
	}
}

// hasAnchor reports whether a Markdown file has a heading whose GitHub
// anchor is anchor: lower case, blanks as '-', punctuation dropped.
func hasAnchor(t *testing.T, path, anchor string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		heading, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " ")
		if !ok || !strings.HasPrefix(line, "#") {
			continue
		}
		slug := strings.Map(func(r rune) rune {
			switch {
			case r == ' ':
				return '-'
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				return unicode.ToLower(r)
			}
			return -1
		}, heading)
		if slug == anchor {
			return true
		}
	}
	return false
}

// The blog each lesson retraces, or the series post it extends.
const (
	blogURL   = "https://fatih-erikli.com/asyncio-streams.html"
	seriesURL = "https://fatih-erikli.com/whirlwind.html"
)

// TestEveryLessonIsListed keeps every hand-kept list of lessons
// complete: adding a lesson folder without its page, its rows or its
// links fails here, naming what is missing.
func TestEveryLessonIsListed(t *testing.T) {
	problems, n := lessonProblems(root)
	if n == 0 {
		t.Fatal("no lessons found")
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestLessonProblemsNamesWhatIsMissing shows that the check above can
// fail: a tree with a lesson folder and nothing else gets one problem
// per missing piece.
func TestLessonProblemsNamesWhatIsMissing(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"05-x/main.go", "README.md", "docs/README.md"} {
		path := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	problems, n := lessonProblems(dir)
	if n != 1 {
		t.Fatalf("found %d lessons, want 1", n)
	}
	want := []string{
		"lesson 05-x has no page docs/05-x.md",
		"docs/README.md has no row for 05-x (the one list of lessons: " +
			"| [05 x](05-x.md) | `go run ./05-x` | what it teaches |)",
		"05-x has no main story: its testdata/hints.txt has no line " +
			"first: SCRIPT naming it (make check runs it first, make demo shows it)",
	}
	if strings.Join(problems, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s",
			strings.Join(problems, "\n"), strings.Join(want, "\n"))
	}
}

// lessonProblems lists what is missing for each lesson folder of the
// repository at dir, and counts the lessons. README.md's tables and
// the pages' links are made from the list (TestMadeFromTheList).
func lessonProblems(dir string) (problems []string, lessons int) {
	read := func(path string) string {
		data, _ := os.ReadFile(filepath.Join(dir, path))
		return string(data)
	}
	names := lessonNames(dir)
	index := read("docs/README.md")
	bad := func(format string, a ...any) {
		problems = append(problems, fmt.Sprintf(format, a...))
	}
	for _, name := range names {
		page := read("docs/" + name + ".md")
		if page == "" {
			bad("lesson %s has no page docs/%s.md", name, name)
		}
		// A row is a table line that links to the lesson.
		if !hasRow(index, "]("+name+".md)") {
			nn, rest, _ := strings.Cut(name, "-")
			bad("docs/README.md has no row for %s (the one list of lessons: "+
				"| [%s %s](%s.md) | `go run ./%s` | what it teaches |)", name, nn, rest, name, name)
		}
		if problem := storyProblem(dir, name); problem != "" {
			bad("%s", problem)
		}
		if page == "" {
			continue
		}
		head, _, _ := strings.Cut(page, "\n## ")
		if !strings.Contains(head, "]("+blogURL+")") && !strings.Contains(head, "]("+seriesURL+")") {
			bad("docs/%s.md does not link, before its first section, "+
				"to the blog step it retraces (%s) or the series post it extends", name, blogURL)
		}
	}
	return problems, len(names)
}

// storyProblem says what is wrong with a lesson's main story, the
// scripts that its hints.txt names on its first: line, or "".
func storyProblem(dir, name string) string {
	hints, _ := os.ReadFile(filepath.Join(dir, name, "testdata", "hints.txt"))
	for _, line := range strings.Split(string(hints), "\n") {
		first, ok := strings.CutPrefix(line, "first:")
		if !ok {
			continue
		}
		for _, s := range strings.Fields(first) {
			if _, err := os.Stat(filepath.Join(dir, name, "testdata", s+".txtar")); err != nil {
				return fmt.Sprintf("%s's main story names testdata/%s.txtar, which is missing", name, s)
			}
		}
		return ""
	}
	return fmt.Sprintf("%s has no main story: its testdata/hints.txt has no line "+
		"first: SCRIPT naming it (make check runs it first, make demo shows it)", name)
}

// hasRow reports whether a Markdown table line holds link.
func hasRow(page, link string) bool {
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, "|") && strings.Contains(line, link) {
			return true
		}
	}
	return false
}
