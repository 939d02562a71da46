package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2/server"

	"redis-by-hand/internal/resp"
)

// drain bounds how long the sandbox still reads (and discards) what a
// client sends after the sandbox has decided to close the connection
// (QUIT, a protocol error): closing a socket with unread input resets
// the connection, and the client could lose the last reply.
const drain = 500 * time.Millisecond

// A conn is one client connection. One goroutine (serve) reads the
// client's requests, runs them one after the other, as Redis runs a
// client's commands in order, and writes the replies of each batch.
// Another (output.run) writes what other clients add meanwhile: pub/sub
// messages, MONITOR lines.
type conn struct {
	s    *Server
	sock net.Conn
	addr string       // the client's ip:port, as MONITOR shows it
	peer *server.Peer // the client as miniredis sees it
	w    *bufio.Writer
	out  output
	req  requestReader

	// Only serve's goroutine uses these.
	mute    bool                  // quietly: throw miniredis's replies away
	capture *[]byte               // captured: keep the replies here, not send them
	broke   bool                  // the client broke the protocol
	db      int                   // the selected database, for MONITOR
	inMulti bool                  // between MULTI and EXEC/DISCARD
	dirty   bool                  // an unknown command came after MULTI: EXEC aborts
	queued  int                   // commands queued since MULTI
	later   []queuedCommand       // the sandbox's own among them, to run at EXEC
	evals   []string              // the scripts among them (pending's keys)
	touched []*conn               // clients this batch published to: kick them after
	readErr atomic.Pointer[error] // set by watch: the client has gone

	resp3 atomic.Bool // HELLO 3: pushes use RESP3's > type

	// The client's subscriptions, in the order made; the pubsub
	// lock guards them.
	channels, patterns, shards []string
}

func newConn(s *Server, sock net.Conn) *conn {
	c := &conn{s: s, sock: sock, addr: sock.RemoteAddr().String()}
	c.out.init(sock)
	// miniredis writes its replies (and the sandbox its own) into a
	// buffer, which goes to the output at the end of each batch, and
	// before the sandbox writes to the output directly.
	c.w = bufio.NewWriterSize(sink{c}, 16<<10)
	c.peer = server.NewPeer(c.w)
	return c
}

// A sink is where miniredis's replies go: the output, unless muted.
type sink struct{ c *conn }

func (s sink) Write(p []byte) (int, error) {
	if s.c.mute {
		return len(p), nil
	}
	if s.c.capture != nil {
		*s.c.capture = append(*s.c.capture, p...)
		return len(p), nil
	}
	return s.c.out.Write(p)
}

// serve reads requests and runs them until the client leaves, asks to
// (QUIT), or breaks the protocol.
func (c *conn) serve() {
	defer c.s.wg.Done()
	go c.out.run()
	var end error
	if !isLoopback(c.sock.RemoteAddr()) {
		// Protected mode: Redis writes its refusal and closes at
		// once, without reading.
		c.out.Write([]byte(deniedReply))
		end = errDenied
	} else {
		end = c.readAndRun()
	}
	c.leave()
	c.out.close()
	if end == nil && !c.broke {
		// The sandbox closes: say so (FIN), then read what the
		// client still sends for a moment, so that closing does not
		// reset the connection under the client's last read. After
		// a protocol error, Redis closes at once: what the client
		// sent that it has not read resets the connection, and the
		// sandbox does the same.
		if tcp, ok := c.sock.(*net.TCPConn); ok {
			tcp.CloseWrite()
		}
		c.sock.SetReadDeadline(time.Now().Add(drain))
		io.Copy(io.Discard, c.sock)
	}
	c.sock.Close()
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
}

// readAndRun is the client's loop: read what has arrived, run every
// complete command in it, send the replies together. It returns the
// read error that ended it (io.EOF when the client half-closed), or nil
// when the sandbox ends the connection.
func (c *conn) readAndRun() error {
	for {
		err := c.read()
		// Redis runs what came before the end of the stream, and
		// answers it: a client may send its last commands and
		// half-close at once.
		goOn := c.runAll()
		c.flush()
		if !goOn {
			return nil
		}
		if err != nil {
			return err
		}
		if p := c.readErr.Load(); p != nil {
			return *p
		}
	}
}

// read reads once from the client into its request buffer.
func (c *conn) read() error {
	before := len(c.req.buf)
	err := c.req.readFrom(c.sock)
	c.s.netInput.Add(int64(len(c.req.buf) - before))
	return err
}

// runAll runs the complete commands that have been read. It reports
// false when the connection is to be closed.
func (c *conn) runAll() bool {
	for {
		argv, err := c.req.next()
		var perr *protocolError
		if errors.As(err, &perr) {
			c.reply("-ERR " + perr.msg + "\r\n")
			c.broke = true
			return false
		}
		if argv == nil {
			return true
		}
		if !c.run(argv) {
			return false
		}
		// A client that sends without reading its replies waits
		// here, alone, until its replies drain.
		if !c.out.waitBelow(pauseAt) {
			return false
		}
	}
}

// flush moves miniredis's pending replies to the output, and lets the
// writers of this client, and of clients it published to, write.
func (c *conn) flush() {
	c.w.Flush()
	c.out.flush()
	for _, t := range c.touched {
		t.out.kick()
	}
	c.touched = c.touched[:0]
}

// reply appends a reply of the sandbox's own after miniredis's ones.
func (c *conn) reply(s string) {
	c.w.WriteString(s)
}

// dispatch runs one command in miniredis. It reports false when the
// connection is to be closed (QUIT, or a miniredis failure).
func (c *conn) dispatch(args []string) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c.s.recovered(c, args[0], r)
			ok = false
		}
	}()
	if mayBlock[strings.ToUpper(args[0])] && !c.inMulti {
		c.s.blocked.Add(1)
		defer c.s.blocked.Add(-1)
		c.watch(func() { c.s.srv.Dispatch(c.peer, args) })
	} else {
		c.s.srv.Dispatch(c.peer, args)
	}
	if c.peer.Resp3 != c.resp3.Load() {
		c.resp3.Store(c.peer.Resp3)
	}
	return !c.peer.Closed()
}

// dispatchSub runs a command that has subcommands (CLIENT, OBJECT)
// in miniredis, and answers an unknown subcommand as Redis does: with
// the subcommand as sent, byte for byte, cut at 128 bytes (miniredis
// gives it whole, upper-cased, its bytes read as UTF-8).
func (c *conn) dispatchSub(args []string) bool {
	return c.dispatchFixed(args, func(got []byte) []byte {
		if bytes.HasPrefix(got, []byte("-ERR unknown subcommand '")) && bytes.HasSuffix(got, []byte(" HELP.\r\n")) {
			got = []byte("-ERR unknown subcommand '" + cSubcommand(args[1]) + "'. Try " +
				strings.ToUpper(args[0]) + " HELP.\r\n")
		}
		return got
	})
}

// dispatchFixed runs a command in miniredis, and fix mends its reply.
func (c *conn) dispatchFixed(args []string, fix func([]byte) []byte) bool {
	var ok bool
	got := c.captured(func() { ok = c.dispatch(args) })
	c.w.Write(fix(got))
	return ok
}

// captured runs f and returns the replies it wrote, instead of sending
// them.
func (c *conn) captured(f func()) []byte {
	c.w.Flush()
	outer := c.capture
	var got []byte
	c.capture = &got
	defer func() { c.capture = outer }()
	f()
	c.w.Flush()
	return got
}

// withScores reports whether a sorted-set command's RESP3 reply is a
// list of [member, score] pairs in Redis 7.0 (miniredis gives one flat
// list): the ranges and set operations WITHSCORES, and ZPOPMIN and
// ZPOPMAX given a count.
func withScores(name string, args []string) bool {
	switch name {
	case "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE",
		"ZUNION", "ZINTER", "ZDIFF", "ZRANDMEMBER":
		for _, a := range args[2:] {
			if strings.EqualFold(a, "WITHSCORES") {
				return true
			}
		}
	case "ZPOPMIN", "ZPOPMAX":
		return len(args) == 3
	}
	return false
}

// pairUp turns a flat RESP3 array of members and scores into an
// array of [member, score] pairs; any other reply stays as it is.
func pairUp(flat []byte) []byte {
	r := bufio.NewReader(bytes.NewReader(flat))
	line, err := r.ReadString('\n')
	if err != nil || line[0] != '*' {
		return flat
	}
	n, err := strconv.Atoi(strings.TrimSuffix(line[1:], "\r\n"))
	if err != nil || n < 0 || n%2 != 0 {
		return flat
	}
	out := fmt.Appendf(nil, "*%d\r\n", n/2)
	for i := 0; i < n; i++ {
		item, err := resp.ReadReply3(r)
		if err != nil {
			return flat
		}
		if i%2 == 0 {
			out = append(out, "*2\r\n"...)
		}
		out = append(out, item...)
	}
	return out
}

// mayBlock are the commands that can wait for another client.
var mayBlock = map[string]bool{
	"BLPOP": true, "BRPOP": true, "BRPOPLPUSH": true, "BLMOVE": true,
	"BLMPOP": true, "BZPOPMIN": true, "BZPOPMAX": true, "BZMPOP": true,
	"XREAD": true, "XREADGROUP": true,
}

// watch runs a command that may wait for another client (BLPOP) while
// it goes on reading the client, as Redis does: what the client sends
// meanwhile is kept for later, and if the client leaves, the command is
// dropped (miniredis gives it up once the peer is closed).
func (c *conn) watch(command func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(c.req.buf) < pauseAt {
			if err := c.read(); err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					c.readErr.Store(&err)
					c.peer.Close()
					c.s.wake()
				}
				return
			}
		}
	}()
	command()
	// Stop the reading goroutine: an expired deadline ends its Read.
	c.sock.SetReadDeadline(time.Now())
	<-done
	c.sock.SetReadDeadline(time.Time{})
}

// leave undoes what the client was to others: its subscriptions, its
// MONITOR.
func (c *conn) leave() {
	c.dropEvals()
	c.s.pubsub.unsubscribeAll(c)
	c.s.tracker.forget(c)
	c.s.mu.Lock()
	if _, ok := c.s.monitors[c]; ok {
		delete(c.s.monitors, c)
		c.s.nmonitors.Add(-1)
	}
	c.s.mu.Unlock()
}

// recovered handles a panic inside miniredis (XTRIM with a negative
// MAXLEN is one), so that it cannot take the sandbox down: the client
// gets an error and is disconnected, and the others go on.
//
// One thing needs repair. withTx, which wraps most miniredis commands,
// takes miniredis's lock and releases it without defer, so a panic
// inside leaves it locked, and every other client would wait forever.
// When withTx is on the panic's stack, the lock is still held, and
// the sandbox releases it. TestWithTxHoldsTheLock checks, on the
// miniredis source that go.sum pins, that withTx takes the lock without
// defer; blocking(), which uses defer, is not withTx and is left alone.
func (s *Server) recovered(c *conn, cmd string, r any) {
	if withTxOnStack() {
		s.mini.Unlock()
	}
	fmt.Fprintf(s.logTo(), "sandbox: miniredis failed on %s (%v); "+
		"the client got an error and was disconnected\n", cmd, r)
	// The reply may be half written: end it with an error and
	// close, as the connection can no longer be trusted.
	c.reply("-ERR the embedded Redis failed on this command " +
		"(a miniredis bug); a real redis-server would answer it\r\n")
}

// withTxOnStack reports whether miniredis's withTx is on the stack of
// the panic being recovered (called from the deferred recover, the
// panicking frames are still there).
func withTxOnStack() bool {
	pcs := make([]uintptr, 64)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(0, pcs)])
	for {
		f, more := frames.Next()
		if f.Function == "github.com/alicebob/miniredis/v2.withTx" {
			return true
		}
		if !more {
			return false
		}
	}
}

var errDenied = errors.New("protected mode: a client from another host")

// deniedReply is redis-server 7.0's answer to a client from another
// host when no password is set (protected mode), byte for byte.
const deniedReply = "-DENIED Redis is running in protected mode because protected " +
	"mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you " +
	"may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command " +
	"'CONFIG SET protected-mode no' from the loopback interface " +
	"by connecting to Redis from the same host the server is " +
	"running, however MAKE SURE Redis is not publicly accessible " +
	"from internet if you do so. Use CONFIG REWRITE to make this " +
	"change permanent. " +
	"2) Alternatively you can just disable the protected mode by " +
	"editing the Redis configuration file, and setting the protected " +
	"mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, " +
	"restart it with the '--protected-mode no' option. " +
	"4) Setup a an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for " +
	"the server to start accepting connections from the outside.\r\n"
