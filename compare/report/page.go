package main

import (
	"fmt"
	"html"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The page's measured part lies between these lines; the rest of it
// is written by hand.
const (
	begin = "<!-- measured: begin (make compare writes this part) -->"
	end   = "<!-- measured: end -->"
)

// write puts the tables into the page and redraws the chart.
func write(r *results) error {
	page, err := os.ReadFile(pageFile)
	if err != nil {
		return err
	}
	updated, err := replace(string(page), tables(r))
	if err != nil {
		return err
	}
	if err := os.WriteFile(pageFile, []byte(updated), 0o644); err != nil {
		return err
	}
	return os.WriteFile(chartFile, []byte(chart(r)), 0o644)
}

// replace puts part between the page's markers.
func replace(page, part string) (string, error) {
	before, rest, ok1 := strings.Cut(page, begin+"\n")
	_, after, ok2 := strings.Cut(rest, end+"\n")
	if !ok1 || !ok2 {
		return "", fmt.Errorf("%s has no lines %q and %q", pageFile, begin, end)
	}
	return before + begin + "\n" + part + end + "\n" + after, nil
}

// tables writes the measured part of the page.
func tables(r *results) string {
	var b strings.Builder
	c := r.config
	fmt.Fprintf(&b, "Measured on %s, on a machine of %s cores (%s, %s/%s), "+
		"with %s and redis-server %s on loopback, one connection per client "+
		"unless said otherwise. Each time is the median of %s runs of %s, one in each "+
		"round of all the benchmarks (the chart's black line spans the middle half of the runs); "+
		"allocations are go test's `-benchmem` figures, %s. "+
		"The run took %s.\n\n",
		c["date"], c["cores"], c["cpu"], c["goos"], c["goarch"], c["go"],
		c["redis-server"], c["count"], c["benchtime"], steady(r), c["took"])

	head := func(first string) {
		b.WriteString("| " + first + " |")
		for _, cl := range clients {
			b.WriteString(" " + cl.label + " |")
		}
		b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(clients)) + "\n")
	}
	head("time per op")
	for _, o := range ops {
		b.WriteString("| " + o.label + " |")
		for _, cl := range clients {
			b.WriteString(" " + duration(median(r.runs[key{o.name, cl.name}]).ns) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n![The times above as bars, each group drawn to its own scale](drivers.svg)\n\n")

	head("allocations per op")
	for _, o := range ops {
		b.WriteString("| " + o.label + " |")
		for _, cl := range clients {
			b.WriteString(" " + allocs(median(r.runs[key{o.name, cl.name}])) + " |")
		}
		b.WriteString("\n")
	}

	b.WriteString("\nThe program of [`compare/get/`](../compare/get/), which connects, " +
		"sends `GET my-key` and prints the reply, with each client:\n\n")
	b.WriteString("| get/ with | by hand | redigo | go-redis |\n| --- | ---: | ---: | ---: |\n")
	rows := []struct {
		label string
		field int
		show  func(string) string
	}{
		{"binary (`go build`)", 0, func(s string) string {
			n, _ := strconv.ParseInt(s, 10, 64)
			return size(n)
		}},
		{"packages linked (`go list -deps`)", 1, nil},
		{"of which beyond the standard library", 2, nil},
		{"lines of Go in those (not blank, not `//`)", 3, nil},
	}
	for _, row := range rows {
		b.WriteString("| " + row.label + " |")
		for _, p := range programs {
			v := r.builds[p][row.field]
			if row.show != nil {
				v = row.show(v)
			}
			b.WriteString(" " + v + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// steady says whether the allocations were the same in every run.
func steady(r *results) string {
	var moved []string
	for _, o := range ops {
		for _, cl := range clients {
			rs := r.runs[key{o.name, cl.name}]
			for _, x := range rs {
				if x.allocs != rs[0].allocs {
					moved = append(moved, o.name+"/"+cl.name)
					break
				}
			}
		}
	}
	if len(moved) == 0 {
		return "whose count of allocations was the same in every run (bytes: the median)"
	}
	return "whose count of allocations was the same in every run but " +
		strings.Join(moved, ", ") + " (for those, and for bytes, the median)"
}

// Colours of the clients in the chart.
var colours = []string{"#2b8a3e", "#8ce99a", "#1971c2", "#f08c00", "#c2255c"}

// chart draws the time per op as bars: one group per benchmark, one
// bar per client, each group drawn to its own scale.
func chart(r *results) string {
	const (
		width, left, barMax = 760, 130, 500
		barH, gap, title    = 12, 4, 20
		top                 = 64
	)
	group := title + len(clients)*(barH+gap) + 10
	height := top + len(ops)*group + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="15" font-weight="bold">Time per op, median of %s runs: shorter is faster</text>`+"\n",
		html.EscapeString(r.config["count"]))
	fmt.Fprintf(&b, `<text x="10" y="38" fill="#555">%s · %s cores · %s · redis-server %s on loopback · each group drawn to its own scale</text>`+"\n",
		html.EscapeString(r.config["date"]), html.EscapeString(r.config["cores"]),
		html.EscapeString(r.config["go"]), html.EscapeString(r.config["redis-server"]))
	x := 10
	for i, cl := range clients {
		fmt.Fprintf(&b, `<rect x="%d" y="46" width="10" height="10" fill="%s"/><text x="%d" y="55">%s</text>`+"\n",
			x, colours[i], x+14, html.EscapeString(cl.label))
		x += 14 + 8*len(cl.label) + 16
	}
	for g, o := range ops {
		y := top + g*group
		fmt.Fprintf(&b, `<text x="10" y="%d" font-weight="bold">%s</text>`+"\n", y+14, html.EscapeString(o.label))
		// The scale: the longest line of the group fills the width.
		slowest := 0.0
		for _, cl := range clients {
			_, q3 := quartiles(r.runs[key{o.name, cl.name}])
			slowest = max(slowest, median(r.runs[key{o.name, cl.name}]).ns, q3)
		}
		for i, cl := range clients {
			rs := r.runs[key{o.name, cl.name}]
			ns := median(rs).ns
			by := y + title + i*(barH+gap)
			at := func(ns float64) int { return left + int(float64(barMax)*ns/slowest+0.5) }
			w := at(ns) - left
			q1, q3 := quartiles(rs)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="#333">%s</text>`+"\n",
				left-6, by+barH-2, html.EscapeString(cl.label))
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>`+"\n",
				left, by, max(w, 1), barH, colours[i])
			fmt.Fprintf(&b, `<path d="M%d %dv%dM%d %dh%dM%d %dv%d" stroke="#000"/>`+"\n",
				at(q1), by+3, barH-6, at(q1), by+barH/2, at(q3)-at(q1), at(q3), by+3, barH-6)
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n",
				max(left+w, at(q3))+6, by+barH-2, html.EscapeString(duration(ns)))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// quartiles are the times that a quarter and three quarters of the
// runs did not exceed (linear between the two runs around them).
func quartiles(rs []result) (q1, q3 float64) {
	vs := make([]float64, len(rs))
	for i, r := range rs {
		vs[i] = r.ns
	}
	slices.Sort(vs)
	at := func(q float64) float64 {
		x := q * float64(len(vs)-1)
		i := int(x)
		if i+1 >= len(vs) {
			return vs[i]
		}
		return vs[i] + (x-float64(i))*(vs[i+1]-vs[i])
	}
	return at(0.25), at(0.75)
}
