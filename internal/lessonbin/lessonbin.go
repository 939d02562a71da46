// Package lessonbin keeps built lesson programs in the user's cache
// folder, so that the tools which run lessons as programs (make demo,
// make check) do not link them again on every run.
package lessonbin

import (
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
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

// keep is how many versions of one lesson stay in the cache: enough
// for an attendee's exercise, latest attempt and the reference.
const keep = 3

// Build returns the folder that holds the program of the lesson
// root/name, built from the lesson's files as they are now. A version
// of a lesson's files that was built before, in any clone, is not
// built again: a lesson imports only the standard library, so its
// program depends on its files, go.mod, and the Go toolchain and
// target, which the folder's name covers. When the lesson does not
// compile, out holds what the compiler said.
func Build(root, name string) (dir string, out []byte, err error) {
	key, err := key(root, name)
	if err != nil {
		return "", nil, err
	}
	cache := filepath.Join(CacheDir(), "check")
	dir = filepath.Join(cache, name+"-"+key)
	exe := filepath.Join(dir, name)
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if _, err := os.Stat(exe); err == nil {
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
	defer os.RemoveAll(tmp)
	build := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-o", filepath.Join(tmp, filepath.Base(exe)), "./"+name)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", out, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, statErr := os.Stat(exe); statErr != nil {
			return "", nil, err
		}
		// Another build of the same files got there first.
	}
	prune(cache, name)
	return dir, nil, nil
}

// key names a version of a lesson: its Go files, go.mod, and what go
// env says of the toolchain and the target.
func key(root, name string) (string, error) {
	env, err := goEnv()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write(env)
	files, err := filepath.Glob(filepath.Join(root, name, "*.go"))
	if err != nil {
		return "", err
	}
	for _, f := range append(files, filepath.Join(root, "go.mod")) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16], nil
}

// goEnv is what go env says of the toolchain and the target; it does
// not change while a tool runs.
var goEnv = sync.OnceValues(func() ([]byte, error) {
	out, err := exec.Command("go", "env", "GOVERSION", "GOOS", "GOARCH",
		"GOFLAGS", "GOEXPERIMENT", "CGO_ENABLED", "GOAMD64", "GOARM", "GOARM64").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %v", err)
	}
	return out, nil
})

// prune keeps the latest versions of a lesson, and removes the others
// and what interrupted builds left.
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
		os.RemoveAll(v.dir) // a program that runs may refuse, on Windows
	}
	stale, _ := filepath.Glob(filepath.Join(cache, ".build-"+name+"-*"))
	for _, d := range stale {
		if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > time.Hour {
			os.RemoveAll(d)
		}
	}
}
