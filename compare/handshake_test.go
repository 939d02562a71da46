package compare_test

// What each client says: the bytes of connecting and running one
// `GET my-key`, through the byte tap, from a fresh redis-server.
// testdata/wire.txtar holds them, a file per client, and
// docs/drivers.md shows them; `go test -run Wire -update` rewrites
// them.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"
	"github.com/rogpeppe/go-internal/txtar"

	"redis-by-hand/compare/byhand"
	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/resp"
	"redis-by-hand/internal/wiretap"
)

var update = flag.Bool("update", false, "rewrite "+wireFile)

const wireFile = "testdata/wire.txtar"

// getOnce connects each client to addr, runs GET my-key, and closes.
var getOnce = []struct {
	name string
	run  func(addr string) error
}{
	{"byhand", func(addr string) error {
		c, err := byhand.Dial(addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Do("GET", "my-key")
		return err
	}},
	{"redigo", func(addr string) error {
		c, err := redis.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Do("GET", "my-key")
		return err
	}},
	{"go-redis-RESP2", func(addr string) error { return goredisGet(addr, 2) }},
	{"go-redis-RESP3", func(addr string) error { return goredisGet(addr, 3) }},
}

func goredisGet(addr string, protocol int) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, Protocol: protocol})
	defer c.Close()
	err := c.Get(context.Background(), "my-key").Err()
	if errors.Is(err, goredis.Nil) {
		return nil
	}
	return err
}

func TestWire(t *testing.T) {
	// The error texts of the transcripts are redis-server 7.0's.
	realredis.Require70(t)
	got := &txtar.Archive{Comment: []byte(wireComment)}
	for _, c := range getOnce {
		got.Files = append(got.Files, txtar.File{Name: c.name + ".txt",
			Data: []byte(transcript(t, c.run))})
	}
	if *update {
		if err := os.WriteFile(wireFile, txtar.Format(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := txtar.ParseFile(wireFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(want.Files) != len(got.Files) {
		t.Errorf("%s has %d files, want one per client: %d", wireFile, len(want.Files), len(got.Files))
	}
	for i, f := range got.Files {
		if i < len(want.Files) && (want.Files[i].Name != f.Name || string(want.Files[i].Data) != string(f.Data)) {
			t.Errorf("%s says, through the tap:\n%s\nwant (%s, %s):\n%s",
				f.Name, f.Data, wireFile, want.Files[i].Name, want.Files[i].Data)
		}
	}
}

const wireComment = `What each client sends when it connects and runs one GET my-key,
and what redis-server 7.0 answers, through the byte tap: each command,
then its reply, whole (how they were split into writes is left out).
Written by: go test -run Wire -update (in compare/). Normalised: the
connection's id, redis-server's patch version and the Go version in
go-redis's library name, which change from run to run or machine to
machine.
`

// transcript runs a client against a fresh redis-server through the
// tap, and returns what crossed: each command, then its reply, one
// per line (as `make tap` prints a chunk, but whole messages, so that
// how the bytes were split into writes does not matter), and the end
// of each connection.
func transcript(t *testing.T, run func(addr string) error) string {
	s, err := realredis.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	var (
		mu     sync.Mutex
		wire   = map[int]*[2]bytes.Buffer{} // by connection: sent, answered
		ends   = map[int]error{}
		closed = make(chan struct{}, 16)
	)
	tap, err := wiretap.Start("127.0.0.1:0", s.Addr, func(e wiretap.Event) {
		mu.Lock()
		defer mu.Unlock()
		if wire[e.Conn] == nil {
			wire[e.Conn] = new([2]bytes.Buffer)
		}
		switch {
		case e.Data == nil:
			ends[e.Conn] = e.Err
			closed <- struct{}{}
		case e.Dir == wiretap.ToServer:
			wire[e.Conn][0].Write(e.Data)
		default:
			wire[e.Conn][1].Write(e.Data)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	if err := run(tap.Addr()); err != nil {
		t.Fatal(err)
	}
	// Every connection the client opened ends when it closes.
	for {
		mu.Lock()
		done := len(ends) == len(wire) && len(wire) > 0
		mu.Unlock()
		if done {
			break
		}
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the client's connections did not close within 10s")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var out strings.Builder
	for id := 1; id <= len(wire); id++ {
		cmds := split(t, &wire[id][0], resp.ReadReply)
		replies := split(t, &wire[id][1], resp.ReadReply3)
		for i := range max(len(cmds), len(replies)) {
			if i < len(cmds) {
				fmt.Fprintf(&out, "[%d] > %q\n", id, normalize(cmds[i]))
			}
			if i < len(replies) {
				fmt.Fprintf(&out, "[%d] < %q\n", id, normalize(replies[i]))
			}
		}
		fmt.Fprintf(&out, "[%d] closed\n", id)
		if ends[id] != nil {
			t.Errorf("connection %d ended with %v", id, ends[id])
		}
	}
	return out.String()
}

// split cuts a stream into whole messages.
func split(t *testing.T, b *bytes.Buffer, read func(*bufio.Reader) ([]byte, error)) [][]byte {
	r := bufio.NewReader(b)
	var msgs [][]byte
	for {
		m, err := read(r)
		if len(m) == 0 && err != nil {
			return msgs
		}
		if err != nil {
			t.Fatalf("%q: %v", m, err)
		}
		msgs = append(msgs, m)
	}
}

// What changes from run to run, or from machine to machine, and what
// stands for it in the transcripts: the id redis-server gives the
// connection, its exact version, and the Go version in go-redis's
// library name.
var normal = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\$2\r\nid\r\n:\d+\r\n`), "$2\r\nid\r\n:<id>\r\n"},
	{regexp.MustCompile(`\$7\r\nversion\r\n\$\d+\r\n7\.0\.\d+\r\n`), "$7\r\nversion\r\n$<n>\r\n7.0.<patch>\r\n"},
	{regexp.MustCompile(`\$\d+\r\ngo-redis\(,go[^)\r]*\)\r\n`), "$<n>\r\ngo-redis(,go<version>)\r\n"},
}

func normalize(msg []byte) []byte {
	for _, n := range normal {
		msg = n.re.ReplaceAllLiteral(msg, []byte(n.with))
	}
	return msg
}
