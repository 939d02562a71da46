// Command stress runs the whole test suite several times while busy
// loops hold the cores, and names every test that failed even once: a
// flaky test is a bug, and one run rarely shows it.
//
//	go run ./scripts/stress [-runs 5] [-load 2] [-- go test flags and packages]
//
// make stress runs it with make test's flags.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	runs := flag.Int("runs", 5, "how many times to run the suite")
	load := flag.Int("load", 2, "how many busy loops hold the cores meanwhile")
	flag.Parse()

	// The busy loops: goroutines on threads of their own, spinning
	// until the runs are over.
	var done atomic.Bool
	for range *load {
		go func() {
			runtime.LockOSThread()
			for !done.Load() {
			}
		}()
	}

	failed := map[string]int{} // "package TestName": runs it failed in
	for i := 1; i <= *runs; i++ {
		start := time.Now()
		fails, err := suite(flag.Args())
		if err != nil {
			fmt.Fprintf(os.Stderr, "stress: %v\n", err)
			os.Exit(2)
		}
		for _, f := range fails {
			failed[f]++
		}
		fmt.Printf("run %d of %d: %.1f s, %d failed\n", i, *runs,
			time.Since(start).Seconds(), len(fails))
	}
	done.Store(true)

	if len(failed) == 0 {
		fmt.Printf("no test failed in %d runs, under %d busy loops\n", *runs, *load)
		return
	}
	var names []string
	for name := range failed {
		names = append(names, name)
	}
	slices.Sort(names)
	fmt.Printf("failed at least once, in %d runs under %d busy loops:\n", *runs, *load)
	for _, name := range names {
		fmt.Printf("  %s: %d of %d runs\n", name, failed[name], *runs)
	}
	os.Exit(1)
}

// suite runs go test -json once, on args (./... without them), and
// returns the tests that failed, as "package Test/subtest" (a package
// that failed outside any test, say to build, as "package").
func suite(args []string) ([]string, error) {
	if len(args) == 0 {
		args = []string{"./..."}
	}
	cmd := exec.Command("go", append([]string{"test", "-count=1", "-json"}, args...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var fails []string
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct{ Action, Package, Test string }
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Action != "fail" {
			continue
		}
		fails = append(fails, strings.TrimSpace(ev.Package+" "+ev.Test))
	}
	cmd.Wait() // its status is the fails found, or none
	return fails, sc.Err()
}
