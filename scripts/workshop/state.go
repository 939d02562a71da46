package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"redis-by-hand/internal/lessontest"
)

// The workshop keeps its state in .workshop, which ignores itself:
// solutions/NN-name/main.go is each lesson's reference, saved by
// make workshop (its presence means the lessons are exercises), and
// yours/TIME/NN-name/main.go the attendee's versions that one run of
// -restore or -force replaced, a folder per run, so that files of an
// earlier round are never mistaken for the last one's.
const stateDir = ".workshop"

func solutionPath(root, name string) string {
	return filepath.Join(root, stateDir, "solutions", name, "main.go")
}

// yours is where one run keeps the files it replaces: the folder
// .workshop/yours/<date>-<time>, new for each run, made on first use.
type yours struct {
	root, dir string
	kept      []string
}

// keep saves the attendee's main.go of lesson name.
func (y *yours) keep(name string, src []byte) error {
	if y.dir == "" {
		base := filepath.Join(y.root, stateDir, "yours", time.Now().Format("20060102-150405"))
		y.dir = base
		for n := 2; ; n++ {
			if _, err := os.Stat(y.dir); os.IsNotExist(err) {
				break
			}
			y.dir = fmt.Sprintf("%s-%d", base, n)
		}
	}
	y.kept = append(y.kept, name)
	return writeFile(filepath.Join(y.dir, name, "main.go"), src)
}

// say tells where the kept files went, if any.
func (y *yours) say(w io.Writer) {
	if len(y.kept) == 0 {
		return
	}
	rel, err := filepath.Rel(y.root, y.dir)
	if err != nil {
		rel = y.dir
	}
	say(w, "Your versions of %s are in %s (each NN-name/main.go).",
		strings.Join(y.kept, ", "), filepath.ToSlash(rel))
}

// InWorkshop says whether make workshop has turned the lessons into
// exercises.
func inWorkshop(root string) bool {
	_, err := os.Stat(filepath.Join(root, stateDir, "solutions"))
	return err == nil
}

// makeExercises saves each lesson's reference and writes its exercise
// in its place. It refuses to run twice (the attendee's work would be
// lost) unless force; then it keeps that work in .workshop/yours.
func makeExercises(w io.Writer, root string, force bool) error {
	names, err := lessons(root)
	if err != nil {
		return err
	}
	again := inWorkshop(root)
	if again && !force {
		return fmt.Errorf("the lessons are exercises already, with your work in them: " +
			"make check checks it, make solutions brings back the reference; " +
			"to start the exercises over, run: go run ./scripts/workshop -force " +
			"(your files are then kept in .workshop/yours)")
	}
	if !again && !force {
		if changed := uncommitted(root, names); len(changed) > 0 {
			return fmt.Errorf("%s changed since the last commit: make workshop "+
				"would save that as the reference solution. Commit or undo the "+
				"change (git checkout -- FILE), or run: go run ./scripts/workshop -force",
				strings.Join(changed, ", "))
		}
	}
	if err := writeFile(filepath.Join(root, stateDir, ".gitignore"),
		[]byte("# make workshop's state: the reference solutions, and your\n"+
			"# files that make solutions replaced. Not for git.\n*\n")); err != nil {
		return err
	}
	// Save every reference first: then no exercise is ever written
	// without its solution kept.
	kept := &yours{root: root}
	for _, name := range names {
		main := filepath.Join(root, name, "main.go")
		src, err := os.ReadFile(main)
		if err != nil {
			return err
		}
		if _, err := os.Stat(solutionPath(root, name)); err == nil {
			if ex, _ := exerciseFor(root, name); !bytes.Equal(src, ex) {
				if err := kept.keep(name, src); err != nil {
					return err
				}
			}
			continue
		}
		if isExercise(src) {
			return fmt.Errorf("%s/main.go is an exercise already, and no reference "+
				"solution is saved for it in %s: get it back with git "+
				"(git log -- %s/main.go)", name, stateDir, name)
		}
		if err := writeFile(solutionPath(root, name), src); err != nil {
			return err
		}
	}
	for _, name := range names {
		ex, err := exerciseFor(root, name)
		if err != nil {
			return err
		}
		if err := writeFile(filepath.Join(root, name, "main.go"), ex); err != nil {
			return err
		}
	}
	say(w, "The lessons are exercises now: %s.", strings.Join(names, ", "))
	say(w, "Open %s/main.go, write it from its TODOs, then run: make check", names[0])
	say(w, "make solutions brings back the reference solutions (kept in %s).", stateDir)
	kept.say(w)
	return nil
}

// exerciseFor makes a lesson's exercise from its saved reference.
func exerciseFor(root, name string) ([]byte, error) {
	ref, err := os.ReadFile(solutionPath(root, name))
	if err != nil {
		return nil, err
	}
	plumbing, err := funcs(filepath.Join(root, name, "conn.go"))
	if err != nil {
		return nil, err
	}
	// Only the plumbing that the reference calls.
	plumbing = slices.DeleteFunc(plumbing, func(fn string) bool {
		return !bytes.Contains(ref, []byte(fn+"("))
	})
	out, from, err := lessontest.Story(filepath.Join(root, name))
	if err != nil {
		return nil, err
	}
	return exercise(name, ref, plumbing, out, from)
}

// funcs lists the functions of a Go file, in order.
func funcs(file string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
			names = append(names, fd.Name.Name)
		}
	}
	return names, nil
}

// restoreSolutions puts back every saved reference, keeps what it
// replaces in .workshop/yours, and leaves workshop mode.
func restoreSolutions(w io.Writer, root string) error {
	if !inWorkshop(root) {
		say(w, "The lessons are the reference solutions already (make workshop makes them exercises).")
		return nil
	}
	names, err := lessons(root)
	if err != nil {
		return err
	}
	kept := &yours{root: root}
	for _, name := range names {
		ref, err := os.ReadFile(solutionPath(root, name))
		if os.IsNotExist(err) {
			continue // a lesson added since make workshop: never an exercise
		}
		if err != nil {
			return err
		}
		main := filepath.Join(root, name, "main.go")
		cur, err := os.ReadFile(main)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if bytes.Equal(cur, ref) {
			continue
		}
		if ex, _ := exerciseFor(root, name); cur != nil && !bytes.Equal(cur, ex) {
			if err := kept.keep(name, cur); err != nil {
				return err
			}
		}
		if err := writeFile(main, ref); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(filepath.Join(root, stateDir, "solutions")); err != nil {
		return err
	}
	say(w, "The lessons are the reference solutions again: %s.", strings.Join(names, ", "))
	kept.say(w)
	return nil
}

// uncommitted lists the lessons' main.go files that git sees changed.
// Without git, or outside a repository, it lists none.
func uncommitted(root string, names []string) []string {
	args := []string{"status", "--porcelain", "--"}
	for _, n := range names {
		args = append(args, n+"/main.go")
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil
	}
	var files []string
	for line := range strings.Lines(string(out)) {
		if len(line) > 3 {
			files = append(files, strings.TrimSpace(line[3:]))
		}
	}
	return files
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o666)
}
