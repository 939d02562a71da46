package byhand_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"redis-by-hand/compare/byhand"
	"redis-by-hand/internal/realredis"
)

func server(t *testing.T) string {
	t.Helper()
	realredis.Require(t)
	s, err := realredis.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.Addr
}

// Each test runs for both ways of sharing the connection.
var dials = []struct {
	name string
	dial func(addr string) (*byhand.Client, error)
}{{"mux", byhand.Dial}, {"locked", byhand.DialLocked}}

func both(t *testing.T, test func(t *testing.T, dial func(string) (*byhand.Client, error))) {
	for _, d := range dials {
		t.Run(d.name, func(t *testing.T) { test(t, d.dial) })
	}
}

func open(t *testing.T, dial func(string) (*byhand.Client, error), addr string) *byhand.Client {
	t.Helper()
	c, err := dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDo(t *testing.T) {
	both(t, func(t *testing.T, dial func(string) (*byhand.Client, error)) {
		c := open(t, dial, server(t))
		for _, step := range []struct {
			args []string
			want string
		}{
			{[]string{"PING"}, "+PONG\r\n"},
			{[]string{"SET", "my-key", "a b\r\nc"}, "+OK\r\n"},
			{[]string{"GET", "my-key"}, "$6\r\na b\r\nc\r\n"},
			{[]string{"GET", "nothing"}, "$-1\r\n"},
			{[]string{"INCR", "n"}, ":1\r\n"},
			{[]string{"LRANGE", "none", "0", "-1"}, "*0\r\n"},
		} {
			got, err := c.Do(step.args...)
			if err != nil || string(got) != step.want {
				t.Errorf("%q: %q, %v; want %q", step.args, got, err, step.want)
			}
		}
		got, err := c.Do("INCR", "my-key")
		var e byhand.Error
		if !errors.As(err, &e) || !strings.HasPrefix(string(got), "-ERR") {
			t.Errorf("INCR of a string: %q, %v; want an error reply", got, err)
		}
		if v, ok := byhand.Bulk([]byte("$3\r\nhey\r\n")); !ok || string(v) != "hey" {
			t.Errorf("Bulk: %q, %v", v, ok)
		}
		if _, ok := byhand.Bulk([]byte("$-1\r\n")); ok {
			t.Error("Bulk of $-1 is ok")
		}
	})
}

func TestPipe(t *testing.T) {
	both(t, func(t *testing.T, dial func(string) (*byhand.Client, error)) {
		c := open(t, dial, server(t))
		cmds := make([][]string, 100)
		for i := range cmds {
			cmds[i] = []string{"INCR", "n"}
		}
		cmds = append(cmds, []string{"NOSUCH"})
		replies, err := c.Pipe(cmds...)
		if err != nil || len(replies) != 101 {
			t.Fatalf("%d replies, %v", len(replies), err)
		}
		for i, r := range replies[:100] {
			if want := fmt.Sprintf(":%d\r\n", i+1); string(r) != want {
				t.Fatalf("reply %d: %q, want %q", i, r, want)
			}
		}
		if !strings.HasPrefix(string(replies[100]), "-ERR unknown command") {
			t.Errorf("last reply %q", replies[100])
		}
	})
}

// TestShared: many goroutines on one connection, each gets its own
// replies (the mux).
func TestShared(t *testing.T) {
	both(t, func(t *testing.T, dial func(string) (*byhand.Client, error)) {
		c := open(t, dial, server(t))
		var wg sync.WaitGroup
		for g := range 50 {
			wg.Go(func() {
				key := fmt.Sprint("key-", g)
				for i := range 200 {
					got, err := c.Do("INCR", key)
					if want := fmt.Sprintf(":%d\r\n", i+1); err != nil || string(got) != want {
						t.Errorf("%s: %q, %v; want %q", key, got, err, want)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

func TestSubscribe(t *testing.T) {
	both(t, func(t *testing.T, dial func(string) (*byhand.Client, error)) {
		c := open(t, dial, server(t))
		s, err := c.Subscribe("messages")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if got, err := c.Do("PUBLISH", "messages", "hey"); err != nil || string(got) != ":1\r\n" {
			t.Fatalf("PUBLISH: %q, %v", got, err)
		}
		if _, err := c.Subscribe(); err == nil {
			t.Error("Subscribe to no channel: no error")
		}
		got, err := s.Receive()
		if want := "*3\r\n$7\r\nmessage\r\n$8\r\nmessages\r\n$3\r\nhey\r\n"; err != nil || string(got) != want {
			t.Errorf("Receive: %q, %v; want %q", got, err, want)
		}
	})
}

// TestGone: when the server goes, calls fail instead of waiting, and
// so do calls after Close.
func TestGone(t *testing.T) {
	both(t, func(t *testing.T, dial func(string) (*byhand.Client, error)) {
		realredis.Require(t)
		s, err := realredis.Start()
		if err != nil {
			t.Fatal(err)
		}
		c := open(t, dial, s.Addr)
		if _, err := c.Do("PING"); err != nil {
			t.Fatal(err)
		}
		s.Stop()
		if got, err := c.Do("PING"); err == nil {
			t.Fatalf("PING to a stopped server: %q", got)
		}
		c.Close()
		if _, err := c.Pipe([]string{"PING"}); err == nil {
			t.Fatal("Pipe after Close: no error")
		}
	})
}

// TestLongPipe: a pipeline far longer than the socket buffers.
func TestLongPipe(t *testing.T) {
	addr := server(t)
	both(t, func(t *testing.T, dial func(string) (*byhand.Client, error)) {
		c := open(t, dial, addr)
		cmds := make([][]string, 50000)
		for i := range cmds {
			cmds[i] = []string{"SET", "long", strings.Repeat("x", 100)}
		}
		replies, err := c.Pipe(cmds...)
		if err != nil || len(replies) != len(cmds) || string(replies[len(cmds)-1]) != "+OK\r\n" {
			t.Fatalf("%d replies, %v", len(replies), err)
		}
	})
}
