// Package byhand is the lessons' client as a small library, to set
// beside go-redis and redigo (docs/drivers.md). It is not a lesson:
// it puts together what the lessons teach, and each part names the
// lesson it comes from.
package byhand

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Timeout bounds the dial and the wait for each reply, as conn.go does
// in every lesson. A subscriber waits for messages without one (03).
const Timeout = 5 * time.Second

// A Client shares one connection between goroutines (lesson 10): one
// writer, one reader, and between them a FIFO of the calls written
// and not yet answered. Redis answers in order, so the reader hands
// each reply to the oldest call, the one that asked.
type Client struct {
	addr  string
	conn  net.Conn
	mu    *sync.Mutex   // DialLocked's, or nil
	r     *bufio.Reader // DialLocked's
	calls chan *call    // to the writer
	fifo  chan *call    // written, waiting for their replies
	done  chan struct{} // closed once the connection is finished
	once  sync.Once
	err   error // why it is finished; set before done is closed
}

// A call is one write and the replies it waits for: one for Do, one
// per command for Pipe (lesson 05).
type call struct {
	req   []byte
	n     int    // replies to read
	reply []byte // the replies, one after the other
	ends  []int  // where each reply ends in reply
	err   error
	ready chan struct{}
}

// calls are reused: a call costs no allocation once warm.
var calls = sync.Pool{New: func() any {
	return &call{ready: make(chan struct{}, 1)}
}}

// Dial connects to the Redis at addr (host:port), as lesson 01 does,
// and starts the writer and the reader. It sends nothing.
func Dial(addr string) (*Client, error) {
	conn, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		return nil, err
	}
	c := &Client{addr: addr, conn: conn, calls: make(chan *call),
		fifo: make(chan *call, 1024), done: make(chan struct{})}
	go c.write()
	go c.read()
	return c, nil
}

// DialLocked is Dial without the writer and the reader: a call writes
// and reads on its own goroutine, one call at a time under a mutex,
// as lesson 06 shares its connection. No hand-offs between goroutines,
// so a call alone is faster; calls from many goroutines take turns.
func DialLocked(addr string) (*Client, error) {
	conn, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		return nil, err
	}
	return &Client{addr: addr, conn: conn, mu: new(sync.Mutex),
		r: bufio.NewReader(conn), done: make(chan struct{})}, nil
}

// Close closes the connection; calls under way fail.
func (c *Client) Close() error {
	c.fail(net.ErrClosed)
	return nil
}

func (c *Client) fail(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
		c.conn.Close()
	})
}

// Do sends one command as a RESP array (lesson 04) and returns its
// reply, whole and raw, as lessons 03 on print it. An error reply
// (lesson 02) comes back as an Error too.
func (c *Client) Do(args ...string) ([]byte, error) {
	cl := calls.Get().(*call)
	cl.req, cl.n = appendCommand(cl.req[:0], args), 1
	if err := c.roundTrip(cl); err != nil {
		return nil, err
	}
	reply := bytes.Clone(cl.reply)
	calls.Put(cl)
	if reply[0] == '-' {
		return reply, Error(reply[1 : len(reply)-2])
	}
	return reply, nil
}

// Pipe sends all the commands in one write and returns their replies
// in order (lesson 05). Error replies are among them.
func (c *Client) Pipe(cmds ...[]string) ([][]byte, error) {
	cl := calls.Get().(*call)
	cl.req, cl.n = cl.req[:0], len(cmds)
	for _, args := range cmds {
		cl.req = appendCommand(cl.req, args)
	}
	if err := c.roundTrip(cl); err != nil {
		return nil, err
	}
	all := bytes.Clone(cl.reply)
	replies := make([][]byte, len(cmds))
	start := 0
	for i, end := range cl.ends {
		replies[i], start = all[start:end:end], end
	}
	calls.Put(cl)
	return replies, nil
}

// roundTrip hands cl to the writer and waits for the reader. A call
// given up on (the connection failed) is not reused: the writer or
// the reader may still hold it.
func (c *Client) roundTrip(cl *call) error {
	if c.mu != nil {
		return c.locked(cl)
	}
	select {
	case c.calls <- cl:
	case <-c.done:
		return c.err
	}
	select {
	case <-cl.ready:
		return cl.err
	case <-c.done:
		return c.err
	}
}

// locked is roundTrip for DialLocked: write, then read, holding the
// mutex, so that no other call's bytes come in between.
func (c *Client) locked(cl *call) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return c.err
	default:
	}
	// A long pipeline is written while its replies are read, as
	// lesson 05 does: they could fill the socket buffers first.
	c.conn.SetDeadline(time.Now().Add(Timeout))
	var wrote chan error
	if len(cl.req) > 16<<10 {
		wrote = make(chan error, 1)
		go func() { _, err := c.conn.Write(cl.req); wrote <- err }()
	} else if _, err := c.conn.Write(cl.req); err != nil {
		c.fail(err)
		return err
	}
	receive(c.r, cl)
	err := cl.err
	if wrote != nil {
		err = errors.Join(<-wrote, err)
	}
	if err != nil {
		c.fail(err)
	}
	return err
}

// write is the one writer. It takes every call already waiting, so
// that calls from many goroutines leave in one write, and puts each
// on the FIFO in the order of its bytes.
func (c *Client) write() {
	w := bufio.NewWriter(c.conn)
	for {
		var cl *call
		select {
		case cl = <-c.calls:
		case <-c.done:
			return
		}
		for cl != nil {
			w.Write(cl.req)
			select {
			case c.fifo <- cl:
			default: // full: send what waits for replies first
				if err := w.Flush(); err != nil {
					c.fail(err)
					return
				}
				select {
				case c.fifo <- cl:
				case <-c.done:
					return
				}
			}
			select {
			case cl = <-c.calls:
			default:
				cl = nil
			}
		}
		if err := w.Flush(); err != nil {
			c.fail(err)
			return
		}
	}
}

// read is the one reader: for the oldest call, its replies, each
// within the Timeout (conn.go's deadline, renewed per call as lesson
// 05 renews it per reply).
func (c *Client) read() {
	r := bufio.NewReader(c.conn)
	for {
		var cl *call
		select {
		case cl = <-c.fifo:
		case <-c.done:
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(Timeout))
		receive(r, cl)
		err := cl.err // cl is the caller's once ready
		cl.ready <- struct{}{}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// receive reads the replies of cl.
func receive(r *bufio.Reader, cl *call) {
	cl.reply, cl.ends, cl.err = cl.reply[:0], cl.ends[:0], nil
	for range cl.n {
		cl.reply, cl.err = readReply(r, cl.reply, 0)
		if cl.err != nil {
			return
		}
		cl.ends = append(cl.ends, len(cl.reply))
	}
}

// A Sub is a connection of its own that listens (lesson 03): once
// subscribed, a RESP2 connection sends nothing but (UN)SUBSCRIBE and
// PING (lesson 08), so it cannot be the shared one.
type Sub struct {
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

// Subscribe dials a connection for channels, subscribes, and reads
// the confirmations, `*3\r\n$9\r\nsubscribe\r\n...`, as lesson 03
// checks its own.
func (c *Client) Subscribe(channels ...string) (*Sub, error) {
	if len(channels) == 0 {
		return nil, errors.New("subscribe to no channel")
	}
	conn, err := net.DialTimeout("tcp", c.addr, Timeout)
	if err != nil {
		return nil, err
	}
	s := &Sub{conn: conn, r: bufio.NewReader(conn)}
	conn.SetDeadline(time.Now().Add(Timeout))
	args := append([]string{"SUBSCRIBE"}, channels...)
	_, err = conn.Write(appendCommand(nil, args))
	for range channels {
		var m []byte
		if err == nil {
			m, err = s.Receive()
		}
		if err == nil && !bytes.HasPrefix(m, []byte("*3\r\n$9\r\nsubscribe\r\n")) {
			err = fmt.Errorf("not a confirmation: %q", m)
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	return s, nil
}

// Receive waits, as long as it takes, for the next reply: a message
// is `*3\r\n$7\r\nmessage\r\n`, the channel, the data.
func (s *Sub) Receive() ([]byte, error) {
	var err error
	s.buf, err = readReply(s.r, s.buf[:0], 0)
	return bytes.Clone(s.buf), err
}

// Close closes the subscriber's connection.
func (s *Sub) Close() error { return s.conn.Close() }

// An Error is an error reply, `-ERR ...`, without the `-` and `\r\n`.
type Error string

func (e Error) Error() string { return string(e) }

// appendCommand appends args as a RESP array of bulk strings
// (lesson 04's encode, without fmt).
func appendCommand(b []byte, args []string) []byte {
	b = strconv.AppendInt(append(b, '*'), int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = strconv.AppendInt(append(b, '$'), int64(len(a)), 10)
		b = append(append(append(b, "\r\n"...), a...), "\r\n"...)
	}
	return b
}

// readReply appends one whole reply to b (lesson 03): a line of a
// type byte, text and `\r\n`; after `$n`, n bytes and `\r\n`; after
// `*n`, n replies. Within lesson 03's bounds; RESP2 only (09).
func readReply(r *bufio.Reader, b []byte, depth int) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	switch {
	case err != nil:
		return b, err
	case len(line) < 3 || line[len(line)-2] != '\r' ||
		bytes.IndexByte([]byte("+-:$*"), line[0]) < 0:
		return b, fmt.Errorf("bad reply line %q", line)
	case depth > 8 || len(b) > 64<<20:
		return b, errors.New("a reply nested over 8 deep, or over 64 MiB")
	}
	b = append(b, line...)
	if line[0] != '$' && line[0] != '*' {
		return b, nil // simple string, error, integer: one line
	}
	n, err := strconv.Atoi(string(line[1 : len(line)-2]))
	if err != nil || n < -1 || n > 64<<20 {
		return b, fmt.Errorf("%q: length not in -1..64Mi", line)
	}
	if line[0] == '$' && n >= 0 {
		start := len(b)
		b = append(b, make([]byte, n+2)...)
		if _, err := io.ReadFull(r, b[start:]); err != nil {
			return b, err
		}
		if string(b[len(b)-2:]) != "\r\n" {
			return b, errors.New("no \\r\\n after a bulk string")
		}
		return b, nil
	}
	for range n { // `*-1`: none
		if b, err = readReply(r, b, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Bulk returns the data of a bulk-string reply such as GET's, `$n\r\n`
// then n bytes, or false for anything else (`$-1`: no such key).
func Bulk(reply []byte) ([]byte, bool) {
	i := bytes.IndexByte(reply, '\n')
	if len(reply) < 4 || reply[0] != '$' || reply[1] == '-' || i < 0 {
		return nil, false
	}
	return reply[i+1 : len(reply)-2], true
}
