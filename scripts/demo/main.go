// Command demo replays the whole blog post, lesson by lesson, then the
// lessons beyond it: each lesson's main story, the testdata scripts
// that its hints.txt names first, shown as the commands a reader
// would type and what the lesson printed.
//
//	go run ./scripts/demo               (or: make demo)
//	go run ./scripts/demo -clean        remove the cached lesson binaries
//	                                    (of make demo and make check)
//
// Each story runs on a fresh embedded Redis on a free loopback port,
// so that the demo never touches a Redis you run (REDIS_ADDR is
// ignored). What it shows is checked as it runs: a story whose
// lesson prints other bytes than its golden files stops the demo.
// Run it from the repository.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"redis-by-hand/internal/lessonbin"
	"redis-by-hand/internal/lessontest"
)

func main() {
	// The lessons run through this program, which records each run
	// (as make check's does): that comes first.
	lessontest.Recorder()
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	clean := flag.Bool("clean", false, "remove the cached lesson binaries, and say where they were")
	flag.Parse()
	root, err := repository()
	if err != nil {
		return err
	}
	if *clean {
		// make demo and make check share it, with every clone.
		if err := os.RemoveAll(lessonbin.CacheDir()); err != nil {
			return err
		}
		fmt.Printf("removed the cached lesson binaries (make demo, make check) from %s\n", lessonbin.CacheDir())
		return nil
	}
	lessons, err := filepath.Glob(filepath.Join(root, "[0-9][0-9]-*"))
	if err != nil || len(lessons) == 0 {
		return fmt.Errorf("no lesson folders in %s", root)
	}
	bins, err := build(root, lessons)
	if err != nil {
		return err
	}
	fmt.Println("# Each lesson's story runs on a fresh embedded Redis, on a")
	fmt.Println("# free port that the lessons find through REDIS_ADDR.")
	for _, dir := range lessons {
		name := filepath.Base(dir)
		var scripts []string
		var f *lessontest.Failure
		// A story with a program in the background that ends with
		// Ctrl-C needs a POSIX shell and signals: on Windows, it is
		// shown without being run.
		shownOnly := runtime.GOOS == "windows" && posixOnly(dir)
		if shownOnly {
			scripts, err = lessontest.StoryScripts(dir)
		} else {
			scripts, f, err = lessontest.RunStory(dir, bins[name])
		}
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		fmt.Printf("\n## %s (docs/%s.md)\n", title(root, name), name)
		if shownOnly {
			fmt.Println("# (Shown, not run, on Windows: run it by hand, as the page says.)")
		}
		for i, s := range scripts {
			a, err := txtar.ParseFile(s)
			if err != nil {
				return err
			}
			if i > 0 {
				fmt.Println()
			}
			fmt.Print(transcript(a))
		}
		if f != nil {
			return fmt.Errorf("%s's story failed:\n%s", name, f.Message())
		}
	}
	return nil
}

// posixOnly says whether a lesson's story needs a POSIX shell or
// signals: a program in the background (sh -c), or Ctrl-C (kill).
func posixOnly(dir string) bool {
	scripts, err := lessontest.StoryScripts(dir)
	if err != nil {
		return false
	}
	for _, s := range scripts {
		data, _ := os.ReadFile(s)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "exec sh ") || strings.HasPrefix(line, "kill ") {
				return true
			}
		}
	}
	return false
}

// repository finds the repository's folder.
func repository() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("run me from the repository: make demo")
	}
	return filepath.Dir(gomod), nil
}

// build compiles every lesson, which is much faster than a go run per
// step, and returns the folder of each lesson's program. The programs
// stay in the user's cache (the one make check uses): a lesson whose
// files have not changed is not built again.
func build(root string, lessons []string) (map[string]string, error) {
	// A cold build takes a while: say so, but only then, and then
	// say how far it is.
	var slow atomic.Bool
	timer := time.AfterFunc(2*time.Second, func() {
		fmt.Fprintf(os.Stderr, "building the %d lessons: a first run takes "+
			"a few seconds each...\n", len(lessons))
		slow.Store(true)
	})
	defer timer.Stop()
	bins := map[string]string{}
	for i, l := range lessons {
		name := filepath.Base(l)
		dir, out, err := lessonbin.Build(root, name)
		if slow.Load() {
			fmt.Fprintf(os.Stderr, "  built %d of %d: %s\n", i+1, len(lessons), name)
		}
		if len(out) > 0 {
			return nil, fmt.Errorf("%s does not compile:\n%s", name, bytes.TrimSpace(out))
		}
		if err != nil {
			return nil, fmt.Errorf("building %s: %v", name, err)
		}
		bins[name] = dir
	}
	return bins, nil
}

// title is the lesson's page title, "Lesson 01: ping".
func title(root, name string) string {
	page, _ := os.ReadFile(filepath.Join(root, "docs", name+".md"))
	first, _, _ := strings.Cut(string(page), "\n")
	if t, ok := strings.CutPrefix(first, "# "); ok {
		return t
	}
	return name
}
