// Command test runs the test suite as go test -count=1 does, and keeps
// each package's test program between runs: go test links every test
// program again on every run, which is a third of the suite's CPU time
// on 2 cores; go test -c writes them into one folder and relinks only
// those whose code changed. Every test still runs, every time.
//
//	go run ./scripts/test [-p 8] [-parallel 8] [-v] [packages]
//
// make test runs it. Like go test, it vets each package first (with
// go test's own checks), runs the test programs P at a time, each in
// its package's folder, and prints "ok" or the whole output and
// "FAIL" for each package, in the order the packages are named.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// vetChecks are the checks go test runs before the tests (cmd/go's
// defaultVetFlags).
var vetChecks = []string{"-atomic", "-bool", "-buildtags", "-directive",
	"-errorsas", "-ifaceassert", "-nilfunc", "-printf", "-slog",
	"-stringintconv", "-tests"}

func main() {
	p := flag.Int("p", runtime.GOMAXPROCS(0), "how many test programs run at a time")
	parallel := flag.Int("parallel", runtime.GOMAXPROCS(0), "how many tests of a program run at a time")
	verbose := flag.Bool("v", false, "print every test's output, as go test -v does")
	bin := flag.String("bin", filepath.Join(".bin", "tests"), "where the test programs are kept")
	flag.Parse()
	patterns := flag.Args()
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	// Ctrl-C reaches the test programs too: wait for them to end and
	// report, rather than leave them behind. (Caught, not ignored: an
	// ignored signal would stay ignored in every program started.)
	signal.Notify(make(chan os.Signal, 1), os.Interrupt)

	pkgs, err := list(patterns)
	if err != nil {
		fail(err)
	}
	if !run("go", append([]string{"vet"}, append(vetChecks, patterns...)...)...) {
		fmt.Println("FAIL")
		os.Exit(1)
	}
	// A package that does not build: go test says which, and runs the
	// others; a kept program from before the change must not stand in.
	var tested []string
	for _, pkg := range pkgs {
		if pkg.tests {
			tested = append(tested, pkg.path)
		}
	}
	if !run("go", append([]string{"test", "-c", "-o", *bin + string(filepath.Separator)}, tested...)...) {
		args := []string{"test", "-count=1", fmt.Sprint("-p=", *p), fmt.Sprint("-parallel=", *parallel)}
		run("go", append(args, patterns...)...)
		os.Exit(1)
	}

	// Each program in its package's folder, at most p at a time;
	// each result printed once the results before it are.
	sem := make(chan struct{}, *p)
	results := make([]chan result, len(pkgs))
	for i, pkg := range pkgs {
		results[i] = make(chan result, 1)
		if !pkg.tests {
			results[i] <- result{fmt.Sprintf("?   \t%s\t[no test files]\n", pkg.path), true}
			continue
		}
		go func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] <- pkg.test(*bin, *parallel, *verbose)
		}()
	}
	failed := false
	for _, r := range results {
		r := <-r
		failed = failed || !r.ok
		fmt.Print(r.out)
	}
	if failed {
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

// A result is what go test prints for a package, and whether it passed.
type result struct {
	out string
	ok  bool
}

// test runs the package's test program and returns what go test would
// print for it: a line that starts with ok, or its output and FAIL.
func (p pkg) test(bin string, parallel int, verbose bool) result {
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
		if _, exited := err.(*exec.ExitError); !exited || !bytes.Contains(out.Bytes(), []byte("FAIL")) {
			fmt.Fprintf(&out, "%s: %v\n", filepath.Base(exe), err)
		}
		return result{fmt.Sprintf("%sFAIL\t%s\t%.3fs\n", &out, p.path, took), false}
	}
	if !verbose {
		out.Reset()
	}
	return result{fmt.Sprintf("%sok  \t%s\t%.3fs\n", &out, p.path, took), true}
}

// run runs a go command with the output on ours, and says if it passed.
func run(name string, args ...string) bool {
	cmd := exec.Command(name, args...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	return cmd.Run() == nil
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "test: %v\n", err)
	os.Exit(2)
}
