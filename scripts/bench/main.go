// Command bench measures how fast the embedded Redis answers, next to
// what it wraps and what it stands in for: it starts the sandbox, plain
// miniredis on its own listener, and redis-server when it is on PATH,
// runs `redis-benchmark -c 1 -t incr -P N` against each, in turns, for
// several rounds, and prints the medians and whether the targets hold:
//
//	go run ./scripts/bench
//
// Targets: at -P 1 the sandbox makes at least half the requests per
// second of redis-server and 0.9 of plain miniredis; at -P 16 and
// -P 256, at least 0.9 of plain miniredis.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"

	"github.com/alicebob/miniredis/v2"

	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/sandbox"
)

// A target is one server under test.
type target struct {
	name string
	addr string
	runs map[int][]float64 // requests per second, by pipeline depth
}

// pipelines are the depths measured, and how many requests each run
// sends (about half a second on a laptop, for the slowest server).
var pipelines = []struct{ depth, requests int }{
	{1, 10000}, {16, 50000}, {256, 100000},
}

func main() {
	rounds := flag.Int("rounds", 5, "measure each figure this many times, and keep the median")
	flag.Parse()
	if err := run(*rounds); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

// errMissed is run's error when a target does not hold.
var errMissed = errors.New("a target does not hold")

func run(rounds int) error {
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		return errors.New("redis-benchmark is not on PATH: install the Redis tools " +
			"(Debian/Ubuntu: apt-get install redis-tools; macOS: brew install redis)")
	}

	sb, err := sandbox.Start("127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sandbox: %v", err)
	}
	defer sb.Close()
	mini, err := miniredis.Run()
	if err != nil {
		return fmt.Errorf("miniredis: %v", err)
	}
	defer mini.Close()
	targets := []*target{
		{name: "sandbox", addr: sb.Addr()},
		{name: "plain miniredis", addr: mini.Addr()},
	}
	if _, err := exec.LookPath(realredis.Binary); err == nil {
		real, err := realredis.Start()
		if err != nil {
			return fmt.Errorf("redis-server: %v", err)
		}
		defer real.Stop()
		targets = append(targets, &target{name: "redis-server", addr: real.Addr})
	} else {
		fmt.Println("redis-server is not on PATH: measuring the sandbox and miniredis only.")
	}

	// Turns, so that a busy moment of the machine hits every server
	// alike.
	for round := 1; round <= rounds; round++ {
		fmt.Fprintf(os.Stderr, "round %d of %d\r", round, rounds)
		for _, p := range pipelines {
			for _, t := range targets {
				if t.runs == nil {
					t.runs = map[int][]float64{}
				}
				v, err := measure(t.addr, p.depth, p.requests)
				if err != nil {
					return err
				}
				t.runs[p.depth] = append(t.runs[p.depth], v)
			}
		}
	}
	fmt.Fprintln(os.Stderr)
	if !report(targets, rounds) {
		return errMissed
	}
	return nil
}

var rps = regexp.MustCompile(`INCR: ([0-9.]+) requests per second`)

// measure runs redis-benchmark once and returns its requests per second.
func measure(addr string, depth, requests int) (float64, error) {
	host, port, _ := net.SplitHostPort(addr)
	out, err := exec.Command("redis-benchmark", "-h", host, "-p", port,
		"-c", "1", "-t", "incr", "-P", strconv.Itoa(depth),
		"-n", strconv.Itoa(requests), "-q").CombinedOutput()
	m := rps.FindSubmatch(out)
	if err != nil || m == nil {
		return 0, fmt.Errorf("redis-benchmark against %s: %v\n%s", addr, err, out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// report prints the table of medians and checks the targets; it
// reports whether they all hold.
func report(targets []*target, rounds int) bool {
	fmt.Printf("redis-benchmark -c 1 -t incr, requests per second (median of %d):\n\n", rounds)
	fmt.Printf("| pipeline |")
	for _, t := range targets {
		fmt.Printf(" %s |", t.name)
	}
	fmt.Printf("\n|---|")
	for range targets {
		fmt.Printf("---|")
	}
	fmt.Println()
	for _, p := range pipelines {
		fmt.Printf("| `-P %d` |", p.depth)
		for _, t := range targets {
			fmt.Printf(" %.0f |", median(t.runs[p.depth]))
		}
		fmt.Println()
	}
	fmt.Println()

	sb, mini := targets[0], targets[1]
	var real *target
	if len(targets) > 2 {
		real = targets[2]
	}
	ok := true
	check := func(depth int, other *target, want float64) {
		if other == nil {
			return
		}
		ratio := median(sb.runs[depth]) / median(other.runs[depth])
		verdict := "holds"
		if ratio < want {
			verdict, ok = "MISSED", false
		}
		fmt.Printf("-P %-3d sandbox / %-15s = %.2f (target >= %.1f): %s\n",
			depth, other.name, ratio, want, verdict)
	}
	check(1, real, 0.5)
	check(1, mini, 0.9)
	check(16, mini, 0.9)
	check(256, mini, 0.9)
	return ok
}
