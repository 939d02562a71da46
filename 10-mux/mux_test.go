package main

import (
	"bufio"
	"io"
	"net"
	"regexp"
	"strconv"
	"testing"

	"redis-by-hand/internal/lessontest"
)

// TestOneConnection: 100 goroutines, 100 INCRs each, through the
// multiplexer: the server counts one connection more, not 100, and
// every goroutine got its own replies (incrAll exits otherwise).
func TestOneConnection(t *testing.T) {
	lessontest.EachBackend(t, func(t *testing.T, server string) {
		t.Setenv("REDIS_ADDR", server)
		c, err := net.Dial("tcp", server)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		received := func() int {
			io.WriteString(c, encode("INFO", "stats"))
			reply, err := readReply(r)
			m := regexp.MustCompile(`total_connections_received:(\d+)\r\n`).
				FindStringSubmatch(reply)
			if err != nil || m == nil {
				t.Fatalf("INFO stats: %q, %v", reply, err)
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		before := received()
		conn := connect()
		incrAll(100, 100, multiplex(conn, 100, false))
		conn.Close()
		if after := received(); after != before+1 {
			t.Errorf("total_connections_received went from %d to %d, want one more",
				before, after)
		}
	})
}
