package lessontest

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// shared are the files that lessons share, byte for byte, and the
// lesson each starts in. resp.go holds what lessons 03 and 04 taught,
// for the lessons after them.
var shared = []struct{ file, from string }{
	{"conn.go", "01-ping"},
	{"main_test.go", "01-ping"},
	{"resp.go", "05-pipeline"},
}

func lessonDirs(t *testing.T) []string {
	t.Helper()
	lessons, err := filepath.Glob(filepath.Join("..", "..", "[0-9][0-9]-*"))
	if err != nil || len(lessons) < 2 {
		t.Fatalf("lesson folders not found (%v)", err)
	}
	return lessons
}

// TestSharedFiles: every copy of a shared file equals the first, from
// the lesson where it starts on, and no lesson before it has one.
func TestSharedFiles(t *testing.T) {
	lessons := lessonDirs(t)
	for _, s := range shared {
		ref, err := os.ReadFile(filepath.Join("..", "..", s.from, s.file))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lessons {
			name := filepath.Base(l)
			got, err := os.ReadFile(filepath.Join(l, s.file))
			switch {
			case name < s.from && err == nil:
				t.Errorf("%s has a %s, which starts in %s", name, s.file, s.from)
			case name < s.from:
			case err != nil:
				t.Errorf("%s has no %s: copy it from %s", name, s.file, s.from)
			case !bytes.Equal(got, ref):
				t.Errorf("%s/%s differs from %s/%s: the copies must stay equal "+
					"(change one, then copy it to every lesson)",
					name, s.file, s.from, s.file)
			}
		}
	}
}

// funcs is each top-level function and constant of a Go file, with
// its doc comment and source, by name.
func funcs(t *testing.T, path string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	text := func(doc *ast.CommentGroup, n ast.Node) string {
		start := n.Pos()
		if doc != nil {
			start = doc.Pos()
		}
		return string(src[fset.Position(start).Offset:fset.Position(n.End()).Offset])
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			out[d.Name.Name] = text(d.Doc, d)
		case *ast.GenDecl:
			if d.Tok == token.CONST || d.Tok == token.VAR {
				for _, sp := range d.Specs {
					for _, n := range sp.(*ast.ValueSpec).Names {
						out[n.Name] = text(d.Doc, d)
					}
				}
			}
		}
	}
	return out
}

// TestOneSourceEach: a function is written out in one lesson's own
// files only (main.go and any other file that is not shared), and
// what resp.go shares is word for word what the lesson that teaches
// it wrote.
func TestOneSourceEach(t *testing.T) {
	lessons := lessonDirs(t)
	owner := map[string]string{} // function -> the lesson that has it
	own := map[string]map[string]string{}
	for _, l := range lessons {
		name := filepath.Base(l)
		files, _ := filepath.Glob(filepath.Join(l, "*.go"))
		for _, f := range files {
			base := filepath.Base(f)
			if strings.HasSuffix(base, "_test.go") || slices.ContainsFunc(shared,
				func(s struct{ file, from string }) bool { return s.file == base }) {
				continue
			}
			for fn, src := range funcs(t, f) {
				if fn == "main" {
					continue
				}
				if first, ok := owner[fn]; ok {
					t.Errorf("%s is written in both %s and %s: write it once "+
						"(a shared file holds what later lessons reuse)", fn, first, name)
					continue
				}
				owner[fn] = name
				if own[name] == nil {
					own[name] = map[string]string{}
				}
				own[name][fn] = src
			}
		}
	}
	for _, s := range shared {
		if s.file != "resp.go" {
			continue
		}
		for fn, src := range funcs(t, filepath.Join("..", "..", s.from, s.file)) {
			teacher, ok := owner[fn]
			if !ok {
				t.Errorf("%s/%s: %s is taught by no lesson", s.from, s.file, fn)
				continue
			}
			if own[teacher][fn] != src {
				t.Errorf("%s/%s: %s is not word for word what %s wrote", s.from, s.file, fn, teacher)
			}
		}
	}
}
