// Package lessonbin builds lesson programs into the user's cache
// folder, so that make demo, make check and the tests that run a
// lesson as a program do not link them again on every run.
package lessonbin

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CacheDir is the folder that holds every cached lesson binary:
// make clean removes it.
func CacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "redis-by-hand")
}

// A lesson's versions beyond the latest keep are removed once unused
// for an hour: keep covers an attendee's exercise, latest attempt
// and the reference, and the hour a program that another make check
// has just built and runs.
const (
	keep   = 3
	unused = time.Hour
)

// Build returns the folder that holds the program of the lesson
// root/name, built from the lesson's files as they are now. A version
// of a lesson's files that was built before, in any clone, is not
// built again: a lesson imports only the standard library, so its
// program depends on its files, go.mod, and the Go toolchain and
// target, which the folder's name covers. (A lesson that imports
// anything else is built afresh each time.) When the lesson does not
// compile, err is an *exec.ExitError and out holds what the compiler
// said; any other err says what else failed.
func Build(root, name string) (dir string, out []byte, err error) {
	key, err := keyOf(root, name)
	if err != nil {
		return "", nil, err
	}
	cache := filepath.Join(CacheDir(), "check")
	dir = filepath.Join(cache, name+"-"+key)
	exe := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if _, err := os.Stat(exe); err == nil && key != "" {
		now := time.Now()
		os.Chtimes(dir, now, now) // used: pruned last
		return dir, nil, nil
	}
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return "", nil, err
	}
	// Build in a folder of its own, then rename it into place: a
	// program that runs is never replaced, and two builds at once
	// cannot mix.
	tmp, err := os.MkdirTemp(cache, ".build-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	// No -trimpath: it would compile the standard library again,
	// apart from the copy that go test and make demo already built
	// (ten seconds on a first run, on 2 cores).
	build := exec.Command("go", "build", "-buildvcs=false",
		"-o", filepath.Join(tmp, filepath.Base(exe)), "./"+name)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", out, err
	}
	if built != nil {
		built()
	}
	// The files may have changed while go build read them (make
	// check builds the next lesson while the learner edits): then
	// the program is not the one the key names, and is not kept.
	if after, err := keyOf(root, name); err != nil || after != key {
		key = ""
	}
	if key == "" {
		return tmp, nil, nil // not cached: prune removes it in an hour
	}
	defer os.RemoveAll(tmp)
	if err := rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(exe); statErr != nil {
			return "", nil, err
		}
		// Another build of the same files got there first.
	}
	prune(cache, name)
	return dir, nil, nil
}

// built, when a test sets it, runs between go build and the check
// that the files did not change meanwhile.
var built func()

// rename renames a folder that holds a program just built, trying
// again for a moment: on Windows, a virus scanner that reads the new
// program can hold its folder.
func rename(from, to string) error {
	var err error
	for range 10 {
		if err = os.Rename(from, to); err == nil || runtime.GOOS != "windows" {
			return err
		}
		if _, statErr := os.Stat(to); statErr == nil {
			return err // someone else's build is there
		}
		time.Sleep(50 * time.Millisecond)
	}
	return err
}

// key names a version of a lesson: its Go files, go.mod, and what go
// env says of the toolchain and the target. It is "" for a lesson
// that imports more than the standard library: its program depends
// on files that the key does not cover.
func keyOf(root, name string) (string, error) {
	env, err := goEnv(root)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(env)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	fmt.Fprintf(h, "go.mod %d\n%s", len(gomod), gomod)
	module := ""
	for line := range strings.Lines(string(gomod)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			module, _ = strconv.Unquote(f[1])
			if module == "" {
				module = f[1]
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(root, name, "*.go"))
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if !standardOnly(f, data, module) {
			return "", nil
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16], nil
}

// standardOnly reports whether a Go file imports only standard
// packages: paths with no dot in their first element, outside module.
// A file that does not parse is the compiler's to explain: true.
func standardOnly(path string, src []byte, module string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
	if err != nil {
		return true
	}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		first, _, _ := strings.Cut(p, "/")
		if strings.Contains(first, ".") || p == module || strings.HasPrefix(p, module+"/") {
			return false
		}
	}
	return true
}

// goEnv is what go env says, in root, of the toolchain and the
// target; it does not change while a tool runs.
var goEnv = func() func(root string) ([]byte, error) {
	var mu sync.Mutex
	seen := map[string][]byte{}
	return func(root string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if env, ok := seen[root]; ok {
			return env, nil
		}
		cmd := exec.Command("go", "env", "GOVERSION", "GOOS", "GOARCH",
			"GOFLAGS", "GOEXPERIMENT", "GOFIPS140", "CGO_ENABLED", "GOWORK",
			"GO386", "GOAMD64", "GOARM", "GOARM64", "GOMIPS", "GOMIPS64",
			"GOPPC64", "GORISCV64", "GOWASM")
		cmd.Dir = root
		env, err := cmd.Output()
		if err != nil {
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(exit.Stderr)))
			}
			return nil, fmt.Errorf("go env: %v", err)
		}
		seen[root] = env
		return env, nil
	}
}()

// prune removes a lesson's versions beyond the latest keep that have
// not been used for an hour, and what interrupted builds left.
func prune(cache, name string) {
	dirs, _ := filepath.Glob(filepath.Join(cache, name+"-*"))
	type version struct {
		dir  string
		used time.Time
	}
	var versions []version
	for _, d := range dirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			versions = append(versions, version{d, fi.ModTime()})
		}
	}
	slices.SortFunc(versions, func(a, b version) int { return b.used.Compare(a.used) })
	for _, v := range versions[min(keep, len(versions)):] {
		if time.Since(v.used) > unused {
			os.RemoveAll(v.dir) // a program that runs may refuse, on Windows
		}
	}
	stale, _ := filepath.Glob(filepath.Join(cache, ".build-"+name+"-*"))
	for _, d := range stale {
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > unused {
			os.RemoveAll(d)
		}
	}
}
