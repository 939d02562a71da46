package docs

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The one list of lessons is the lesson folders, in the order of
// their numbers, and the lesson tables of docs/README.md, which say
// what each teaches. The rest is made from them: README.md's tables
// and each page's line of links (Previous, Next). make golden, or
// go test ./docs -args -update, writes them; this test fails when
// they are stale, and names the command.
var update = flag.Bool("update", false, "rewrite README.md's lesson tables and the pages' links")

// A lessonRow is a row of docs/README.md's lesson tables.
type lessonRow struct {
	group   string // the heading above its table; "" for the first
	name    string // 01-ping
	teaches string
}

var rowRE = regexp.MustCompile(`^\| \[[^]]+\]\(([0-9][0-9]-[^)]+)\.md\) \| [^|]+ \| (.+) \|$`)

// lessonRows reads docs/README.md's lesson tables.
func lessonRows(index string) []lessonRow {
	var rows []lessonRow
	group := ""
	for _, line := range strings.Split(index, "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			group = h
		}
		if m := rowRE.FindStringSubmatch(line); m != nil {
			rows = append(rows, lessonRow{group, m[1], m[2]})
		}
	}
	return rows
}

// readmeTables is README.md's part between the lessons markers.
func readmeTables(rows []lessonRow) string {
	var b strings.Builder
	group := "-"
	for _, r := range rows {
		if r.group != group {
			if group != "-" {
				b.WriteString("\n")
			}
			if r.group != "" {
				fmt.Fprintf(&b, "### %s\n\n", r.group)
			}
			b.WriteString("| folder | what it teaches | page |\n| --- | --- | --- |\n")
			group = r.group
		}
		fmt.Fprintf(&b, "| [`%s`](%s/main.go) | %s | [docs/%s.md](docs/%s.md) |\n",
			r.name, r.name, r.teaches, r.name, r.name)
	}
	return b.String()
}

// navLine is the line of links under a lesson page's title.
func navLine(names []string, i int) string {
	n := names[i]
	parts := []string{fmt.Sprintf("Code: [`%s/main.go`](../%s/main.go)", n, n)}
	if i > 0 {
		parts = append(parts, fmt.Sprintf("Previous: [%s](%s.md)", names[i-1], names[i-1]))
	}
	if i+1 < len(names) {
		parts = append(parts, fmt.Sprintf("Next: [%s](%s.md)", names[i+1], names[i+1]))
	}
	parts = append(parts, "[RESP in one page](resp.md)", "[All lessons](README.md)")
	return strings.Join(parts, " · ")
}

const (
	tablesBegin = "<!-- lessons: made from docs/README.md's tables by make golden -->\n"
	tablesEnd   = "<!-- end of lessons -->\n"
)

// TestMadeFromTheList: README.md's lesson tables and the pages' links
// are what the folders and docs/README.md say.
func TestMadeFromTheList(t *testing.T) {
	names := lessonNames(root)
	index, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := lessonRows(string(index))
	for i, r := range rows {
		if i >= len(names) || r.name != names[i] {
			t.Fatalf("docs/README.md's lesson rows (%s...) are not the lesson folders in order (%s): "+
				"one row per folder, in order", rowNames(rows), strings.Join(names, " "))
		}
	}
	if len(rows) != len(names) {
		t.Fatalf("docs/README.md has %d lesson rows for %d lesson folders: add a row "+
			"(| [NN name](NN-name.md) | `go run ./NN-name` | what it teaches |)", len(rows), len(names))
	}
	stale := func(path, want, got string) {
		if want == got {
			return
		}
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s is not what the lesson list makes: run make golden "+
			"(or go test ./docs -args -update)", path)
	}
	readme := filepath.Join(root, "README.md")
	data, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(data), tablesBegin)
	_, after, ok2 := strings.Cut(rest, tablesEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md has no %q ... %q markers around its lesson tables", tablesBegin, tablesEnd)
	}
	stale(readme, before+tablesBegin+readmeTables(rows)+tablesEnd+after, string(data))
	for i, n := range names {
		page := n + ".md"
		data, err := os.ReadFile(page)
		if err != nil {
			continue // TestEveryLessonIsListed says so
		}
		lines := strings.SplitN(string(data), "\n", 4)
		if len(lines) < 4 || !strings.HasPrefix(lines[2], "Code: ") {
			t.Errorf("%s: the third line must be its links, Code: ...", page)
			continue
		}
		lines[2] = navLine(names, i)
		stale(page, strings.Join(lines, "\n"), string(data))
	}
}

func rowNames(rows []lessonRow) string {
	var s []string
	for _, r := range rows {
		s = append(s, r.name)
	}
	return strings.Join(s, " ")
}

// lessonNames are the lesson folders of the repository at dir, in
// order: NN-name, with a main.go.
func lessonNames(dir string) []string {
	var names []string
	mains, _ := filepath.Glob(filepath.Join(dir, "[0-9][0-9]-*", "main.go"))
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	return names
}
