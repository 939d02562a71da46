package main

import (
	"os"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	k, r, ok := parseLine("BenchmarkPipeGet4KiB/go-redis-RESP2-2 \t     200\t    508530 ns/op\t  509971 B/op\t     417 allocs/op")
	want := result{ns: 508530, bytes: 509971, allocs: 417}
	if !ok || k != (key{"PipeGet4KiB", "go-redis-RESP2"}) || r != want {
		t.Errorf("got %v %v %v", k, r, ok)
	}
	for _, line := range []string{"PASS", "cpu: Intel(R) Xeon(R) Processor",
		"BenchmarkX-2 --- FAIL: something went wrong here and more"} {
		if _, _, ok := parseLine(line); ok {
			t.Errorf("%q read as a result", line)
		}
	}
}

func TestMedian(t *testing.T) {
	odd := median([]result{{ns: 3, allocs: 1}, {ns: 1, allocs: 1}, {ns: 2, allocs: 2}})
	even := median([]result{{ns: 4}, {ns: 1}, {ns: 2}, {ns: 3}})
	if odd != (result{ns: 2, allocs: 1}) || even.ns != 2.5 {
		t.Errorf("median: %v, %v", odd, even)
	}
	if q1, q3 := quartiles([]result{{ns: 1}, {ns: 2}, {ns: 3}, {ns: 4}, {ns: 5}}); q1 != 2 || q3 != 4 {
		t.Errorf("quartiles: %v, %v", q1, q3)
	}
	if duration(950) != "950 ns" || duration(15744) != "15.7 µs" || duration(1234567) != "1.23 ms" {
		t.Errorf("duration: %s %s %s", duration(950), duration(15744), duration(1234567))
	}
}

// TestPageIsCurrent: docs/drivers.md and its chart show what
// testdata/ holds, as make compare wrote them.
func TestPageIsCurrent(t *testing.T) {
	t.Chdir("..")
	r, err := load()
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(pageFile)
	if err != nil {
		t.Fatal(err)
	}
	want, err := replace(string(page), tables(r))
	if err != nil {
		t.Fatal(err)
	}
	if string(page) != want {
		t.Errorf("%s's tables differ from %s and %s: run `go run ./report -redraw` in compare/",
			pageFile, benchFile, buildFile)
	}
	svg, err := os.ReadFile(chartFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(svg) != chart(r) {
		t.Errorf("%s differs from %s: run `go run ./report -redraw` in compare/", chartFile, benchFile)
	}
	if !strings.Contains(string(page), "(drivers.svg)") {
		t.Errorf("%s does not show the chart", pageFile)
	}
}
