package lessonbin

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBuild builds versions of a one-line lesson into a cache of its
// own: a version built before comes from the cache without the go
// command, a new version gets a folder of its own, a mistake gets the
// compiler's words, and only the latest versions stay.
func TestBuild(t *testing.T) {
	path := os.Getenv("PATH")
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not on PATH")
	}
	// The go command's own cache stays where it is.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(gocache)))
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache) // os.UserCacheDir on Linux and the BSDs
	t.Setenv("HOME", cache)           // on macOS
	t.Setenv("LocalAppData", cache)   // on Windows
	root := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		path := filepath.Join(root, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(path), 0o777)
		if err := os.WriteFile(path, []byte(text), 0o666); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/lessons\n\ngo 1.25\n")
	lesson := func(v string) string {
		return "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"" + v + "\") }\n"
	}
	run := func(dir string) string {
		t.Helper()
		exe := filepath.Join(dir, "01-x")
		if runtime.GOOS == "windows" {
			exe += ".exe"
		}
		out, err := exec.Command(exe).Output()
		if err != nil {
			t.Fatalf("%s: %v", exe, err)
		}
		return string(out)
	}

	write("01-x/main.go", lesson("v1"))
	v1, out, err := Build(root, "01-x")
	if err != nil {
		t.Fatalf("Build: %v\n%s", err, out)
	}
	if got := run(v1); got != "v1\n" {
		t.Fatalf("the program printed %q, want v1", got)
	}
	if !strings.HasPrefix(v1, filepath.Join(CacheDir(), "check")) {
		t.Errorf("built into %s, outside %s", v1, CacheDir())
	}

	// The same files again: from the cache, with no go on PATH, and
	// marked as used (it was last used long ago).
	longer := time.Now().Add(-3 * time.Hour)
	os.Chtimes(v1, longer, longer)
	t.Setenv("PATH", "")
	if again, _, err := Build(root, "01-x"); err != nil || again != v1 {
		t.Errorf("the same files again: %s, %v; want %s, from the cache", again, err, v1)
	}
	os.Setenv("PATH", path)

	// Older versions, and a build that was interrupted long ago.
	check := filepath.Join(CacheDir(), "check")
	long := time.Now().Add(-2 * time.Hour)
	for _, d := range []string{"01-x-old1", "01-x-old2", "01-x-old3", "01-x-old4", ".build-01-x-1"} {
		os.Mkdir(filepath.Join(check, d), 0o777)
		os.Chtimes(filepath.Join(check, d), long, long)
	}
	// Two used in the last hour: one among the latest three, and
	// one kept because another make check may be running it.
	for i, d := range []string{"01-x-old3", "01-x-old4"} {
		recent := time.Now().Add(-time.Duration(i+1) * time.Minute)
		os.Chtimes(filepath.Join(check, d), recent, recent)
	}

	write("01-x/main.go", lesson("v2"))
	v2, _, err := Build(root, "01-x")
	if err != nil || v2 == v1 || run(v2) != "v2\n" {
		t.Errorf("a new version: %s, %v; want a folder of its own that prints v2", v2, err)
	}
	kept, _ := filepath.Glob(filepath.Join(check, "*"))
	for i := range kept {
		kept[i] = filepath.Base(kept[i])
	}
	want := []string{"01-x-old3", "01-x-old4", filepath.Base(v1), filepath.Base(v2)}
	slices.Sort(want)
	if !slices.Equal(kept, want) {
		t.Errorf("the cache keeps %q, want the latest %d versions and those used within %v: %q",
			kept, keep, unused, want)
	}

	// Another toolchain or target: another version.
	env := goEnv
	goEnv = func(string) ([]byte, error) { return []byte("go9.99\nplan9\n"), nil }
	other, err := keyOf(root, "01-x")
	goEnv = env
	if same, _ := keyOf(root, "01-x"); err != nil || other == same {
		t.Errorf("another toolchain gives the key %q, %v; want other than %q", other, err, same)
	}

	// A lesson that imports more than the standard library depends
	// on more files than the key covers: it is not cached.
	write("01-x/main.go", "package main\n\nimport _ \"example.com/lessons/util\"\n\nfunc main() {}\n")
	if k, err := keyOf(root, "01-x"); k != "" || err != nil {
		t.Errorf("a lesson that imports another package has the key %q, %v; want none", k, err)
	}

	// The files change while go build reads them: the program is not
	// the one the key names, and is not kept for it.
	write("01-x/main.go", "package main\n\nfunc main() { println(1) }\n")
	built = func() { write("01-x/main.go", "package main\n\nfunc main() { println(2) }\n") }
	dir, _, err := Build(root, "01-x")
	built = nil
	if err != nil || filepath.Dir(dir) == check && !strings.HasPrefix(filepath.Base(dir), ".build-") {
		t.Errorf("a lesson edited during its build was kept in the cache as %s (%v)", dir, err)
	}
	os.RemoveAll(dir) // a build of its own, which prune would remove later
	write("01-x/main.go", "package main\n\nfunc main() { println(1) }\n")
	if k, _ := keyOf(root, "01-x"); k != "" {
		if _, err := os.Stat(filepath.Join(check, "01-x-"+k)); err == nil {
			t.Errorf("the cache holds a program for the files as they were before the edit")
		}
	}

	write("01-x/main.go", "package main\n\nfunc main() { undefined() }\n")
	var exit *exec.ExitError
	if _, out, err := Build(root, "01-x"); !errors.As(err, &exit) || !strings.Contains(string(out), "undefined") {
		t.Errorf("a mistake: %v, %q; want the compiler's words", err, out)
	}
	if leftover, _ := filepath.Glob(filepath.Join(check, ".build-*")); len(leftover) > 0 {
		t.Errorf("builds left %q", leftover)
	}
}
