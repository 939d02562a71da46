package sandbox

import "sync"

// outboxLimit bounds the requests waiting for miniredis; past it the
// client's reader waits. Redis's own limit (client-query-buffer-limit)
// is 1 GiB; this is plenty for a sandbox.
const outboxLimit = 64 << 20

// An outbox carries encoded commands from the goroutine that reads a
// client to the one that writes them into miniredis. Below its limit it
// never makes the reader wait, so that the reader keeps watching the
// client, and sees it leave, while miniredis is busy or blocked (BLPOP),
// as Redis keeps reading into a blocked client's query buffer.
type outbox struct {
	mu     sync.Mutex
	cond   sync.Cond
	buf    []byte
	closed bool // nothing more will be put
	broken bool // the pipe failed: drop everything
}

func newOutbox() *outbox {
	o := &outbox{}
	o.cond.L = &o.mu
	return o
}

// put queues p, waiting while the outbox is over its limit.
func (o *outbox) put(p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.buf) > outboxLimit && !o.broken {
		o.cond.Wait()
	}
	if !o.broken {
		o.buf = append(o.buf, p...)
	}
	o.cond.Broadcast()
}

// close says that nothing more will be put.
func (o *outbox) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
	o.cond.Broadcast()
}

// abort drops what is queued and ends take and put.
func (o *outbox) abort() {
	o.mu.Lock()
	o.broken, o.buf = true, nil
	o.mu.Unlock()
	o.cond.Broadcast()
}

// take waits for queued bytes and returns them all; false at the end.
func (o *outbox) take() ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(o.buf) == 0 && !o.closed && !o.broken {
		o.cond.Wait()
	}
	if o.broken || len(o.buf) == 0 {
		return nil, false
	}
	b := o.buf
	o.buf = nil
	o.cond.Broadcast()
	return b, true
}
