package main

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"redis-by-hand/internal/lessontest"
)

// TestCtrlCWithSlowClient: a client sends its body one byte at a
// time and would take 10s. Ctrl-C must still end the server within
// about the timeout (1s here): the client gets the timeout to send its
// request, and Shutdown the timeout to let it finish.
func TestCtrlCWithSlowClient(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Ctrl-C cannot be sent to a process on Windows")
	}
	lessontest.EachBackend(t, ctrlCWithSlowClient)
}

func ctrlCWithSlowClient(t *testing.T, redisAddr string) {
	t.Parallel() // both backends at once: the test mostly waits
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	listen := ln.Addr().String()
	ln.Close()

	// The test binary is the lesson when it runs as 06-hits.
	cmd := exec.Command("06-hits", listen)
	cmd.Env = append(os.Environ(), "REDIS_ADDR="+redisAddr, "REDIS_TIMEOUT=1s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, err := bufio.NewReader(stderr).ReadString('\n'); !strings.Contains(line, "serving") {
		t.Fatalf("06-hits said %q, %v; want serving", line, err)
	}

	c, err := net.Dial("tcp", listen)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		c.Write([]byte("POST /somethings HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{"))
		for range 40 {
			time.Sleep(250 * time.Millisecond)
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond) // the request is under way

	start := time.Now()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("06-hits ended %v after Ctrl-C, want within the 1s timeout and a margin", took)
		}
		if err != nil {
			t.Errorf("06-hits: %v", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("06-hits still runs 8s after Ctrl-C, with a slow client")
	}
}
