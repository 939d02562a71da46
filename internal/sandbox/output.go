package sandbox

import (
	"net"
	"sync"
	"time"
)

// Output limits, from Redis 7.0's defaults. A client in pub/sub mode
// is disconnected when the replies waiting for it pass 32 MB, or stay
// above 8 MB for 60 seconds (client-output-buffer-limit pubsub 32mb
// 8mb 60): a subscriber that does not read must not make the publisher
// wait, nor the server hold its messages forever.
//
// Redis sets no limit for other clients. The sandbox stops executing a
// client's commands while more than pauseAt bytes of its replies wait
// (it stops reading it, and TCP makes the client wait): that client
// alone waits, no other.
const (
	pubsubHardLimit = 32 << 20
	pubsubSoftLimit = 8 << 20
	pubsubSoftTime  = 60 * time.Second
	pauseAt         = 16 << 20
)

// An output holds the bytes waiting to be written to one client, and
// its writer goroutine writes them. Anyone may append: the client's own
// commands, and other clients' PUBLISH and the MONITOR feed. Appending
// never waits for the network. Bytes are written when someone kicks the
// writer, at the end of a batch of work, so that replies produced
// together leave together, in one write, as Redis writes them.
//
// The bytes wait as a list of chunks, written with one writev: a
// message published to many subscribers is shared by their outputs,
// not copied into each.
type output struct {
	mu        sync.Mutex
	cond      sync.Cond
	chunks    [][]byte
	own       []bool    // chunks[i] is the output's: more may go in it
	size      int       // bytes in chunks
	spare     []byte    // a written chunk of the output's, to reuse
	kicked    bool      // the chunks are ready to be written
	writing   bool      // a write is under way (one at a time)
	inflight  int       // bytes of that write, which may wait on a client that does not read
	closing   bool      // nothing more will be appended: write and end
	dead      bool      // the client is gone or was dropped
	limited   bool      // subscribed or MONITOR: the pub/sub limits apply
	softSince time.Time // when size went over the soft limit; zero: not over
	sock      net.Conn
	done      chan struct{} // closed when the writer has ended
}

// chunkSize is the size of the chunks an output copies replies into.
const chunkSize = 16 << 10

func (o *output) init(sock net.Conn) {
	o.cond.L = &o.mu
	o.sock = sock
	o.done = make(chan struct{})
}

// Write appends a copy of p; it makes an output an io.Writer for
// miniredis's replies. It never fails: a dropped client's bytes are
// discarded.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead {
		return len(p), nil
	}
	n := len(o.chunks)
	if n > 0 && o.own[n-1] && cap(o.chunks[n-1])-len(o.chunks[n-1]) >= len(p) {
		o.chunks[n-1] = append(o.chunks[n-1], p...)
	} else {
		var b []byte
		if len(p) <= chunkSize && o.spare != nil {
			b, o.spare = o.spare[:0], nil
		} else {
			b = make([]byte, 0, max(len(p), chunkSize))
		}
		o.chunks = append(o.chunks, append(b, p...))
		o.own = append(o.own, true)
	}
	o.grewLocked(len(p))
	return len(p), nil
}

// share appends b itself, which nobody may change any more: a message
// that goes to several clients.
func (o *output) share(b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dead {
		return
	}
	o.chunks = append(o.chunks, b)
	o.own = append(o.own, false)
	o.grewLocked(len(b))
}

// grewLocked applies the limits after n more bytes.
func (o *output) grewLocked(n int) {
	o.size += n
	if o.limited && o.overLimitLocked() {
		// As Redis does: drop the client, with what it had not read.
		o.dropLocked()
		o.sock.Close()
	}
}

// overLimitLocked applies the pub/sub limits to what waits now.
func (o *output) overLimitLocked() bool {
	switch {
	case o.size > pubsubHardLimit:
		return true
	case o.size <= pubsubSoftLimit:
		o.softSince = time.Time{}
		return false
	case o.softSince.IsZero():
		o.softSince = time.Now()
		return false
	}
	return time.Since(o.softSince) >= pubsubSoftTime
}

// flush writes what is waiting itself, at once, unless a write is
// under way (then the writer goroutine does it after). The client's own
// replies leave this way, without waking another goroutine: that is
// most of a round trip's cost.
func (o *output) flush() {
	o.mu.Lock()
	if o.writing || o.dead || o.size == 0 {
		o.kicked = true
		o.mu.Unlock()
		o.cond.Broadcast()
		return
	}
	chunks, own := o.take()
	o.mu.Unlock()
	o.write(chunks, own)
}

// take hands the waiting chunks to a writer; the caller holds the lock.
func (o *output) take() ([][]byte, []bool) {
	chunks, own := o.chunks, o.own
	o.inflight = o.size
	o.chunks, o.own, o.size, o.kicked = nil, nil, 0, false
	o.writing = true
	return chunks, own
}

// write writes chunks in one write, then lets the next writer go.
func (o *output) write(chunks [][]byte, own []bool) bool {
	first := chunks[0]
	bufs := net.Buffers(chunks)
	_, err := bufs.WriteTo(o.sock)
	o.mu.Lock()
	o.writing, o.inflight = false, 0
	if err != nil {
		o.dropLocked()
	} else if own[0] && cap(first) == chunkSize {
		o.spare = first
	}
	o.mu.Unlock()
	o.cond.Broadcast() // for the writer, and waitBelow
	return err == nil
}

// kick lets the writer write what is waiting.
func (o *output) kick() {
	o.mu.Lock()
	o.kicked = true
	o.mu.Unlock()
	o.cond.Broadcast()
}

// setLimited says whether the pub/sub limits apply to the client: it
// is subscribed to something, or a MONITOR.
func (o *output) setLimited(on bool) {
	o.mu.Lock()
	o.limited = on
	o.softSince = time.Time{}
	o.mu.Unlock()
}

// waitBelow waits while more than n bytes wait to be written (which
// it lets the writer write). It reports false if the client is gone.
func (o *output) waitBelow(n int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.size > n && !o.dead {
		o.kicked = true
		o.cond.Broadcast()
		o.cond.Wait()
	}
	return !o.dead
}

// close says that nothing more will be appended, and waits until the
// writer has written everything (or the client has gone).
func (o *output) close() {
	o.mu.Lock()
	o.closing = true
	o.mu.Unlock()
	o.cond.Broadcast()
	<-o.done
}

// drop discards what waits and makes every later append a no-op.
func (o *output) drop() {
	o.mu.Lock()
	o.dropLocked()
	o.mu.Unlock()
}

func (o *output) dropLocked() {
	o.dead = true
	o.chunks, o.own, o.size = nil, nil, 0
	o.cond.Broadcast()
}

// run is the writer goroutine: each time it is kicked, it writes all
// that waits, in one write.
func (o *output) run() {
	defer close(o.done)
	for {
		o.mu.Lock()
		ready := func() bool { return (o.kicked || o.closing) && o.size > 0 && !o.writing }
		for !o.dead && !ready() && !(o.closing && o.size == 0 && !o.writing) {
			o.cond.Wait()
		}
		if o.dead || o.size == 0 {
			o.mu.Unlock()
			return
		}
		chunks, own := o.take()
		o.mu.Unlock()
		if !o.write(chunks, own) {
			return
		}
	}
}
