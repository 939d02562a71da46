package main

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The benchmarks, in the order of the page, with what the page calls
// them.
var ops = []struct{ name, label string }{
	{"Get64B", "GET, 64 B value"},
	{"Get4KiB", "GET, 4 KiB value"},
	{"Set", "SET, 64 B value"},
	{"Incr", "INCR"},
	{"PipeGet64B", "100 GETs of 64 B, pipelined"},
	{"PipeGet4KiB", "100 GETs of 4 KiB, pipelined"},
	{"PipeSet", "100 SETs of 64 B, pipelined"},
	{"PipeIncr", "100 INCRs, pipelined"},
	{"PubSub", "pub/sub: one 64 B message delivered"},
	{"SharedGet64B", "GET 64 B from 16 goroutines at once"},
}

// The clients, as the benchmarks name them, and as the page does.
var clients = []struct{ name, label string }{
	{"byhand", "by hand"},
	{"byhand-mutex", "by hand, mutex"},
	{"redigo", "redigo"},
	{"go-redis-RESP2", "go-redis, RESP2"},
	{"go-redis-RESP3", "go-redis, RESP3"},
}

// The programs of get/, in the order of the page.
var programs = []string{"byhand", "redigo", "go-redis"}

type key struct{ op, client string }

// A result is one run of a benchmark.
type result struct {
	ns, bytes, allocs float64
}

// results are what the page shows.
type results struct {
	config map[string]string // date, cores, cpu...
	runs   map[key][]result
	builds map[string][]string // by program: the fields of buildFile
}

// parseLine reads a line of go test -bench -benchmem output:
// BenchmarkGet64B/byhand-2   200   15744 ns/op   106 B/op   1 allocs/op
func parseLine(line string) (key, result, bool) {
	f := strings.Fields(line)
	if len(f) < 8 || !strings.HasPrefix(f[0], "Benchmark") {
		return key{}, result{}, false
	}
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i] // the -GOMAXPROCS suffix
		}
	}
	op, client, ok := strings.Cut(name, "/")
	var r result
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return key{}, result{}, false
		}
		switch f[i+1] {
		case "ns/op":
			r.ns = v
		case "B/op":
			r.bytes = v
		case "allocs/op":
			r.allocs = v
		}
	}
	return key{op, client}, r, ok
}

// median is the median of each measure of the runs, on its own.
func median(rs []result) result {
	m := func(f func(result) float64) float64 {
		vs := make([]float64, len(rs))
		for i, r := range rs {
			vs[i] = f(r)
		}
		slices.Sort(vs)
		if n := len(vs); n%2 == 1 {
			return vs[n/2]
		} else {
			return (vs[n/2-1] + vs[n/2]) / 2
		}
	}
	return result{
		ns:     m(func(r result) float64 { return r.ns }),
		bytes:  m(func(r result) float64 { return r.bytes }),
		allocs: m(func(r result) float64 { return r.allocs }),
	}
}

// load reads benchFile and buildFile.
func load() (*results, error) {
	r := &results{config: map[string]string{}, runs: map[key][]result{},
		builds: map[string][]string{}}
	f, err := os.Open(benchFile)
	if err != nil {
		return nil, fmt.Errorf("%v (make compare measures it)", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, res, ok := parseLine(sc.Text()); ok {
			r.runs[k] = append(r.runs[k], res)
		} else if name, value, ok := strings.Cut(sc.Text(), ": "); ok && !strings.Contains(name, " ") {
			r.config[name] = value
		}
	}
	for _, o := range ops {
		for _, c := range clients {
			if len(r.runs[key{o.name, c.name}]) == 0 {
				return nil, fmt.Errorf("%s has no result for %s/%s", benchFile, o.name, c.name)
			}
		}
	}
	data, err := os.ReadFile(buildFile)
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 5 && !strings.HasPrefix(line, "#") {
			r.builds[f[0]] = f[1:]
		}
	}
	for _, p := range programs {
		if r.builds[p] == nil {
			return nil, fmt.Errorf("%s has no line for %s", buildFile, p)
		}
	}
	return r, nil
}

// duration writes a time in ns as 950 ns, 15.7 µs or 1.23 ms.
func duration(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return three(ns/1e3) + " µs"
	}
	return three(ns/1e6) + " ms"
}

// three writes v with three significant digits.
func three(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// size writes bytes as 106 B, 4.8 KiB, 3.4 MB (binaries).
func size(b int64) string {
	switch {
	case b < 1024:
		return fmt.Sprintf("%d B", b)
	case b < 1<<20:
		return three(float64(b)/1024) + " KiB"
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

// allocs writes the allocations of a result: 1 alloc, 106 B.
func allocs(r result) string {
	s := "s"
	if r.allocs == 1 {
		s = ""
	}
	return fmt.Sprintf("%.0f alloc%s, %s", r.allocs, s, size(int64(r.bytes)))
}
