package lessontest

import (
	"bytes"
	"net"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// fake [-drip DURATION] TEXT [MORE COUNT] points REDIS_ADDR at a
// server that plays a hostile or broken Redis. On each connection it
// waits for the client's first bytes, then answers TEXT, then MORE
// COUNT times over, and closes. Both take Go's escapes (\r \n \x00),
// as writebytes does. It stops early when the client stops reading:
// a client that trusts a length it reads would take it all in. With
// -drip it sends one byte every DURATION, as a slow network would.
func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	var drip time.Duration
	if len(args) > 1 && args[0] == "-drip" {
		d, err := time.ParseDuration(args[1])
		checkErr(ts, err)
		drip, args = d, args[2:]
	}
	if neg || len(args) != 1 && len(args) != 3 {
		fatalf(ts, "usage: fake [-drip DURATION] TEXT [MORE COUNT]")
	}
	unquote := func(s string) []byte {
		b, err := strconv.Unquote(`"` + s + `"`)
		checkErr(ts, err)
		return []byte(b)
	}
	text, more, count := unquote(args[0]), []byte(nil), 0
	if len(args) == 3 {
		n, err := strconv.Atoi(args[2])
		checkErr(ts, err)
		more, count = unquote(args[1]), n
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	checkErr(ts, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go fakeAnswer(c, text, more, count, drip)
		}
	}()
	ts.Defer(func() { ln.Close(); <-done })
	ts.Setenv("REDIS_ADDR", ln.Addr().String())
}

// fakeAnswer plays one connection of fake, within wait.
func fakeAnswer(c net.Conn, text, more []byte, count int, drip time.Duration) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Read(make([]byte, 4096)); err != nil {
		return
	}
	// more, count times, in writes of about 64 KiB.
	chunk := bytes.Repeat(more, max(1, min(count, 64<<10/max(1, len(more)))))
	write := func(b []byte) bool {
		if drip == 0 {
			_, err := c.Write(b)
			return err == nil
		}
		for i := range b {
			time.Sleep(drip)
			if _, err := c.Write(b[i : i+1]); err != nil {
				return false
			}
		}
		return true
	}
	if !write(text) {
		return
	}
	for n := 0; n < count && len(more) > 0; {
		k := min(count-n, len(chunk)/len(more))
		if !write(chunk[:k*len(more)]) {
			return
		}
		n += k
	}
}
