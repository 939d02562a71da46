package sandbox

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
)

// subscribeAndPublish subscribes one client with subscribe, has
// another send publish (pipelined, in one write), and returns the
// publisher's replies and the n messages the subscriber received, each
// as its raw bytes.
func subscribeAndPublish(t *testing.T, addr, subscribe string, confirmations int, publish string, n int) (replies string, msgs []string) {
	t.Helper()
	sub := dial(t, addr)
	r := bufio.NewReader(sub)
	io.WriteString(sub, subscribe)
	for range confirmations {
		readReply(t, r)
	}
	pub := dial(t, addr)
	io.WriteString(pub, publish)
	pr := bufio.NewReader(pub)
	for range strings.Count(publish, "\n") {
		replies += readReply(t, pr)
	}
	for range n {
		msgs = append(msgs, readReply(t, r))
	}
	return replies, msgs
}

// readReply reads one array of bulk strings, or one line.
func readReply(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if line[0] != '*' {
		return line
	}
	var n int
	fmt.Sscanf(line, "*%d", &n)
	out := line
	for range n {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		out += l
		var size int
		if _, err := fmt.Sscanf(l, "$%d", &size); err == nil {
			b := make([]byte, size+2)
			if _, err := io.ReadFull(r, b); err != nil {
				t.Fatal(err)
			}
			out += string(b)
		}
	}
	return out
}

// TestPubsubOrder: a client subscribed to a channel and to a pattern
// that matches it gets, for each of 400 pipelined publishes, the
// message then the pmessage, in order, exactly as from redis-server.
func TestPubsubOrder(t *testing.T) {
	t.Parallel()
	real, sb := backends(t)
	var publish strings.Builder
	for i := range 400 {
		fmt.Fprintf(&publish, "publish order:ch m%d\r\n", i)
	}
	run := func(addr string) (string, []string) {
		return subscribeAndPublish(t, addr, "subscribe order:ch\r\npsubscribe order:*\r\n", 2, publish.String(), 800)
	}
	sbReplies, sbMsgs := run(sb)
	realReplies, realMsgs := run(real)
	if sbReplies != realReplies {
		t.Errorf("PUBLISH replies differ:\nsandbox:      %q\nredis-server: %q", sbReplies, realReplies)
	}
	for i := range sbMsgs {
		if sbMsgs[i] != realMsgs[i] {
			t.Fatalf("message %d differs:\nsandbox:      %q\nredis-server: %q", i, sbMsgs[i], realMsgs[i])
		}
	}
}

// TestTwoPatterns: a message that matches two patterns of a client is
// delivered once for each, and PUBLISH counts both. (Redis lists the
// patterns in the order of its hash table, the sandbox in the order
// they were subscribed: the test compares the sets.)
func TestTwoPatterns(t *testing.T) {
	t.Parallel()
	real, sb := backends(t)
	run := func(addr string) (string, []string) {
		replies, msgs := subscribeAndPublish(t, addr, "psubscribe twopat:d* twopat:*d\r\n", 2, "publish twopat:dd m\r\n", 2)
		slices.Sort(msgs)
		return replies, msgs
	}
	sbReplies, sbMsgs := run(sb)
	realReplies, realMsgs := run(real)
	if sbReplies != ":2\r\n" || sbReplies != realReplies || !slices.Equal(sbMsgs, realMsgs) {
		t.Errorf("sandbox:      %q %q\nredis-server: %q %q", sbReplies, sbMsgs, realReplies, realMsgs)
	}
}

// TestGlobMatch pins the pattern matching of PSUBSCRIBE and PUBSUB
// CHANNELS to Redis's rules.
func TestGlobMatch(t *testing.T) {
	for _, tt := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", true}, {"a*", "abc", true}, {"*c", "abc", true},
		{"a?c", "abc", true}, {"a?c", "ac", false},
		{"[abc]x", "bx", true}, {"[^abc]x", "bx", false}, {"[^abc]x", "dx", true},
		{"[a-c]", "b", true}, {"[c-a]", "b", true}, {"[a-c]", "d", false},
		{`\*`, "*", true}, {`\*`, "a", false}, {`[\]]`, "]", true},
		{"h*llo", "heeeello", true}, {"h*llo", "hllo", true}, {"h*llo", "hlo", false},
		{"x:d*", "x:dd", true}, {"x:*d", "x:dd", true},
	} {
		if got := globMatch([]byte(tt.pat), []byte(tt.s)); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pat, tt.s, got, tt.want)
		}
	}
}

// TestSandboxOrders pins two orders in which the sandbox and Redis
// differ (docs/differences.md): Redis takes them from hash tables whose
// seed changes at each start, the sandbox keeps the order of
// subscription.
func TestSandboxOrders(t *testing.T) {
	srv, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	// UNSUBSCRIBE with no channel: the latest first.
	c := dial(t, srv.Addr())
	r := bufio.NewReader(c)
	io.WriteString(c, "subscribe o:1 o:2 o:3\r\nunsubscribe\r\n")
	var got []string
	for range 6 {
		got = append(got, readReply(t, r))
	}
	for i, ch := range []string{"o:3", "o:2", "o:1"} {
		if !strings.Contains(got[3+i], "\r\n"+ch+"\r\n") {
			t.Errorf("unsubscribe %d: %q, want %s", i, got[3+i], ch)
		}
	}
	// A message that matches two patterns: in the order subscribed.
	_, msgs := subscribeAndPublish(t, srv.Addr(), "psubscribe o:d* o:*d\r\n", 2, "publish o:dd m\r\n", 2)
	if !strings.Contains(msgs[0], "o:d*") || !strings.Contains(msgs[1], "o:*d") {
		t.Errorf("pmessages %q, want o:d* then o:*d", msgs)
	}
}
