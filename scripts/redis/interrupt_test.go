package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"redis-by-hand/internal/resp"
)

// TestInterruptWhileScriptLoops: Ctrl-C stops the server within 3 s
// while a Lua script loops for ever.
func TestInterruptWhileScriptLoops(t *testing.T) {
	t.Parallel()
	cmd, addr := startServer(t)
	// A short lua-time-limit, so that another client soon gets
	// -BUSY: then the script is surely running.
	if got := send(t, addr, "CONFIG", "SET", "lua-time-limit", "50"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET lua-time-limit: %q", got)
	}
	loop, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer loop.Close()
	loop.Write(resp.AppendCommand(nil, []byte("EVAL"), []byte("while true do end"), []byte("0")))
	for deadline := time.Now().Add(10 * time.Second); ; {
		got := send(t, addr, "SET", "k", "v")
		if strings.HasPrefix(got, "-BUSY ") {
			break
		}
		if got != "+OK\r\n" || time.Now().After(deadline) {
			t.Fatalf("SET while a script loops: %q", got)
		}
	}

	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after Ctrl-C: %v", err)
		}
		t.Logf("stopped %v after Ctrl-C", time.Since(start).Round(time.Millisecond))
	case <-time.After(3 * time.Second):
		cmd.Process.Kill()
		t.Fatal("Ctrl-C did not stop the server within 3 s while a script looped")
	}
}

// startServer runs this program (as the scripts run it) on a free
// port, and waits until it listens.
func startServer(t *testing.T) (*exec.Cmd, string) {
	for range 5 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command("embedded-redis")
		cmd.Env = append(os.Environ(), "REDIS_ADDR="+addr)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if strings.HasPrefix(line, "Embedded Redis listening on ") {
			go io.Copy(io.Discard, out)
			t.Cleanup(func() { cmd.Process.Kill() })
			return cmd, addr
		}
		// Someone took the port meanwhile: try another.
		cmd.Wait()
		if !strings.Contains(stderr.String(), "already in use") {
			t.Fatalf("embedded-redis: %q %s", line, stderr.String())
		}
	}
	t.Fatal("no free port")
	return nil, ""
}

// send sends one command on a connection of its own and returns the
// reply.
func send(t *testing.T, addr string, args ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var argv [][]byte
	for _, a := range args {
		argv = append(argv, []byte(a))
	}
	if _, err := c.Write(resp.AppendCommand(nil, argv...)); err != nil {
		t.Fatal(err)
	}
	reply, err := resp.ReadReply(bufio.NewReader(c))
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return string(reply)
}
