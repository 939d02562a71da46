package lessontest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/redisaddr"
	"redis-by-hand/internal/resp"
)

// wait bounds every command that waits on the server; quickWait
// bounds those that wait on the lesson, in a Check run.
const (
	wait      = 10 * time.Second
	quickWait = 5 * time.Second
)

var commands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"redis":       cmdRedis,
	"waitsub":     cmdWaitsub,
	"stopredis":   cmdStopredis,
	"blackhole":   cmdBlackhole,
	"fake":        cmdFake,
	"waitaddr":    cmdWaitaddr,
	"waitblocked": cmdWaitblocked,
	"redisserver": cmdRedisserver,
	"gen":         cmdGen,
	"writebytes":  cmdWritebytes,
	"waitlines":   cmdWaitlines,
	"waitcount":   cmdWaitcount,
	"wantmsg":     cmdWantmsg,
	"sigterm":     cmdSigterm,
	"subscribe":   cmdSubscribe,
	"golden":      cmdGolden,
	"http":        cmdHTTP,
	"canrestart":  cmdCanrestart,
	"startredis":  cmdStartredis,
	"openredis":   cmdOpenredis,
	"perconn":     cmdPerconn,
	"vary":        cmdVary,
	"cluster":     cmdCluster,
	"silence":     cmdSilence,
}

// silence DURATION lets DURATION pass: a subscriber must outlive a
// silence longer than its REDIS_TIMEOUT. What the lesson prints after
// it is the verdict, not the time.
func cmdSilence(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		fatalf(ts, "usage: silence DURATION")
	}
	d, err := time.ParseDuration(args[0])
	checkErr(ts, err)
	time.Sleep(d)
}

// dial connects to the script's REDIS_ADDR, waiting for a server that
// a script has just started in the background. The harness's own
// commands bypass the tap: only the program under test is recorded.
func dial(ts *testscript.TestScript) net.Conn {
	deadline := time.Now().Add(wait)
	addr := ts.Getenv("REDIS_ADDR")
	if s := scriptOf(ts); addr == s.tap {
		addr = s.server
	} else if node, ok := s.direct[addr]; ok {
		addr = node // a cluster node's tap (cluster.go)
	}
	for {
		c, err := net.DialTimeout("tcp", addr, wait)
		if notListening(err) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		checkErr(ts, err)
		c.SetDeadline(deadline)
		return c
	}
}

// do sends the commands in one write, as RESP arrays, and returns the
// raw replies, one per command.
func do(ts *testscript.TestScript, cmds [][][]byte) [][]byte {
	c := dial(ts)
	defer c.Close()
	var req []byte
	for _, argv := range cmds {
		req = resp.AppendCommand(req, argv...)
	}
	_, err := c.Write(req)
	checkErr(ts, err)
	r := bufio.NewReader(c)
	replies := make([][]byte, len(cmds))
	for i := range cmds {
		replies[i], err = resp.ReadReply(r)
		if err != nil {
			fatalf(ts, "reading the reply to %q: %v", cmds[i], err)
		}
	}
	return replies
}

// redis CMD ARG... [; CMD ARG...]
func cmdRedis(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		fatalf(ts, "usage: redis CMD ARG... [; CMD ARG...]")
	}
	var cmds [][][]byte
	var argv [][]byte
	for _, a := range append(args, ";") {
		switch {
		case a == ";":
			if len(argv) == 0 {
				fatalf(ts, "redis: empty command")
			}
			cmds = append(cmds, argv)
			argv = nil
		case strings.HasPrefix(a, "@"):
			data, err := os.ReadFile(ts.MkAbs(a[1:]))
			checkErr(ts, err)
			argv = append(argv, data)
		default:
			argv = append(argv, []byte(a))
		}
	}
	for _, reply := range do(ts, cmds) {
		fmt.Fprintf(ts.Stdout(), "%q\n", reply)
	}
}

// waitsub CHANNEL N: pub/sub drops messages nobody is subscribed to yet,
// so a script waits for its subscribers before it publishes.
func cmdWaitsub(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: waitsub CHANNEL N")
	}
	n, err := strconv.Atoi(args[1])
	checkErr(ts, err)
	want := fmt.Sprintf(":%d\r\n", n)
	var reply []byte
	waitUntil(ts, func() bool {
		reply = do(ts, [][][]byte{{[]byte("PUBSUB"), []byte("NUMSUB"), []byte(args[0])}})[0]
		return bytes.HasSuffix(reply, []byte(want))
	}, func() string {
		return fmt.Sprintf("waitsub: not %d subscribers to %q %%s (PUBSUB NUMSUB: %q)", n, args[0], reply)
	})
}

// waitUntil polls ok until it holds, for up to wait; then it fails
// with the message that what returns, where %s says how long it
// waited. In a Check run it gives up sooner: a lesson being written
// may never connect, or may close its connection for good.
func waitUntil(ts *testscript.TestScript, ok func() bool, what func() string) {
	start := time.Now()
	bound := wait
	if quick {
		bound = quickWait
	}
	var closed time.Time
	s := scriptOf(ts)
	for !ok() {
		since := time.Since(start)
		if since > bound {
			fatalf(ts, what(), "after "+bound.String())
		}
		if quick {
			n, open := s.wire.count()
			// A lesson that exited has printed all it will.
			gone := exited(ts) && !ok()
			switch {
			case n == 0 && (since > neverConnected || gone):
				s.neverConnected = true
				fatalf(ts, what(), fmt.Sprintf("after %v, and the lesson never connected to REDIS_ADDR", since.Round(time.Millisecond)))
			case n > 0 && open == 0 && closed.IsZero():
				closed = time.Now()
			case n > 0 && open == 0 && time.Since(closed) > neverConnected:
				fatalf(ts, what(), "after the lesson closed its connection")
			case gone:
				fatalf(ts, what(), "after the lesson exited")
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exited says whether every program the script runs in the background
// has exited (and there is one): what it printed is then all it will.
func exited(ts *testscript.TestScript) bool {
	cmds := ts.BackgroundCmds()
	for _, c := range cmds {
		// testscript waits for each one as it ends: a signal to a
		// process that was waited for reports ErrProcessDone.
		if c.Process == nil || !errors.Is(c.Process.Signal(syscall.Signal(0)), os.ErrProcessDone) {
			return false
		}
	}
	return len(cmds) > 0
}

// stopredis stops the server as if it crashed or was shut down: its
// clients see their connections close.
func cmdStopredis(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		fatalf(ts, "usage: stopredis")
	}
	scriptOf(ts).serverStopped = true
	scriptOf(ts).stop()
}

// blackhole [FILE] points REDIS_ADDR at a server that accepts
// connections and never answers. With FILE, it adds a line to FILE as
// it accepts each one, for waitlines.
func cmdBlackhole(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		fatalf(ts, "usage: blackhole [FILE]")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	checkErr(ts, err)
	var log *os.File
	if len(args) == 1 {
		log, err = os.Create(ts.MkAbs(args[0]))
		checkErr(ts, err)
		ts.Defer(func() { log.Close() })
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				break
			}
			conns = append(conns, c)
			if log != nil {
				fmt.Fprintln(log, "accepted")
			}
		}
		for _, c := range conns {
			c.Close()
		}
	}()
	ts.Defer(func() { ln.Close(); <-done })
	ts.Setenv("REDIS_ADDR", ln.Addr().String())
}

// notListening says whether a dial failed because the server is not
// listening yet: refused, or reset while its listener comes up (a
// loaded machine shows both).
func notListening(err error) bool {
	return redisaddr.Refused(err) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.Errno(10054)) // WSAECONNRESET
}

// waitaddr FILE VAR waits until a program started in the background
// has written the address it listens on (127.0.0.1:PORT) to FILE, and
// sets VAR to it. Programs under test listen on port 0 and say where:
// a port picked before they start could be taken by then.
func cmdWaitaddr(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: waitaddr FILE VAR")
	}
	var data []byte
	var addr []byte
	waitUntil(ts, func() bool {
		data, _ = os.ReadFile(ts.MkAbs(args[0]))
		addr = listening.Find(data)
		return addr != nil
	}, func() string {
		return fmt.Sprintf("waitaddr: %s names no 127.0.0.1:PORT %%s:\n%s",
			args[0], strings.ReplaceAll(string(data), "%", "%%"))
	})
	ts.Setenv(args[1], string(addr))
}

var listening = regexp.MustCompile(`127\.0\.0\.1:[1-9][0-9]*`)

// waitblocked N waits until N clients wait in a blocking command
// (BRPOP...), as INFO clients counts them: a script pushes its jobs
// only once its workers are waiting for them.
func cmdWaitblocked(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		fatalf(ts, "usage: waitblocked N")
	}
	n, err := strconv.Atoi(args[0])
	checkErr(ts, err)
	want := fmt.Sprintf("\r\nblocked_clients:%d\r\n", n)
	var info []byte
	waitUntil(ts, func() bool {
		info = do(ts, [][][]byte{{[]byte("INFO"), []byte("clients")}})[0]
		return bytes.Contains(info, []byte(want))
	}, func() string {
		return fmt.Sprintf("waitblocked: not %d blocked clients %%s (INFO clients: %q)", n, info)
	})
}

// redisserver ARG... starts a fresh real redis-server with these more
// options (--requirepass x) on a free port, and points REDIS_ADDR at
// it; the script stops it when it ends. [redis-server] scripts only.
func cmdRedisserver(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		fatalf(ts, "usage: redisserver ARG...")
	}
	if scriptOf(ts).backend != realredis.Binary {
		fatalf(ts, "redisserver: only in [redis-server] scripts")
	}
	srv, err := realredis.Start(args...)
	checkErr(ts, err)
	ts.Defer(srv.Stop)
	ts.Setenv("REDIS_ADDR", srv.Addr)
}

// gen FILE SIZE writes SIZE bytes that cycle through every byte value,
// CR, LF, NUL and quotes included.
func cmdGen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: gen FILE SIZE")
	}
	size, err := strconv.Atoi(args[1])
	checkErr(ts, err)
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7) // 7 is odd: every value comes round
	}
	checkErr(ts, os.WriteFile(ts.MkAbs(args[0]), data, 0o666))
}

// writebytes FILE TEXT writes TEXT with Go's escapes (\r \n \x00 \" ...)
// turned into the bytes they stand for: script arguments cannot hold
// line breaks.
func cmdWritebytes(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: writebytes FILE TEXT")
	}
	data, err := strconv.Unquote(`"` + args[1] + `"`)
	checkErr(ts, err)
	checkErr(ts, os.WriteFile(ts.MkAbs(args[0]), []byte(data), 0o666))
}

// waitlines FILE N waits until a program running in the background has
// written N lines to FILE, so that a script can act on what it printed.
func cmdWaitlines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: waitlines FILE N")
	}
	n, err := strconv.Atoi(args[1])
	checkErr(ts, err)
	var data []byte
	waitUntil(ts, func() bool {
		data, _ = os.ReadFile(ts.MkAbs(args[0]))
		return bytes.Count(data, []byte("\n")) >= n
	}, func() string {
		return fmt.Sprintf("waitlines: %s has %d lines %%s, want %d:\n%s",
			args[0], bytes.Count(data, []byte("\n")), n, strings.ReplaceAll(string(data), "%", "%%"))
	})
}

// waitcount N REGEXP FILE... waits until the files hold N lines, in
// all, that match REGEXP: two workers have printed six jobs between
// them, however they shared them.
func cmdWaitcount(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		fatalf(ts, "usage: waitcount N REGEXP FILE...")
	}
	n, err := strconv.Atoi(args[0])
	checkErr(ts, err)
	re, err := regexp.Compile("(?m)" + args[1])
	checkErr(ts, err)
	got := 0
	waitUntil(ts, func() bool {
		got = 0
		for _, f := range args[2:] {
			data, _ := os.ReadFile(ts.MkAbs(f))
			got += len(re.FindAll(data, -1))
		}
		return got >= n
	}, func() string {
		return fmt.Sprintf("waitcount: %d lines match %q %%s, want %d", got, args[1], n)
	})
}

// wantmsg FILE CHANNEL DATAFILE checks that FILE has the line printed
// for one pub/sub message carrying DATAFILE's bytes: the quoted frame
// "*3\r\n$7\r\nmessage\r\n$<n>\r\n<channel>\r\n$<n>\r\n<data>\r\n",
// alone (subscribe) or after "Received: " (lesson 03). It is for
// messages too big, or too binary, to read well in a golden file.
func cmdWantmsg(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 {
		fatalf(ts, "usage: wantmsg FILE CHANNEL DATAFILE")
	}
	data, err := os.ReadFile(ts.MkAbs(args[2]))
	checkErr(ts, err)
	frame := fmt.Sprintf("%q", fmt.Sprintf(
		"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n",
		len(args[1]), args[1], len(data), data))
	found := false
	for line := range strings.Lines(ts.ReadFile(args[0])) {
		line = strings.TrimSuffix(line, "\n")
		found = found || line == frame || line == "Received: "+frame
	}
	if found == neg {
		fatalf(ts, "wantmsg: %s has no line for the %d-byte message of %s",
			args[0], len(data), args[2])
	}
}

// sigterm sends SIGTERM to the script's background commands, as a
// service manager would (testscript's kill knows only INT and KILL).
func cmdSigterm(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		fatalf(ts, "usage: sigterm")
	}
	for _, c := range ts.BackgroundCmds() {
		checkErr(ts, c.Process.Signal(syscall.SIGTERM))
	}
}

// subscribe CHANNEL FILE subscribes in the background, for lessons
// that publish: each reply, the confirmation first, becomes one quoted
// line of FILE. It is subscribed when the command returns.
func cmdSubscribe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: subscribe CHANNEL FILE")
	}
	f, err := os.Create(ts.MkAbs(args[1]))
	checkErr(ts, err)
	c := dial(ts)
	_, err = c.Write(resp.AppendCommand(nil, []byte("SUBSCRIBE"), []byte(args[0])))
	checkErr(ts, err)
	r := bufio.NewReader(c)
	reply, err := resp.ReadReply(r)
	checkErr(ts, err)
	fmt.Fprintf(f, "%q\n", reply)
	c.SetDeadline(time.Time{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			reply, err := resp.ReadReply(r)
			if err != nil {
				return
			}
			fmt.Fprintf(f, "%q\n", reply)
		}
	}()
	ts.Defer(func() {
		c.Close()
		<-done
		f.Close()
	})
}
