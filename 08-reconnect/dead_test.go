package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestSilentServer: a subscribed connection whose server has gone
// silent without closing it (a peer that lost power sends no FIN).
// The subscriber must notice within -ping plus the timeout.
func TestSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pinged := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		line, _ := r.ReadString('\n')
		pinged <- line
		time.Sleep(2 * time.Second) // silent, but open
	}()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	timeout = 100 * time.Millisecond
	start := time.Now()
	err = listen(context.Background(), conn, bufio.NewReader(conn),
		50*time.Millisecond)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "no answer to PING within 100ms") {
		t.Errorf("listen returned %v, want no answer to PING", err)
	}
	if line := <-pinged; line != "*1\r\n" {
		t.Errorf("the server read %q, want the PING's first line", line)
	}
	if took < 150*time.Millisecond || took > 2*time.Second {
		t.Errorf("noticed after %v, want -ping + timeout, 150ms", took)
	}
}

// TestFrozenServer: after the connection is lost, a server accepts
// the new one but never answers SUBSCRIBE. The subscriber says so,
// in those words, and tries again.
func TestFrozenServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // open and silent until the test ends
		}
	}()

	addr, timeout = ln.Addr().String(), 100*time.Millisecond
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := os.Stderr
	os.Stderr = wr
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
	defer cancel()
	conn, _, _ := redial(ctx, encode("SUBSCRIBE", "messages"), io.EOF,
		100*time.Millisecond)
	os.Stderr = stderr
	wr.Close()
	said, _ := io.ReadAll(rd)
	if conn != nil {
		t.Fatal("redial returned a connection from a frozen server")
	}
	want := lesson + ": " + addr + ": no answer to SUBSCRIBE within 100ms; trying again in 200ms\n"
	if !strings.Contains(string(said), want) {
		t.Errorf("stderr:\n%s\nwant the line %q", said, want)
	}
}
