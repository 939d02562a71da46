// Package realredis starts throwaway redis-server processes for tests:
// loopback only, a free port, no persistence, stopped by the caller.
// It never touches a Redis that is already running.
package realredis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"redis-by-hand/internal/resp"
)

// Binary is the program the tests look for on PATH.
const Binary = "redis-server"

// RequiredEnv, set to 1, turns a missing redis-server from a skip into
// a failure. CI sets it.
const RequiredEnv = "REDIS_SERVER_REQUIRED"

// SkipEnv, set to 1, leaves redis-server out although it is on PATH:
// the tests run on the embedded Redis only. (The workshop's tests of
// make check set it: the lessons' own tests run on both.)
const SkipEnv = "REDIS_SERVER_SKIP"

// Available says whether tests run on redis-server too: it is on PATH,
// and SkipEnv is not 1.
func Available() bool {
	if os.Getenv(SkipEnv) == "1" {
		return false
	}
	_, err := exec.LookPath(Binary)
	return err == nil
}

// Require skips the calling test when redis-server is not on PATH (or
// SkipEnv is 1), with the reason, or fails it when RequiredEnv is 1.
func Require(t testing.TB) {
	t.Helper()
	if Available() {
		return
	}
	reason := Binary + " is not on PATH: install it (Debian/Ubuntu: " +
		"apt-get install redis-server) to run the real-server tests"
	if os.Getenv(SkipEnv) == "1" {
		reason = SkipEnv + "=1: the tests run on the embedded Redis only"
	}
	if os.Getenv(RequiredEnv) == "1" {
		t.Fatalf("%s (%s=1)", reason, RequiredEnv)
	}
	t.Skip(reason)
}

// RequireTool is Require for another program of the Redis tools
// (redis-cli, redis-benchmark): skipped with the reason when it is not
// on PATH, failed when RequiredEnv is 1.
func RequireTool(t testing.TB, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err == nil {
		return
	}
	reason := name + " is not on PATH: install the Redis tools (Debian/Ubuntu: " +
		"apt-get install redis-tools; macOS: brew install redis) to run this test"
	if os.Getenv(RequiredEnv) == "1" {
		t.Fatalf("%s (%s=1)", reason, RequiredEnv)
	}
	t.Skip(reason)
}

// Version is the version of the redis-server on PATH ("7.0.15").
func Version() (string, error) {
	out, err := exec.Command(Binary, "--version").Output()
	if err != nil {
		return "", err
	}
	// "Redis server v=7.0.15 sha=..."
	_, v, ok := strings.Cut(string(out), " v=")
	v, _, _ = strings.Cut(v, " ")
	if !ok || v == "" {
		return "", fmt.Errorf("%s --version: unexpected %q", Binary, out)
	}
	return v, nil
}

// Require70 is Require for a test that pins redis-server 7.0's exact
// texts: it also skips, naming the version, when the redis-server on
// PATH is another one (a reader's brew install gives 7.2 or 8.x). CI
// runs Debian's 7.0.
func Require70(t testing.TB) {
	t.Helper()
	Require(t)
	v, err := Version()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(v, "7.0.") {
		t.Skipf("redis-server is %s; this test expects 7.0.x's exact replies", v)
	}
}

// Server is a running redis-server.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	log  bytes.Buffer
	done chan struct{}
}

// Start runs a fresh redis-server on a free loopback port and waits
// until it accepts connections. args are more of its options, such as
// "--requirepass", "x".
func Start(args ...string) (*Server, error) { return StartAlsoOn("", args...) }

// StartAlsoOn is Start, listening on another local address of the
// machine too (the protected-mode test needs one that is not loopback).
// Addr stays the loopback one.
func StartAlsoOn(host string, args ...string) (*Server, error) {
	var last error
	// A free port can be taken by someone else before redis-server
	// binds it: try a few, and make sure that the server answering
	// is ours.
	for range 5 {
		s, err := start(host, args)
		if err == nil {
			return s, nil
		}
		last = err
	}
	return nil, last
}

func start(host string, args []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "redis-server-")
	if err != nil {
		return nil, err
	}
	s := &Server{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		done: make(chan struct{}),
	}
	s.cmd = exec.Command(Binary, append([]string{
		"--port", strconv.Itoa(port), "--bind", strings.TrimSpace("127.0.0.1 " + host),
		"--save", "", "--appendonly", "no", "--dir", dir,
		"--daemonize", "no", "--logfile", ""}, args...)...)
	s.cmd.Stdout = &s.log
	s.cmd.Stderr = &s.log
	dieWithTest(s.cmd)
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() {
		s.cmd.Wait()
		os.RemoveAll(dir)
		close(s.done)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return nil, fmt.Errorf("redis-server exited at start:\n%s", s.log.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Addr, time.Second); err == nil {
			ours := s.answers(c)
			c.Close()
			if ours {
				return s, nil
			}
			// Another program took the port first: ours cannot
			// bind it, and exits.
			s.Stop()
			return nil, fmt.Errorf("port %d was taken before redis-server bound it", port)
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Stop()
	return nil, errors.New("redis-server did not accept connections within 10s")
}

// answers reports whether the server behind c is this process, by the
// process_id that INFO reports.
func (s *Server) answers(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	// A server started with --requirepass answers only after AUTH.
	if i := slices.Index(s.cmd.Args, "--requirepass"); i > 0 && i+1 < len(s.cmd.Args) {
		auth := resp.AppendCommand(nil, []byte("AUTH"), []byte(s.cmd.Args[i+1]))
		if _, err := c.Write(auth); err != nil {
			return false
		}
		if ok, err := resp.ReadReply(r); err != nil || string(ok) != "+OK\r\n" {
			return false
		}
	}
	if _, err := c.Write(resp.AppendCommand(nil, []byte("INFO"), []byte("server"))); err != nil {
		return false
	}
	info, err := resp.ReadReply(r)
	return err == nil && bytes.Contains(info, []byte(fmt.Sprintf("\r\nprocess_id:%d\r\n", s.cmd.Process.Pid)))
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s) and waits for
// it; its clients see the connection close. Stop may be called twice.
func (s *Server) Stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
