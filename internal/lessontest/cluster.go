package lessontest

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/sandbox"
	"redis-by-hand/internal/wiretap"
)

// clusterNodes is how many nodes the cluster command's cluster has.
const clusterNodes = 3

// A clusterPool is the Redis Cluster that the scripts of a test
// package share on one backend: a redis-server cluster takes seconds
// to form, so it is started once, by the first script that asks for it
// (cluster), and stopped when the backend's scripts are done. Scripts
// take it in turn, each finding it empty. A tap stands in front of
// each node, and the nodes give the taps' addresses as their own (in
// -MOVED, CLUSTER SLOTS...): every connection a lesson makes to the
// cluster is on the script's wire.
type clusterPool struct {
	backend string
	once    sync.Once
	err     error
	turn    sync.Mutex // held by the script whose turn it is

	nodes []string // the nodes' own addresses, in slot order
	taps  []*wiretap.Tap
	ids   []string
	stop  func()

	mu    sync.Mutex
	wire  *wire          // the wire of the script whose turn it is
	conns map[[2]int]int // (tap, its connection) -> that wire's; 0: an earlier turn's
}

var (
	poolsMu sync.Mutex
	pools   = map[string]*clusterPool{} // by backend
)

// poolFor is the backend's cluster pool; Run closes it when the
// backend's scripts are done.
func poolFor(backend string) *clusterPool {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	if pools[backend] == nil {
		pools[backend] = &clusterPool{backend: backend}
	}
	return pools[backend]
}

// closePool stops the backend's cluster, if a script started one.
func closePool(backend string) {
	poolsMu.Lock()
	p := pools[backend]
	delete(pools, backend)
	poolsMu.Unlock()
	if p != nil {
		p.close()
	}
}

// start starts the cluster, once.
func (p *clusterPool) start() error {
	p.once.Do(func() {
		p.conns = map[[2]int]int{}
		p.taps = make([]*wiretap.Tap, clusterNodes)
		p.nodes = make([]string, clusterNodes)
		tap := func(i int, addr string) (int, error) {
			t, err := wiretap.Start("127.0.0.1:0", addr, p.observer(i))
			if err != nil {
				return 0, err
			}
			p.taps[i], p.nodes[i] = t, addr
			_, port, _ := net.SplitHostPort(t.Addr())
			return strconv.Atoi(port)
		}
		if p.backend == realredis.Binary {
			c, err := realredis.StartCluster(clusterNodes, tap)
			if err != nil {
				p.err = err
				return
			}
			p.ids, p.stop = c.IDs, c.Stop
			return
		}
		addrs := make([]string, clusterNodes)
		for i := range addrs {
			addrs[i] = "127.0.0.1:0"
		}
		c, err := sandbox.StartCluster(addrs...)
		if err != nil {
			p.err = err
			return
		}
		p.ids, p.stop = c.IDs(), c.Close
		for i, s := range c.Nodes {
			port, err := tap(i, s.Addr())
			if err == nil {
				err = c.Announce(i, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			}
			if err != nil {
				p.err = err
				return
			}
		}
	})
	return p.err
}

// close stops the taps and the cluster, if it was started.
func (p *clusterPool) close() {
	for _, t := range p.taps {
		if t != nil {
			t.Close()
		}
	}
	if p.stop != nil {
		p.stop()
	}
}

// observer records what crosses tap i on the wire of the script whose
// turn it is, numbering its connections after that wire's.
func (p *clusterPool) observer(i int) func(wiretap.Event) {
	return func(e wiretap.Event) {
		p.mu.Lock()
		defer p.mu.Unlock()
		key := [2]int{i, e.Conn}
		n, ok := p.conns[key]
		if !ok && p.wire != nil {
			p.wire.mu.Lock()
			n = len(p.wire.conns) + 1
			p.wire.mu.Unlock()
			p.conns[key] = n
		}
		if n == 0 || p.wire == nil {
			return // a connection of an earlier script
		}
		e.Conn = n
		p.wire.observe(e)
	}
}

// use records what crosses the taps from now on on w (nil: nowhere);
// the connections seen so far belong to no script any more.
func (p *clusterPool) use(w *wire) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.conns {
		p.conns[k] = 0
	}
	p.wire = w
}

// cluster points REDIS_ADDR at node 1 of a three-node Redis Cluster,
// and NODE1, NODE2 and NODE3 at its nodes, in slot order; the cluster
// is emptied first. In golden files, each node's port reads <portN>
// and its id <idN>: they change at each start.
func cmdCluster(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: cluster")
	}
	s := scriptOf(ts)
	if s.direct != nil {
		ts.Fatalf("cluster: once per script")
	}
	p := poolFor(s.backend)
	ts.Check(p.start())
	p.turn.Lock()
	w := &wire{}
	p.use(w)
	ts.Defer(func() {
		p.use(nil)
		p.turn.Unlock()
	})
	s.wire = w
	s.direct = map[string]string{}
	var ports []string
	for i, t := range p.taps {
		s.direct[t.Addr()] = p.nodes[i]
		ts.Setenv(fmt.Sprintf("NODE%d", i+1), t.Addr())
		_, port, _ := net.SplitHostPort(t.Addr())
		ports = append(ports, port)
	}
	s.tap, s.server = p.taps[0].Addr(), p.nodes[0]
	ts.Setenv("REDIS_ADDR", s.tap)
	for _, t := range p.taps {
		ts.Setenv("REDIS_ADDR", t.Addr()) // dial goes around the tap
		do(ts, [][][]byte{{[]byte("FLUSHALL")}})
	}
	ts.Setenv("REDIS_ADDR", s.tap)
	ids := p.ids
	s.placeholders = func(out string) string {
		for i := range ports {
			out = replaceNumber(out, ports[i], fmt.Sprintf("<port%d>", i+1))
			out = strings.ReplaceAll(out, ids[i], fmt.Sprintf("<id%d>", i+1))
		}
		return out
	}
}

// replaceNumber replaces the number old in s where it stands alone,
// with no digit before or after it.
func replaceNumber(s, old, new string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := i + len(old)
		alone := (i == 0 || !isDigit(s[i-1])) && (j == len(s) || !isDigit(s[j]))
		b.WriteString(s[:i])
		if alone {
			b.WriteString(new)
		} else {
			b.WriteString(old)
		}
		s = s[j:]
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// across reports whether the printed lines tell the truth across the
// wire's connections: each line is the next bytes of one connection,
// in order, and every byte written on a connection that a line names
// is printed. A lesson that talks to several nodes prints one
// conversation per connection, interleaved as they happened.
func (w *wire) across(ps []printed) bool {
	sent := make([]int, len(w.conns))
	recv := make([]int, len(w.conns))
	used := make([]int, len(w.conns))
	budget := 100000 // bounds the search, which backtracks
	var try func(i int) bool
	try = func(i int) bool {
		if budget--; budget < 0 {
			return false
		}
		if i == len(ps) {
			for j, c := range w.conns {
				if used[j] > 0 && sent[j] != len(c.sent) {
					return false
				}
			}
			return true
		}
		p := ps[i]
		for j, c := range w.conns {
			stream, off := c.received, &recv[j]
			if p.send {
				stream, off = c.sent, &sent[j]
			}
			if p.bytes == "" || !strings.HasPrefix(string(stream[*off:]), p.bytes) {
				continue
			}
			*off += len(p.bytes)
			used[j]++
			if try(i + 1) {
				return true
			}
			*off -= len(p.bytes)
			used[j]--
		}
		return false
	}
	return try(0)
}
