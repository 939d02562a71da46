package sandbox

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
)

// TestTracking: client-side caching as lesson 09 uses it, the same on
// both servers. A client that turned CLIENT TRACKING on and read a key
// gets one invalidation push when another client writes it, and no
// more until it reads the key again; keys it did not read send none.
func TestTracking(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, addr string) {
		a, b := dial(t, addr), dial(t, addr)
		ra, rb := bufio.NewReader(a), bufio.NewReader(b)
		say := func(c net.Conn, r *bufio.Reader, cmd, want string) {
			t.Helper()
			exchangeExactly(t, c, r, cmd, want)
		}
		const inval = ">2\r\n$10\r\ninvalidate\r\n*1\r\n$6\r\nmy-key\r\n"
		// HELLO 3's map differs: skip it, up to the PING's answer.
		io.WriteString(a, "HELLO 3\r\nPING\r\n")
		skipTo(t, ra, "+PONG\r\n")
		say(a, ra, "CLIENT TRACKING", "-ERR wrong number of arguments for 'client|tracking' command\r\n")
		say(a, ra, "CLIENT TRACKING maybe", "-ERR syntax error\r\n")
		say(a, ra, "CLIENT TRACKING on", "+OK\r\n")
		say(a, ra, "GET my-key", "_\r\n")
		say(b, rb, "SET my-key 1", "+OK\r\n")
		say(a, ra, "PING", inval+"+PONG\r\n")
		// Not read again: the next write sends nothing.
		say(b, rb, "INCR my-key", ":2\r\n")
		say(a, ra, "PING", "+PONG\r\n")
		// Read again, then a write of it and of a key never read.
		say(a, ra, "MGET my-key other", "*2\r\n$1\r\n2\r\n_\r\n")
		say(b, rb, "MSET other 1 my-key 3", "+OK\r\n")
		say(a, ra, "PING", ">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nother\r\n"+inval+"+PONG\r\n")
		// Its own write: the reply first, then the push.
		say(a, ra, "GET my-key", "$1\r\n3\r\n")
		say(a, ra, "DEL my-key", ":1\r\n"+inval)
		// Off: nothing more.
		say(a, ra, "GET my-key", "_\r\n")
		say(a, ra, "CLIENT TRACKING off", "+OK\r\n")
		say(b, rb, "SET my-key 4", "+OK\r\n")
		say(a, ra, "PING", "+PONG\r\n")
	})
}

// exchangeExactly sends one inline command and wants exactly these
// bytes back, before anything else.
func exchangeExactly(t *testing.T, c net.Conn, r *bufio.Reader, cmd, want string) {
	t.Helper()
	if _, err := io.WriteString(c, cmd+"\r\n"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(r, got); err != nil || string(got) != want {
		t.Fatalf("%s: got %q (%v), want %q", cmd, got, err, want)
	}
}

// TestTrackingDifferences: where the sandbox's CLIENT TRACKING and
// RESP3 stop short of Redis's, as docs/differences.md lists them.
func TestTrackingDifferences(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, addr string) {
		real := strings.HasSuffix(t.Name(), "/redis-server")
		pick := func(sandbox, redis string) string {
			if real {
				return redis
			}
			return sandbox
		}
		inval := func(key string) string {
			return ">2\r\n$10\r\ninvalidate\r\n*1\r\n" + bulk(key)
		}
		a, b := dial(t, addr), dial(t, addr)
		ra, rb := bufio.NewReader(a), bufio.NewReader(b)
		// HELLO 3's map differs: skip it, up to the PING's answer.
		io.WriteString(a, "HELLO 3\r\nPING\r\n")
		skipTo(t, ra, "+PONG\r\n")
		exchangeExactly(t, a, ra, "CLIENT TRACKING on NOLOOP", pick(
			"-ERR the embedded Redis has CLIENT TRACKING ON and OFF only, without options\r\n",
			"+OK\r\n"))
		exchangeExactly(t, a, ra, "CLIENT TRACKING off", "+OK\r\n")
		exchangeExactly(t, a, ra, "CLIENT TRACKING on", "+OK\r\n")
		// A write that is not on the sandbox's list.
		exchangeExactly(t, a, ra, "GET k1", "_\r\n")
		exchangeExactly(t, b, rb, "SETBIT k1 0 1", ":0\r\n")
		exchangeExactly(t, a, ra, "PING", pick("", inval("k1"))+"+PONG\r\n")
		// A write inside MULTI/EXEC.
		exchangeExactly(t, a, ra, "GET k2", "_\r\n")
		exchangeExactly(t, b, rb, "MULTI", "+OK\r\n")
		exchangeExactly(t, b, rb, "SET k2 1", "+QUEUED\r\n")
		exchangeExactly(t, b, rb, "EXEC", "*1\r\n+OK\r\n")
		exchangeExactly(t, a, ra, "PING", pick("", inval("k2"))+"+PONG\r\n")
		// A write by a script.
		exchangeExactly(t, a, ra, "GET k4", "_\r\n")
		exchangeExactly(t, b, rb, `EVAL "return redis.call('set', KEYS[1], 1)" 1 k4`,
			"+OK\r\n")
		exchangeExactly(t, a, ra, "PING", pick("", inval("k4"))+"+PONG\r\n")
		// A flush: Redis invalidates everything, with a null.
		exchangeExactly(t, a, ra, "GET k5", "_\r\n")
		exchangeExactly(t, b, rb, "FLUSHALL", "+OK\r\n")
		exchangeExactly(t, a, ra, "PING",
			pick("", ">2\r\n$10\r\ninvalidate\r\n_\r\n")+"+PONG\r\n")
		exchangeExactly(t, a, ra, "GET k6", "_\r\n")
		exchangeExactly(t, b, rb, "FLUSHDB", "+OK\r\n")
		exchangeExactly(t, a, ra, "PING",
			pick("", ">2\r\n$10\r\ninvalidate\r\n_\r\n")+"+PONG\r\n")
		// A write that changes nothing.
		exchangeExactly(t, a, ra, "GET k3", "_\r\n")
		exchangeExactly(t, b, rb, "DEL k3", ":0\r\n")
		exchangeExactly(t, a, ra, "PING", pick(inval("k3"), "")+"+PONG\r\n")
		// A Lua true under RESP3: a boolean from both, now that the
		// sandbox runs Lua as Redis does.
		exchangeExactly(t, a, ra, `EVAL "redis.setresp(3) return true" 0`, "#t\r\n")
	})
}

// skipTo reads until what it read ends with end.
func skipTo(t *testing.T, r *bufio.Reader, end string) {
	t.Helper()
	var seen []byte
	for !bytes.HasSuffix(seen, []byte(end)) {
		c, err := r.ReadByte()
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, c)
	}
}
