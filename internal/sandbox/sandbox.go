// Package sandbox serves an embedded Redis (miniredis) on a loopback
// TCP port, and makes it speak the wire protocol the way a real
// redis-server 7.0 does.
//
// miniredis only understands RESP arrays: sent the blog's "ping\n", it
// closes the connection without a word, and an empty array "*0\r\n"
// crashes it. So the sandbox reads every request itself, with the same
// rules and limits as Redis (requestReader, SplitArgs), answers
// protocol errors and unknown commands with Redis's exact bytes, and
// forwards each command to miniredis as a clean RESP array over an
// in-memory pipe. Replies come back untouched.
package sandbox

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/alicebob/miniredis/v2/server"

	"redis-by-hand/internal/resp"
)

// replyCmd and closeCmd are registered in miniredis so that the
// sandbox acts in order with the commands before: replyCmd sends an
// error reply the sandbox decided on (and closes the connection if
// asked), closeCmd closes it once every earlier reply is out. Their
// names hold a NUL byte, which no client command can match: the
// sandbox treats any name with a NUL as unknown.
const (
	replyCmd = "\x00SANDBOX-ERROR"
	closeCmd = "\x00SANDBOX-CLOSE"
)

// drain bounds how long replies may still flow to a client that has
// stopped sending (a half-closed socket), as Redis answers what it read
// before the end of the stream.
const drain = 500 * time.Millisecond

// linger is how long the sandbox waits for more reply bytes before it
// writes them to the client. Redis writes everything a client has
// pending once per turn of its event loop, so replies produced together
// (pipelined commands, messages from one pipelined publisher) leave in
// one write; this keeps that true here.
const linger = time.Millisecond

// Server is a running sandbox.
type Server struct {
	mini *miniredis.Miniredis
	ln   net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start serves a fresh, empty sandbox on addr ("127.0.0.1:0" picks a
// free port).
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mini := miniredis.NewMiniRedis()
	// Dial starts miniredis without a port of its own; every client
	// then gets an in-memory pipe into it.
	probe, err := mini.Dial()
	if err != nil {
		ln.Close()
		return nil, err
	}
	probe.Close()
	srv := mini.Server()
	err = errors.Join(
		srv.Register(replyCmd, func(c *server.Peer, _ string, args []string) {
			// Raw: miniredis's WriteError would rewrite bytes that
			// are not valid UTF-8, and Unicode blanks.
			c.Block(func(w *server.Writer) { w.WriteRaw("-" + args[0] + "\r\n") })
			if len(args) > 1 {
				c.Close()
			}
		}),
		srv.Register(closeCmd, func(c *server.Peer, _ string, _ []string) {
			c.Close()
		}),
	)
	if err != nil {
		ln.Close()
		mini.Close()
		return nil, err
	}
	guard(mini)
	s := &Server{mini: mini, ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the host:port the sandbox listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops listening, drops every client, as a server that goes away
// would, and waits until all is stopped.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mini.Close()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: Redis logs and
			// goes on too.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(c)
	}
}

func (s *Server) serve(client net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, client)
		s.mu.Unlock()
		client.Close()
	}()
	pipe, err := s.mini.Dial()
	if err != nil {
		fmt.Fprintf(os.Stderr, "sandbox: %v\n", err)
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyReplies(client, pipe)
		// The server side is done: end the stream after the last
		// reply, and stop waiting for requests soon.
		if tcp, ok := client.(*net.TCPConn); ok {
			tcp.CloseWrite()
		}
		client.SetReadDeadline(time.Now().Add(drain))
	}()
	out := newOutbox()
	written := make(chan struct{})
	go func() {
		defer close(written)
		for {
			b, ok := out.take()
			if !ok {
				return
			}
			if _, err := pipe.Write(b); err != nil {
				out.abort()
				return
			}
		}
	}()
	s.readRequests(client, out)
	// miniredis now answers what came before the end of the stream
	// or the protocol error, then closes the pipe; a command still
	// blocked (BLPOP) is dropped after a while, as Redis drops it
	// when its client leaves.
	select {
	case <-done:
	case <-time.After(drain):
	}
	pipe.Close()
	out.abort()
	<-written
	<-done
	// Read what the client still sends (after a protocol error, say)
	// before closing: closing a socket with unread input resets the
	// connection, and the client could lose the reply it is reading.
	io.Copy(io.Discard, client)
}

// readRequests reads the client's requests and queues one RESP array
// per command for miniredis. It ends at the end of the client's stream,
// with a request to close once the replies before are out, or after a
// protocol error, with the error reply (which closes too).
func (s *Server) readRequests(client net.Conn, out *outbox) {
	var r requestReader
	buf := make([]byte, readChunk)
	for {
		n, rerr := client.Read(buf)
		r.feed(buf[:n])
		var cmds []byte
		for {
			argv, err := r.next()
			var perr *protocolError
			switch {
			case errors.As(err, &perr):
				cmds = resp.AppendCommand(cmds, []byte(replyCmd), []byte("ERR "+perr.msg), []byte("close"))
				out.put(cmds)
				out.close()
				return
			case argv == nil:
			case !s.known(argv[0]):
				cmds = resp.AppendCommand(cmds, []byte(replyCmd), []byte(unknownCommand(argv)))
			default:
				cmds = resp.AppendCommand(cmds, argv...)
			}
			if argv == nil {
				break
			}
		}
		if rerr != nil {
			cmds = resp.AppendCommand(cmds, []byte(closeCmd))
		}
		out.put(cmds)
		if rerr != nil {
			out.close()
			return
		}
	}
}

// known reports whether miniredis serves the command. Names that are
// not plain ASCII are unknown to Redis; miniredis would upper-case
// them with Unicode rules (and the NUL keeps replyCmd private).
func (s *Server) known(name []byte) bool {
	for _, c := range name {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return s.mini.Server().IsRegisteredCommand(string(name))
}

// unknownCommand is Redis 7.0's error for a command it does not have
// (processCommand in server.c), byte for byte: the name and the
// arguments are cut at a NUL (C's %s) and to 128 bytes in all, and
// line breaks become blanks.
func unknownCommand(argv [][]byte) string {
	cstr := func(b []byte, max int) string {
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			b = b[:i]
		}
		if len(b) > max {
			b = b[:max]
		}
		return string(b)
	}
	var args strings.Builder
	for _, a := range argv[1:] {
		if args.Len() >= 128 {
			break
		}
		fmt.Fprintf(&args, "'%s' ", cstr(a, 128-args.Len()))
	}
	msg := fmt.Sprintf("ERR unknown command '%s', with args beginning with: %s",
		cstr(argv[0], 128), args.String())
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
}

// copyReplies copies miniredis's replies to the client, gathering what
// arrives within linger of each other into one write.
func copyReplies(client net.Conn, pipe net.Conn) {
	var out []byte
	chunk := make([]byte, 32<<10)
	for {
		n, err := pipe.Read(chunk)
		out = append(out[:0], chunk[:n]...)
		for err == nil && len(out) < 1<<20 {
			pipe.SetReadDeadline(time.Now().Add(linger))
			n, err = pipe.Read(chunk)
			out = append(out, chunk[:n]...)
		}
		pipe.SetReadDeadline(time.Time{})
		if len(out) > 0 {
			if _, werr := client.Write(out); werr != nil {
				pipe.Close()
				return
			}
		}
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return
		}
	}
}
