// Command report runs the comparison of docs/drivers.md and redraws
// the page's tables and its chart, docs/drivers.svg. From compare/:
//
//	go run ./report            (or, from the repository: make compare)
//
// It runs every benchmark once, -count rounds over (a line as each
// finishes), keeping go test's output in testdata/bench.txt; builds the small
// program of get/ with each client, for its size, its packages and
// the lines of Go it links beyond the standard library, into
// testdata/build.txt; then writes the page from those two files.
// -redraw writes the page from the files alone.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Where the results and the page are, seen from compare/.
const (
	benchFile = "testdata/bench.txt"
	buildFile = "testdata/build.txt"
	pageFile  = "../docs/drivers.md"
	chartFile = "../docs/drivers.svg"
)

func main() {
	count := flag.Int("count", 10, "runs of each benchmark; the page shows their median")
	benchtime := flag.String("benchtime", "200ms", "go test -benchtime for each run")
	redraw := flag.Bool("redraw", false, "only write the page from "+benchFile+" and "+buildFile)
	flag.Parse()
	if err := run(*count, *benchtime, *redraw); err != nil {
		fmt.Fprintf(os.Stderr, "report: %v\n", err)
		os.Exit(1)
	}
}

func run(count int, benchtime string, redraw bool) error {
	if _, err := os.Stat("byhand/byhand.go"); err != nil {
		return errors.New("run me from compare/: cd compare && go run ./report")
	}
	if !redraw {
		if err := measureBuilds(); err != nil {
			return err
		}
		if err := bench(count, benchtime); err != nil {
			return err
		}
	}
	r, err := load()
	if err != nil {
		return err
	}
	return write(r)
}

// bench runs the benchmarks into benchFile: count rounds of every
// benchmark once, so that a busy spell of the machine falls on a
// run of each, not on all the runs of one. A line as each ends.
func bench(count int, benchtime string) error {
	version, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return fmt.Errorf("redis-server --version: %v (the benchmarks need redis-server on PATH)", err)
	}
	dir, err := os.MkdirTemp("", "compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	exe := filepath.Join(dir, "compare.test")
	if out, err := exec.Command("go", "test", "-c", "-o", exe, ".").CombinedOutput(); err != nil {
		return fmt.Errorf("go test -c: %v\n%s", err, out)
	}
	total := len(ops) * len(clients)
	fmt.Fprintf(os.Stderr, "report: %d rounds of %d benchmarks, %s each, on %d cores; "+
		"about 3 minutes\n", count, total, benchtime, runtime.NumCPU())
	start := time.Now()
	var raw bytes.Buffer
	runs := map[key][]result{}
	for round := 1; round <= count; round++ {
		cmd := exec.Command(exe, "-test.run", "^$", "-test.bench", ".", "-test.benchmem",
			"-test.count", "1", "-test.benchtime", benchtime)
		cmd.Env = append(os.Environ(), "REDIS_SERVER_REQUIRED=1")
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		mark := raw.Len()
		sc := bufio.NewScanner(io.TeeReader(out, &raw))
		done := 0
		for sc.Scan() {
			k, res, ok := parseLine(sc.Text())
			if !ok {
				continue
			}
			runs[k] = append(runs[k], res)
			done++
			line := fmt.Sprintf("report: round %d/%d [%2d/%d] %-12s %-14s %9s",
				round, count, done, total, k.op, k.client, duration(res.ns))
			if round == count {
				m := median(runs[k])
				line += fmt.Sprintf("  median %s, %s", duration(m.ns), allocs(m))
			}
			fmt.Fprintln(os.Stderr, line)
		}
		if err := cmd.Wait(); err != nil {
			os.Stderr.Write(raw.Bytes()[mark:])
			return fmt.Errorf("the benchmarks: %v", err)
		}
	}
	took := time.Since(start).Round(time.Second)
	head := fmt.Sprintf("date: %s\ncores: %d\ngo: %s\nredis-server: %s\n"+
		"count: %d\nbenchtime: %s\ntook: %s\n",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(),
		serverVersion(string(version)), count, benchtime, took)
	fmt.Fprintf(os.Stderr, "report: the benchmarks took %s\n", took)
	return os.WriteFile(benchFile, append([]byte(head), raw.Bytes()...), 0o644)
}

// serverVersion finds 7.0.15 in "Redis server v=7.0.15 sha=...".
func serverVersion(s string) string {
	_, v, _ := strings.Cut(s, " v=")
	v, _, _ = strings.Cut(v, " ")
	return v
}

// measureBuilds builds get/<client> with each client and writes its
// size, its packages, and the lines of Go outside the standard library
// and the program itself, into buildFile.
func measureBuilds() error {
	dir, err := os.MkdirTemp("", "compare-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var b strings.Builder
	b.WriteString("# program\tbinary bytes\tpackages\tnon-standard packages\tlines of Go\n")
	for _, p := range programs {
		exe := filepath.Join(dir, p)
		if out, err := exec.Command("go", "build", "-o", exe, "./get/"+p).CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./get/%s: %v\n%s", p, err, out)
		}
		fi, err := os.Stat(exe)
		if err != nil {
			return err
		}
		out, err := exec.Command("go", "list", "-deps", "-f",
			"{{.Standard}} {{.ImportPath}} {{.Dir}} {{join .GoFiles \" \"}}", "./get/"+p).Output()
		if err != nil {
			return fmt.Errorf("go list -deps ./get/%s: %v", p, err)
		}
		all, nonstd, lines := 0, 0, 0
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(line)
			all++
			if f[0] == "true" || f[1] == "redis-by-hand/compare/get/"+p {
				continue
			}
			nonstd++
			for _, name := range f[3:] {
				n, err := countLines(filepath.Join(f[2], name))
				if err != nil {
					return err
				}
				lines += n
			}
		}
		fmt.Fprintf(&b, "%s\t%d\t%d\t%d\t%d\n", p, fi.Size(), all, nonstd, lines)
		fmt.Fprintf(os.Stderr, "report: get/%s: %s, %d packages, %d lines of Go beyond the standard library\n",
			p, size(fi.Size()), all, lines)
	}
	return os.WriteFile(buildFile, []byte(b.String()), 0o644)
}

// countLines counts the lines of a Go file that are neither blank nor
// only a // comment.
func countLines(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "//") {
			n++
		}
	}
	return n, nil
}
