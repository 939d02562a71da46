// Command workshop turns the lessons into exercises and checks them,
// lesson by lesson, as a workshop attendee writes them:
//
//	go run ./scripts/workshop            (make workshop) each lesson's
//	                                     main.go becomes an exercise
//	go run ./scripts/workshop check [NN...]   (make check) run the
//	                                     lessons in order, stop at the
//	                                     first that fails, explain it
//	go run ./scripts/workshop -restore   (make solutions) bring back
//	                                     the reference solutions
//	go run ./scripts/workshop watch [NN...]   (make watch) check again
//	                                     whenever a lesson is saved
//	go run ./scripts/workshop preflight  (make preflight) ready this
//	                                     machine, or say what is missing
//
// The lessons are the folders named NN-name. An exercise keeps the
// lesson's package comment, imports and function signatures; the
// bodies become numbered TODOs taken from the reference's comments.
// conn.go, the plumbing, stays as it is. The reference solutions are
// kept in .workshop/solutions (which git ignores), so that -restore
// works whatever the attendee committed since; what -restore or
// -force replaces is kept in .workshop/yours/<date>-<time>. Run it from the
// repository.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"redis-by-hand/internal/lessontest"
)

func main() {
	// make check runs each lesson through this program, which records
	// the run (internal/lessontest): that comes first.
	lessontest.Recorder()
	fs := flag.NewFlagSet("workshop", flag.ExitOnError)
	restore := fs.Bool("restore", false, "bring back the reference solutions (make solutions)")
	force := fs.Bool("force", false, "make the exercises again, even over your work "+
		"(which is kept in .workshop/yours/<date>-<time>)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: go run ./scripts/workshop [-force | -restore | check [NN...] | watch [NN...] | preflight]\n")
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:])
	root, err := repoRoot()
	if err == nil {
		switch args := fs.Args(); {
		case len(args) > 0 && args[0] == "check":
			var ok bool
			ok, err = check(os.Stdout, root, args[1:])
			if err == nil && !ok {
				os.Exit(1)
			}
		case len(args) > 0 && args[0] == "watch":
			// Ctrl-C ends the watch: that is how it is left, so
			// the status is 0.
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// On a terminal, Ctrl-C is read as a key, not sent as a
			// signal to make as well, which would report it as an
			// error although the watch ended as it should.
			if restore := keysNoSignals(stop); restore != nil {
				defer restore()
			}
			if _, err = selectLessons(mustLessons(root), args[1:]); err == nil {
				err = watch(ctx, os.Stdout, root, args[1:], 500*time.Millisecond)
			}
			if err == nil {
				fmt.Println("\nStopped watching.")
			}
		case len(args) == 1 && args[0] == "preflight":
			var ok bool
			ok, err = preflight(os.Stdout, root)
			if err == nil && !ok {
				os.Exit(1)
			}
		case len(args) > 0:
			fs.Usage()
			os.Exit(2)
		case *restore:
			err = restoreSolutions(os.Stdout, root)
		default:
			err = makeExercises(os.Stdout, root, *force)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "workshop: %v\n", err)
		os.Exit(1)
	}
}

// mustLessons is the lessons, or none when there are none (watch
// then says so through selectLessons).
func mustLessons(root string) []string {
	names, _ := lessons(root)
	return names
}

// repoRoot is the folder that holds go.mod, from here up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("run it from the repository (no go.mod found here or above)")
		}
		dir = up
	}
}

// lessons are the lesson folders, NN-name, in order.
func lessons(root string) ([]string, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "[0-9][0-9]-*"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "main.go")); err == nil {
			names = append(names, filepath.Base(d))
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no lesson folders (NN-name/main.go) in %s", root)
	}
	return names, nil
}

// select picks the lessons that args name, by number or full name.
func selectLessons(all, args []string) ([]string, error) {
	if len(args) == 0 {
		return all, nil
	}
	var out []string
	for _, a := range args {
		found := false
		for _, l := range all {
			if l == a || strings.HasPrefix(l, a+"-") || len(a) == 1 && strings.HasPrefix(l, "0"+a+"-") {
				out = append(out, l)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no lesson %q: the lessons are %s", a, strings.Join(all, ", "))
		}
	}
	return out, nil
}

func say(w io.Writer, format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
