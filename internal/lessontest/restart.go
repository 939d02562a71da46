package lessontest

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"redis-by-hand/internal/redisaddr"
	"redis-by-hand/internal/wiretap"
)

// A restartable server, for a lesson that must survive a restart: the
// lesson talks to a tap of its own that stopredis closes with the
// server, so that dialing it is refused as dialing a stopped Redis is;
// startredis starts a fresh server, and openredis opens the tap again
// on the same address, in front of it. The backends choose their own
// ports; the tap is what keeps the address.
type restarter struct {
	addr string       // the tap's address, the lesson's REDIS_ADDR
	tap  *wiretap.Tap // nil while REDIS_ADDR refuses connections
	stop func()       // stops the server; nil while it is stopped
}

var (
	restartersMu sync.Mutex
	restarters   = map[*script]*restarter{}
)

// canrestart puts the server behind a tap that stopredis closes, and
// that openredis opens again on the same address, in front of the
// server that startredis started. It comes first in a script, before
// anything connects.
func cmdCanrestart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		fatalf(ts, "usage: canrestart")
	}
	s := scriptOf(ts)
	rs := &restarter{addr: "127.0.0.1:0"}
	rs.open(ts, s)
	rs.addr = rs.tap.Addr()
	restartersMu.Lock()
	restarters[s] = rs
	restartersMu.Unlock()
	ts.Defer(func() {
		rs.close()
		restartersMu.Lock()
		delete(restarters, s)
		restartersMu.Unlock()
	})
	ts.Setenv("REDIS_ADDR", rs.addr)
	s.tap = rs.addr // the harness's own commands go around it
	rs.stop = s.stop
	s.stop = rs.stopAll
}

// stopAll closes REDIS_ADDR, then stops the server: the lesson's
// connection ends, and dialing again is refused.
func (rs *restarter) stopAll() {
	rs.close()
	if rs.stop != nil {
		rs.stop()
		rs.stop = nil
	}
}

// startredis starts a fresh, empty server after stopredis. REDIS_ADDR
// still refuses connections until openredis: what the script does in
// between (publish to nobody) happens while the lesson is away, however
// fast it comes back.
func cmdStartredis(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		fatalf(ts, "usage: startredis")
	}
	s, rs := restarterOf(ts)
	if rs.stop != nil {
		fatalf(ts, "startredis: the server is running: stopredis first")
	}
	for _, b := range backends {
		if b.name != s.backend {
			continue
		}
		addr, stop, err := b.start()
		checkErr(ts, err)
		stop = sync.OnceFunc(stop)
		ts.Defer(stop)
		s.server = addr
		rs.stop = stop
		s.stop = rs.stopAll
		return
	}
	fatalf(ts, "startredis: no backend %q", s.backend)
}

// openredis opens REDIS_ADDR again, in front of the server that
// startredis started.
func cmdOpenredis(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		fatalf(ts, "usage: openredis")
	}
	s, rs := restarterOf(ts)
	switch {
	case rs.stop == nil:
		fatalf(ts, "openredis: no server: startredis first")
	case rs.tap != nil:
		fatalf(ts, "openredis: REDIS_ADDR is open already")
	}
	rs.open(ts, s)
}

func restarterOf(ts *testscript.TestScript) (*script, *restarter) {
	s := scriptOf(ts)
	restartersMu.Lock()
	rs := restarters[s]
	restartersMu.Unlock()
	if rs == nil {
		fatalf(ts, "the script must begin with canrestart")
	}
	return s, rs
}

// open starts the tap on rs.addr, in front of s.server. Its connections
// are recorded after those of the taps before it.
func (rs *restarter) open(ts *testscript.TestScript, s *script) {
	s.wire.mu.Lock()
	base := len(s.wire.conns)
	s.wire.mu.Unlock()
	observe := func(e wiretap.Event) {
		e.Conn += base
		s.wire.observe(e)
	}
	// The port was ours a moment ago; the system may take a moment
	// to let it go.
	deadline := time.Now().Add(wait)
	for {
		tap, err := wiretap.Start(rs.addr, s.server, observe)
		if redisaddr.InUse(err) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		checkErr(ts, err)
		rs.tap = tap
		return
	}
}

func (rs *restarter) close() {
	if rs.tap != nil {
		rs.tap.Close()
		rs.tap = nil
	}
}

// perconn FILE REGEXP cuts a program's output at each line that
// matches REGEXP, the first line it prints for each connection, into
// FILE.1, FILE.2...: the wire check holds each golden file to one
// connection.
func cmdPerconn(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		fatalf(ts, "usage: perconn FILE REGEXP")
	}
	re, err := regexp.Compile(args[1])
	checkErr(ts, err)
	var parts []string
	for line := range strings.Lines(ts.ReadFile(args[0])) {
		if re.MatchString(strings.TrimSuffix(line, "\n")) || parts == nil {
			parts = append(parts, "")
		}
		parts[len(parts)-1] += line
	}
	for i, p := range parts {
		name := fmt.Sprintf("%s.%d", args[0], i+1)
		checkErr(ts, os.WriteFile(ts.MkAbs(name), []byte(p), 0o666))
	}
}
