// Package wiretap sits between clients and a Redis server: it
// listens, forwards each connection to the server, and reports every
// chunk of bytes that crosses it, in each direction, as it passes.
// The tests use it to check what a lesson printed against what it
// really sent and received; scripts/tap prints it for readers.
package wiretap

import (
	"errors"
	"io"
	"net"
	"sync"
)

// Direction says which way a chunk went.
type Direction byte

const (
	ToServer Direction = '>' // what the client sent
	ToClient Direction = '<' // what the server answered
)

// An Event is one chunk that crossed the tap, or the end of a
// connection.
type Event struct {
	Conn int       // 1 for the first connection, then 2, 3...
	Dir  Direction // for a chunk
	Data []byte    // the chunk; nil for the end of the connection
	Err  error     // at the end: why, when it was not a clean close
}

// A Tap forwards connections from its own address to a target.
type Tap struct {
	ln      net.Listener
	target  string
	observe func(Event)

	mu     sync.Mutex
	n      int
	conns  map[net.Conn]struct{}
	closed bool // Close has run: a connection made since is closed at once
	wg     sync.WaitGroup
}

// Start listens on addr and forwards every connection to target.
// observe is called for each chunk, before it is passed on (so a
// request is always reported before its reply), and once at the end
// of each connection; it may be called from several goroutines at
// once, but for one direction of one connection, in order.
func Start(addr, target string, observe func(Event)) (*Tap, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	t := &Tap{ln: ln, target: target, observe: observe,
		conns: map[net.Conn]struct{}{}}
	t.wg.Add(1)
	go t.accept()
	return t, nil
}

// Addr is the host:port clients connect to.
func (t *Tap) Addr() string { return t.ln.Addr().String() }

// Close stops listening, drops every connection and waits until all
// is done.
func (t *Tap) Close() {
	t.ln.Close()
	t.mu.Lock()
	t.closed = true
	for c := range t.conns {
		c.Close()
	}
	t.mu.Unlock()
	t.wg.Wait()
}

func (t *Tap) accept() {
	defer t.wg.Done()
	for {
		client, err := t.ln.Accept()
		if err != nil {
			return
		}
		t.mu.Lock()
		t.n++
		id := t.n
		t.conns[client] = struct{}{}
		t.wg.Add(1)
		t.mu.Unlock()
		go t.forward(id, client)
	}
}

func (t *Tap) track(c net.Conn, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case on && t.closed:
		// Dialled while the tap was closing: Close has gone by.
		c.Close()
	case on:
		t.conns[c] = struct{}{}
	default:
		delete(t.conns, c)
	}
}

// forward copies both ways until both sides are done. An end of
// stream is passed on as a half-close, as a client that shuts its
// sending side expects the replies still to come.
func (t *Tap) forward(id int, client net.Conn) {
	defer t.wg.Done()
	defer t.track(client, false)
	defer client.Close()
	server, err := net.Dial("tcp", t.target)
	if err != nil {
		t.observe(Event{Conn: id, Err: err})
		return
	}
	t.track(server, true)
	defer t.track(server, false)
	defer server.Close()

	errs := make(chan error, 2)
	go func() { errs <- t.copy(id, ToServer, server, client) }()
	go func() { errs <- t.copy(id, ToClient, client, server) }()
	first := <-errs
	if first != nil {
		// A reset, a failed write, or the tap closing: nothing
		// more can pass either way.
		client.Close()
		server.Close()
	}
	second := <-errs
	t.observe(Event{Conn: id, Err: errors.Join(quiet(first), quiet(second))})
}

// copy passes src's bytes to dst, reporting each chunk, and
// half-closes dst at src's end of stream.
func (t *Tap) copy(id int, dir Direction, dst, src net.Conn) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			t.observe(Event{Conn: id, Dir: dir, Data: chunk})
			if _, werr := dst.Write(chunk); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			if tcp, ok := dst.(*net.TCPConn); ok {
				tcp.CloseWrite()
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// quiet drops the error of a connection that the tap closed itself:
// that is how a tap stops, not a failure to report.
func quiet(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
