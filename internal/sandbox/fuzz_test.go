package sandbox

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// FuzzSandbox sends raw bytes to a running sandbox, then checks that it
// still answers a new client: no request may crash it or wedge it.
func FuzzSandbox(f *testing.F) {
	for _, c := range diffCases {
		var raw string
		for _, chunk := range c.chunks {
			raw += chunk
		}
		f.Add([]byte(raw))
	}
	for _, s := range []string{
		"subscribe messages\r\n", "publish messages hey\n",
		"multi\nincr k\nfoo\nexec\n", "blpop list 0.05\n",
		"*1\r\n$5\r\nMULTI\r\n*1\r\n$0\r\n\r\n", "hello 3\r\nping\r\n",
		"client setname x\nclient list\n", "flushall\nkeys *\n",
	} {
		f.Add([]byte(s))
	}
	srv, err := Start("127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)

	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		// Redis keeps reading a client whose command blocks, and so
		// must the sandbox: a write that hangs is a failure.
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(raw); err != nil {
			t.Fatalf("writing %q: %v", raw, err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
		io.Copy(io.Discard, c)
		c.Close()

		c, err = net.Dial("tcp", srv.Addr())
		if err != nil {
			t.Fatalf("after %q: %v", raw, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "ping\r\n")
		line, err := bufio.NewReader(c).ReadString('\n')
		if line != "+PONG\r\n" {
			t.Fatalf("after %q: ping answered %q, %v", raw, line, err)
		}
	})
}
