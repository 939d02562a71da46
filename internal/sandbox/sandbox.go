// Package sandbox serves an embedded Redis (miniredis) on a TCP port,
// and makes it speak the wire protocol the way a real redis-server 7.0
// does.
//
// miniredis only understands RESP arrays: sent the blog's "ping\n", it
// closes the connection without a word, and an empty array "*0\r\n"
// crashes it. So the sandbox reads every request itself, with the same
// rules and limits as Redis (requestReader, splitArgs), answers
// protocol errors and unknown commands with Redis's exact bytes, and
// hands each command straight to miniredis's dispatcher. The replies go
// into a buffer of the connection's own, and leave in one write per
// batch of requests (conn.go), as Redis writes them.
//
// A few things miniredis lacks or gets wrong in ways a reader would
// notice, the sandbox does itself (commands.go, pubsub.go,
// scripting.go): pub/sub, MONITOR, RESET, CONFIG GET, transactions with
// unknown commands or with its own commands, Lua scripts, and some
// argument checks. docs/differences.md lists what still differs.
package sandbox

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"
)

// Server is a running sandbox.
type Server struct {
	mini *miniredis.Miniredis
	srv  *server.Server // miniredis's command table and dispatcher
	ln   net.Listener

	pubsub    pubsub       // channels, patterns and their subscribers
	tracker   tracker      // CLIENT TRACKING: who read which keys
	scripting scripting    // Lua scripts (scripting.go)
	cluster   *clusterNode // a node of a Cluster (cluster.go), or nil

	mu        sync.Mutex
	conns     map[*conn]struct{}
	monitors  map[*conn]struct{}
	nmonitors atomic.Int32              // len(monitors), read without the lock
	blocked   atomic.Int32              // clients in a command that may wait (BRPOP)
	log       atomic.Pointer[io.Writer] // where it says what went wrong
	accepted  atomic.Int64              // connections accepted since the start
	closed    bool
	wg        sync.WaitGroup

	// netInput counts the bytes read from clients, as Redis's
	// total_net_input_bytes does; tests wait on it.
	netInput atomic.Int64
}

// Start serves a fresh, empty sandbox on addr ("127.0.0.1:0" picks a
// free port). Clients from other hosts are refused, as redis-server
// refuses them in its protected mode (see Exposed).
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mini := miniredis.NewMiniRedis()
	// Dial starts miniredis without a listener of its own: the
	// sandbox only needs its command table and its dispatcher.
	probe, err := mini.Dial()
	if err != nil {
		ln.Close()
		return nil, err
	}
	probe.Close()
	s := &Server{
		mini:     mini,
		srv:      mini.Server(),
		ln:       ln,
		conns:    map[*conn]struct{}{},
		monitors: map[*conn]struct{}{},
	}
	s.pubsub.init()
	if err := s.initScripting(); err != nil {
		ln.Close()
		mini.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// SetLog sends what the sandbox says of its own failures (a command
// that crashed miniredis) to w instead of stderr: a test that causes
// one on purpose keeps it out of the test's output, and reads it.
func (s *Server) SetLog(w io.Writer) { s.log.Store(&w) }

func (s *Server) logTo() io.Writer {
	if w := s.log.Load(); w != nil {
		return *w
	}
	return os.Stderr
}

// Addr is the host:port the sandbox listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Exposed reports whether the sandbox listens beyond the loopback
// interface, where other hosts could reach it (they get -DENIED).
func (s *Server) Exposed() bool { return !isLoopback(s.ln.Addr()) }

// Close stops listening, drops every client, as a server that goes away
// would, and waits until all is stopped.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.ln.Close()
	s.scripting.close() // a script that loops must not hold the rest
	for c := range s.conns {
		c.sock.Close()
		c.out.drop()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mini.Close()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		sock, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: Redis logs and
			// goes on too.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.accepted.Add(1)
		c := newConn(s, sock)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			sock.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// wake makes miniredis look again at the commands that wait (BLPOP and
// friends): each checks whether its client has gone. miniredis wakes
// them after every command that runs under its lock, so the sandbox
// runs a harmless one (DBSIZE) for a client of its own.
func (s *Server) wake() {
	s.srv.Dispatch(server.NewPeer(bufio.NewWriter(io.Discard)), []string{"DBSIZE"})
}

// isLoopback reports whether addr is a loopback address (127.0.0.0/8,
// ::1). An unspecified address (0.0.0.0, ::) is every interface.
func isLoopback(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}
