package sandbox

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/resp"
)

// luaGlobals are the globals of redis-server 7.0's Lua, sorted: what
// listGlobals returns there (TestDifferential compares the two).
const luaGlobals = "ARGV KEYS _G _VERSION __redis__err__handler assert bit cjson " +
	"cmsgpack collectgarbage coroutine error gcinfo getmetatable ipairs load " +
	"loadstring math next pairs pcall rawequal rawget rawset redis select " +
	"setmetatable string struct table tonumber tostring type unpack xpcall"

const listGlobals = "local t = {} for k in pairs(_G) do t[#t+1] = k end table.sort(t) return t"

// TestScriptGlobals: a script sees Redis 7.0's globals, and nothing
// that reaches files or the system.
func TestScriptGlobals(t *testing.T) {
	t.Parallel()
	srv, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c := dialSandbox(t, srv)

	reply := c.do("EVAL", listGlobals, "0")
	var names []string
	for _, line := range strings.Split(reply, "\r\n") {
		if line != "" && line[0] != '*' && line[0] != '$' {
			names = append(names, line)
		}
	}
	if got := strings.Join(names, " "); got != luaGlobals {
		t.Errorf("globals:\n%s\nwant Redis 7.0's:\n%s", got, luaGlobals)
	}
	for _, script := range []string{
		"return dofile('/etc/passwd')",
		"return loadfile('/etc/passwd')",
		"return require('os')",
		"return io.open('/etc/passwd')",
		"return os.execute('true')",
		"return package.loaded",
		"return getfenv(1)",
		"print('x')",
		"module('x')",
		"x = 1",
	} {
		if got := c.do("EVAL", script, "0"); !strings.HasPrefix(got, "-ERR user_script:1: ") {
			t.Errorf("EVAL %q: %q, want an error", script, got)
		}
	}
}

// TestScriptBusy: a script that loops for ever makes other clients'
// commands -BUSY once it has run for lua-time-limit; SCRIPT KILL ends
// it, and all goes on. redis-server does the same.
func TestScriptBusy(t *testing.T) {
	t.Parallel()
	if DefaultLuaTimeLimit != 5*time.Second {
		t.Errorf("DefaultLuaTimeLimit is %v, not Redis's 5 s", DefaultLuaTimeLimit)
	}
	var transcripts [2]string
	t.Run("sandbox", func(t *testing.T) {
		srv, err := Start("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		if srv.scripting.limit.Load() != int64(DefaultLuaTimeLimit) {
			t.Errorf("lua-time-limit is %v", time.Duration(srv.scripting.limit.Load()))
		}
		srv.SetLuaTimeLimit(200 * time.Millisecond)
		transcripts[0] = busyAndKill(t, srv.Addr(), false)
		transcripts[0] += busyAndKill(t, srv.Addr(), true)
	})
	t.Run("redis-server", func(t *testing.T) {
		realredis.Require70(t)
		// A server of its own: a busy script would hold up the
		// other tests' shared one.
		real, err := realredis.Start()
		if err != nil {
			t.Fatal(err)
		}
		defer real.Stop()
		c := dialAddr(t, real.Addr)
		if got := c.do("CONFIG", "SET", "lua-time-limit", "200"); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET lua-time-limit: %q", got)
		}
		transcripts[1] = busyAndKill(t, real.Addr, false)
		transcripts[1] += busyAndKill(t, real.Addr, true)
	})
	if transcripts[0] != "" && transcripts[1] != "" && transcripts[0] != transcripts[1] {
		t.Errorf("sandbox:\n%s\nredis-server:\n%s", transcripts[0], transcripts[1])
	}
}

// busyAndKill runs the exchange of TestScriptBusy, checks it, and
// returns its transcript. inTx: the script runs in a transaction.
func busyAndKill(t *testing.T, addr string, inTx bool) string {
	loop := dialAddr(t, addr)
	other := dialAddr(t, addr)
	var out strings.Builder
	start := time.Now()
	killed := `"-ERR Script killed by user with SCRIPT KILL... script: 694a5fe1ddb97a4c6a1bf299d9537c7d3d0f84e7, on @user_script:1.\r\n"`
	if inTx {
		loop.do("MULTI")
		loop.do("EVAL", "while true do end", "0")
		loop.send("EXEC")
		killed = `"*1\r\n` + killed[1:]
	} else {
		loop.send("EVAL", "while true do end", "0")
	}
	// SET until the script runs and has run past the limit.
	var busy string
	for busy == "" {
		switch got := other.do("SET", "busy:k", "v"); {
		case strings.HasPrefix(got, "-BUSY"):
			busy = got
		case got != "+OK\r\n" || time.Since(start) > 10*time.Second:
			t.Fatalf("SET while a script loops: %q", got)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("-BUSY after %v", d)
	}
	fmt.Fprintf(&out, "SET: %q\n", busy)
	fmt.Fprintf(&out, "GET: %q\n", other.do("GET", "busy:k"))
	fmt.Fprintf(&out, "SCRIPT FLUSH: %q\n", other.do("SCRIPT", "FLUSH"))
	fmt.Fprintf(&out, "SCRIPT KILL: %q\n", other.do("SCRIPT", "KILL"))
	fmt.Fprintf(&out, "the script: %q\n", loop.read())
	fmt.Fprintf(&out, "SET: %q\n", other.do("SET", "busy:k", "w"))
	fmt.Fprintf(&out, "GET: %q\n", other.do("GET", "busy:k"))
	fmt.Fprintf(&out, "SCRIPT KILL: %q\n", other.do("SCRIPT", "KILL"))
	want := `SET: "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
GET: "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
SCRIPT FLUSH: "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
SCRIPT KILL: "+OK\r\n"
the script: ` + killed + `
SET: "+OK\r\n"
GET: "$1\r\nw\r\n"
SCRIPT KILL: "-NOTBUSY No scripts in execution right now.\r\n"
`
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
	return out.String()
}

// A client is a connection that sends commands as RESP arrays and
// reads replies by their framing.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialAddr(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t, c, bufio.NewReader(c)}
}

func dialSandbox(t *testing.T, s *Server) *client { return dialAddr(t, s.Addr()) }

func (c *client) send(args ...string) {
	c.t.Helper()
	var argv [][]byte
	for _, a := range args {
		argv = append(argv, []byte(a))
	}
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.c.Write(resp.AppendCommand(nil, argv...)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() string {
	c.t.Helper()
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	reply, err := resp.ReadReply(c.r)
	if err != nil {
		c.t.Fatal(err)
	}
	return string(reply)
}

func (c *client) do(args ...string) string {
	c.t.Helper()
	c.send(args...)
	return c.read()
}
