// Command test runs the test suite as go test -count=1 does, and keeps
// each package's test program between runs: go test links every test
// program again on every run, which is a third of the suite's CPU time
// on 2 cores; go test -c writes them into one folder and relinks only
// those whose code changed. Every test still runs, every time.
//
//	go run ./scripts/test [-p 8] [-parallel 8] [-v] [packages]
//
// make test runs it. go test -c vets each package first, with go
// test's own checks. The test programs then run P at a time, in the
// order the packages are named, each in its package's folder; for
// each package it prints "ok", or the program's output and "FAIL",
// in that order too. If a package does not build, go test itself
// runs the suite instead: it says which, and runs the others.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	p := flag.Int("p", runtime.GOMAXPROCS(0), "how many test programs run at a time")
	parallel := flag.Int("parallel", runtime.GOMAXPROCS(0), "how many tests of a program run at a time")
	verbose := flag.Bool("v", false, "print every test's output, as go test -v does")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	// Ctrl-C reaches the test programs too: start no more, wait for
	// those running to end, and report. (Caught, not ignored: an
	// ignored signal would stay ignored in every program started.)
	var interrupted atomic.Bool
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	go func() {
		<-sigs
		interrupted.Store(true)
	}()

	env, err := goEnv()
	if err != nil {
		fail(err)
	}
	pkgs, err := list(patterns)
	if err != nil {
		fail(err)
	}
	// The programs are kept beside the module, wherever this runs.
	bin := filepath.Join(env["GOMOD"], "..", ".bin", "tests")
	var tested []string
	for _, pkg := range pkgs {
		if pkg.tests {
			tested = append(tested, pkg.path)
		}
	}
	if len(tested) > 0 {
		// A package that does not build: go test itself says which,
		// and runs the others. A program kept from before the
		// change must not stand in for it.
		build := exec.Command("go", append([]string{"test", "-c", "-o", bin + string(filepath.Separator)}, tested...)...)
		if out, err := build.CombinedOutput(); err != nil {
			if interrupted.Load() {
				os.Stdout.Write(out)
				os.Exit(1)
			}
			args := []string{"test", "-count=1", fmt.Sprint("-p=", *p),
				fmt.Sprint("-parallel=", *parallel), fmt.Sprint("-v=", *verbose)}
			cmd := exec.Command("go", append(args, patterns...)...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if cmd.Run() != nil {
				os.Exit(1)
			}
			return
		}
	}

	// go test puts its own toolchain first on the tests' PATH.
	path := filepath.Join(env["GOROOT"], "bin") + string(os.PathListSeparator) + os.Getenv("PATH")
	// One program at a time is started, in order, as a slot frees up;
	// each result is printed once the results before it are.
	results := make([]chan result, len(pkgs))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	go func() {
		slots := make(chan struct{}, *p)
		for i, pkg := range pkgs {
			if !pkg.tests {
				results[i] <- result{fmt.Sprintf("?   \t%s\t[no test files]\n", pkg.path), true}
				continue
			}
			slots <- struct{}{}
			if interrupted.Load() {
				results[i] <- result{fmt.Sprintf("FAIL\t%s\t(interrupted: not run)\n", pkg.path), false}
				<-slots
				continue
			}
			go func() {
				defer func() { <-slots }()
				results[i] <- pkg.test(bin, path, *parallel, *verbose)
			}()
		}
	}()
	failed := false
	for _, r := range results {
		r := <-r
		failed = failed || !r.ok
		fmt.Print(r.out)
	}
	if failed || interrupted.Load() {
		fmt.Println("FAIL")
		os.Exit(1)
	}
}

// A pkg is one package of the suite.
type pkg struct {
	path, dir string
	tests     bool // it has test files
}

// list names the packages that patterns match, in go test's order:
// as named, each once.
func list(patterns []string) ([]pkg, error) {
	cmd := exec.Command("go", append([]string{"list", "-f",
		"{{.ImportPath}}\t{{.Dir}}\t{{if or .TestGoFiles .XTestGoFiles}}tests{{end}}"},
		patterns...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v", err)
	}
	var pkgs []pkg
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("go list printed %q", line)
		}
		pkgs = append(pkgs, pkg{f[0], f[1], f[2] == "tests"})
	}
	return pkgs, nil
}

// goEnv is what go env says of GOROOT and GOMOD.
func goEnv() (map[string]string, error) {
	out, err := exec.Command("go", "env", "GOROOT", "GOMOD").Output()
	if err != nil {
		return nil, fmt.Errorf("go env: %v", err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\r\n"), "\n")
	if len(lines) != 2 || strings.TrimSpace(lines[1]) == "" || strings.TrimSpace(lines[1]) == os.DevNull {
		return nil, fmt.Errorf("go env: run this inside the module (got %q)", out)
	}
	return map[string]string{"GOROOT": strings.TrimSpace(lines[0]), "GOMOD": strings.TrimSpace(lines[1])}, nil
}

// A result is what go test prints for a package, and whether it passed.
type result struct {
	out string
	ok  bool
}

// test runs the package's test program, found in bin, with path as its
// PATH, and returns what go test prints for it: a line that starts
// with ok, or the program's output and a line that starts with FAIL.
func (p pkg) test(bin, path string, parallel int, verbose bool) result {
	exe := filepath.Base(p.path) + ".test"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	exe, err := filepath.Abs(filepath.Join(bin, exe))
	if err != nil {
		return result{fmt.Sprintf("FAIL\t%s\t%v\n", p.path, err), false}
	}
	cmd := exec.Command(exe, "-test.paniconexit0", "-test.timeout=10m0s",
		fmt.Sprint("-test.parallel=", parallel), fmt.Sprint("-test.v=", verbose))
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "PATH="+path)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	took := time.Since(start).Seconds()
	if err != nil {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteString("\n")
		}
		// go test's rule: the error too, unless the program exited
		// with a status after saying why.
		var exit *exec.ExitError
		if !errors.As(err, &exit) || !exit.Exited() || out.Len() == 0 {
			fmt.Fprintf(&out, "%v\n", err)
		}
		return result{fmt.Sprintf("%sFAIL\t%s\t%.3fs\n", &out, p.path, took), false}
	}
	if !verbose {
		out.Reset()
	}
	return result{fmt.Sprintf("%sok  \t%s\t%.3fs\n", &out, p.path, took), true}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "test: %v\n", err)
	os.Exit(2)
}
