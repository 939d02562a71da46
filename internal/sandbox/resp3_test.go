package sandbox

import (
	"bufio"
	"io"
	"testing"
)

// TestSubscribedResp3: what lesson 09 does on a subscribed RESP3
// connection, the same on both servers. PING answers +PONG (RESP2's
// subscribers get a pong array), any command runs, and messages come
// as pushes.
func TestSubscribedResp3(t *testing.T) {
	t.Parallel()
	eachServer(t, func(t *testing.T, addr string) {
		a, b := dial(t, addr), dial(t, addr)
		ra, rb := bufio.NewReader(a), bufio.NewReader(b)
		io.WriteString(a, "HELLO 3\r\nPING\r\n")
		skipTo(t, ra, "+PONG\r\n")
		exchangeExactly(t, a, ra, "SUBSCRIBE messages",
			">3\r\n$9\r\nsubscribe\r\n$8\r\nmessages\r\n:1\r\n")
		exchangeExactly(t, a, ra, "PING", "+PONG\r\n")
		exchangeExactly(t, a, ra, "PING hi", "$2\r\nhi\r\n")
		exchangeExactly(t, a, ra, "GET my-key", "_\r\n")
		exchangeExactly(t, b, rb, "PUBLISH messages hey", ":1\r\n")
		exchangeExactly(t, a, ra, "INCR my-key",
			">3\r\n$7\r\nmessage\r\n$8\r\nmessages\r\n$3\r\nhey\r\n:1\r\n")
	})
}
