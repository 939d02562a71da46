package sandbox

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestMiniredisPanic: a command that panics inside miniredis gets an
// error and a closed connection, and the sandbox goes on serving, with
// its lock released.
func TestMiniredisPanic(t *testing.T) {
	srv, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	got := exchange(srv.Addr(), []string{"xadd guard:st * a b\r\nxtrim guard:st maxlen -1\r\nping\r\n"}, false)
	want := `-ERR the embedded Redis failed on this command (a miniredis bug); a real redis-server would answer it\r\n", closed`
	if !strings.HasPrefix(got, `"`) || !strings.HasSuffix(got, want) {
		t.Fatalf("got %s\nwant it to end with %s", got, want)
	}
	roundTrip(t, srv.Addr(), "xlen guard:st\r\nincr guard:n\r\n", ":1\r\n:1\r\n")

	// The same panic in a command that a Lua script calls: the
	// script's own command holds the lock, and must keep it.
	exchange(srv.Addr(), []string{`eval "return redis.call('xtrim','guard:st','maxlen','-1')" 0` + "\r\n"}, true)
	roundTrip(t, srv.Addr(), "incr guard:n\r\n", ":2\r\n")
}

// roundTrip sends req and expects exactly want back, within 5 s.
func roundTrip(t *testing.T, addr, req, want string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, req)
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Errorf("sent %q: got %q (%v), want %q", req, got, err, want)
	}
}

// TestBlockedClientLeaves: while a command blocks, the sandbox keeps
// reading the client (as Redis does), sees it leave, and still stops
// promptly.
func TestBlockedClientLeaves(t *testing.T) {
	t.Parallel()
	srv, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "blpop guard:q 0\r\n" + strings.Repeat("ping\r\n", 200000)
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("the sandbox stopped reading a blocked client: %v", err)
	}
	c.Close()
	roundTrip(t, srv.Addr(), "ping\r\n", "+PONG\r\n")

	stopped := make(chan struct{})
	go func() { srv.Close(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hangs on a client blocked in BLPOP")
	}
}
