package lessontest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"redis-by-hand/internal/wiretap"
)

// wire keeps what every connection through the script's tap carried.
type wire struct {
	mu    sync.Mutex
	conns []*wireConn
}

type wireConn struct {
	sent, received []byte // client to server, server to client
	done           bool
}

func (w *wire) observe(e wiretap.Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.conns) < e.Conn {
		w.conns = append(w.conns, &wireConn{})
	}
	c := w.conns[e.Conn-1]
	switch {
	case e.Data == nil:
		c.done = true
	case e.Dir == wiretap.ToServer:
		c.sent = append(c.sent, e.Data...)
	default:
		c.received = append(c.received, e.Data...)
	}
}

// count is how many connections the tap has seen, and how many of
// them are still open.
func (w *wire) count() (n, open int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.conns {
		if !c.done {
			open++
		}
	}
	return len(w.conns), open
}

// A printed line of a lesson: Send: or Received:, and its bytes.
type printed struct {
	line  int // 0-based, in the output
	send  bool
	bytes string
}

// printedLines finds the Send: "..." and Received: "..." lines.
func printedLines(out string) []printed {
	var ps []printed
	for i, line := range strings.Split(out, "\n") {
		for _, p := range []struct {
			prefix string
			send   bool
		}{{`Send: "`, true}, {`Received: "`, false}} {
			rest, ok := strings.CutPrefix(line, p.prefix)
			if !ok {
				continue
			}
			if b, err := strconv.Unquote(`"` + rest); err == nil {
				ps = append(ps, printed{i, p.send, b})
			}
		}
	}
	return ps
}

// render is out with each Send: and Received: line holding what the
// connection really carried at that point instead. When out tells
// the truth, render returns out.
func (c *wireConn) render(out string, ps []printed) string {
	lines := strings.Split(out, "\n")
	var sent, recv int // offsets into the connection's streams
	for i, p := range ps {
		stream, off := c.received, &recv
		if p.send {
			stream, off = c.sent, &sent
		}
		rest := stream[min(*off, len(stream)):]
		n := min(len(p.bytes), len(rest))
		last := true
		for _, q := range ps[i+1:] {
			last = last && q.send != p.send
		}
		switch {
		case p.send && last:
			// Every byte written must have been printed.
			n = len(rest)
		case string(rest[:n]) != p.bytes:
			// Show the wire up to the end of its line, so that a
			// trimmed \r\n shows whole.
			if nl := strings.IndexByte(string(rest[n:]), '\n'); nl >= 0 {
				n += nl + 1
			}
		}
		*off += n
		word := "Received"
		if p.send {
			word = "Send"
		}
		lines[p.line] = fmt.Sprintf("%s: %q", word, rest[:n])
	}
	return strings.Join(lines, "\n")
}

// check compares a lesson's output with the connections that the tap
// saw. It returns "" when one connection carried exactly what the
// Send: lines say, and the Received: lines are bytes that connection
// received, in order from its first. Otherwise it returns what the
// output should have been, for the connection that comes closest.
// Connections may still be passing their last bytes: check waits for
// them, within a bound.
func (w *wire) check(out string) (want string) {
	ps := printedLines(out)
	if len(ps) == 0 {
		return ""
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		w.mu.Lock()
		best, bestAt, allDone := "", -1, true
		for _, c := range w.conns {
			r := c.render(out, ps)
			if r == out {
				w.mu.Unlock()
				return ""
			}
			if at := commonPrefix(r, out); at > bestAt {
				best, bestAt = r, at
			}
			allDone = allDone && c.done
		}
		if len(w.conns) > 1 && w.across(ps) {
			w.mu.Unlock()
			return "" // several connections, each truthful (cluster.go)
		}
		w.mu.Unlock()
		if allDone || time.Now().After(deadline) {
			if best == "" {
				return "(no connection reached the server)"
			}
			return best
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func commonPrefix(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// wireRecord shows what the connection closest to out carried, for a
// failure message: the bytes sent and received, quoted.
func (w *wire) record(out string) string {
	if !checkWire {
		return ""
	}
	ps := printedLines(out)
	w.mu.Lock()
	defer w.mu.Unlock()
	var best *wireConn
	bestAt := -1
	for _, c := range w.conns {
		if at := commonPrefix(c.render(out, ps), out); at > bestAt {
			best, bestAt = c, at
		}
	}
	if best == nil {
		return ""
	}
	return fmt.Sprintf("on the wire: sent %q\n             received %q\n",
		best.sent, best.received)
}

// bulkData is the data of each bulk string the connections received,
// with the \r\n after it.
func (w *wire) bulkData() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, c := range w.conns {
		for _, m := range bulk.FindAllSubmatchIndex(c.received, -1) {
			n, err := strconv.Atoi(string(c.received[m[2]:m[3]]))
			if end := m[1] + n + 2; err == nil && n > 0 && end <= len(c.received) {
				out = append(out, string(c.received[m[1]:end]))
			}
		}
	}
	return out
}

var bulk = regexp.MustCompile(`\$(\d{1,8})\r\n`)
