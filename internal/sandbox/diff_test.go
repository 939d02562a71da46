package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/resp"
)

// quiet is how long a connection must stay silent before an exchange
// counts as over with the connection still open. Silence decides only
// that the servers agree: when they differ, the exchange runs again,
// waiting confirmQuiet, and only a difference that stays is one. A
// busy machine may pause a server for half a second, not for two.
const (
	quiet        = 500 * time.Millisecond
	confirmQuiet = 2 * time.Second
)

// exchange writes each chunk (with a pause between chunks, so they
// arrive as separate reads), then returns every byte received and how
// the connection ended: "closed" (EOF), "reset", or "open". A failure
// to connect or write is the result, so that it shows as a difference.
func exchange(addr string, chunks []string, halfClose bool) string {
	return exchangeFor(addr, chunks, halfClose, quiet)
}

// exchangeFor is exchange, with silence meaning done after wait.
func exchangeFor(addr string, chunks []string, halfClose bool, wait time.Duration) string {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	for i, chunk := range chunks {
		if i > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		if _, err := io.WriteString(c, chunk); err != nil {
			return err.Error()
		}
	}
	if halfClose {
		c.(*net.TCPConn).CloseWrite()
	}
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(wait))
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		switch {
		case err == nil:
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			return fmt.Sprintf("%q, open", got)
		case errors.Is(err, io.EOF):
			return fmt.Sprintf("%q, closed", got)
		case errors.Is(err, syscall.ECONNRESET):
			return fmt.Sprintf("%q, reset", got)
		default:
			return fmt.Sprintf("%q, %v", got, err)
		}
	}
}

// diffCases are raw requests whose replies and close behaviour must be
// the same from the sandbox and from a real redis-server. Each case
// uses keys of its own, as they all share one server of each kind.
var diffCases = []struct {
	name      string
	chunks    []string
	halfClose bool // shut the sending side after the last chunk
}{
	{"inline ping", []string{"ping\n"}, false},
	{"inline ping crlf", []string{"PING\r\n"}, false},
	{"mixed case", []string{"PiNg\r\n"}, false},
	{"inline argument", []string{"ping hello\r\n"}, false},
	{"blanks around", []string{"  \t ping \t  hello   \r\n"}, false},
	{"empty lines", []string{"\r\n\n  \r\n\t\n"}, false},
	{"double and single quotes", []string{`echo "a b"` + "\n" + `echo 'c d'` + "\n"}, false},
	{"escapes in double quotes", []string{`echo "\x41\x4a\n\t\\\"\q"` + "\n"}, false},
	{"bad hex escape", []string{`echo "\xZZ\x4"` + "\n"}, false},
	{"escaped single quote", []string{`echo 'it\'s'` + "\n" + `echo 'a\nb'` + "\n"}, false},
	{"quote opening mid-argument", []string{`echo ab"cd ef"` + "\n"}, false},
	{"empty quoted argument", []string{`echo ""` + "\n" + `echo ''` + "\n"}, false},
	{"vertical tab inside argument", []string{"echo a\vb\n"}, false},
	{"closing quote glued to text", []string{`echo "a"b` + "\n" + "ping\n"}, false},
	{"unbalanced double quote", []string{"set diff:k \"abc\r\n"}, false},
	{"unbalanced single quote", []string{"set diff:k 'abc\n"}, false},
	{"error after good commands", []string{"ping\necho \"x\nping\n"}, false},
	{"cr cr lf", []string{"echo x\r\r\n"}, false},
	{"lone cr", []string{"ping\r"}, false},
	{"cr inside line", []string{"echo a\rb\n"}, false},
	{"nul hides the newline", []string{"ping\x00\r\nping\r\n"}, false},
	{"escaped nul in argument", []string{`echo "a\x00b"` + "\n"}, false},
	{"unknown command", []string{"foo bar 'baz qux'\r\n"}, false},
	{"unknown command long args", []string{"nope " + strings.Repeat("a", 100) + " " + strings.Repeat("b", 100) + " c\n"}, false},
	{"unknown command long name", []string{strings.Repeat("Z", 200) + " x\n"}, false},
	{"unknown command crlf in name", []string{"*2\r\n$5\r\nfo\r\no\r\n$3\r\na\nb\r\n"}, false},
	{"unknown command nul in name", []string{"*2\r\n$5\r\nfo\x00oo\r\n$3\r\na\x00b\r\n"}, false},
	{"unknown empty command", []string{"\"\"\n"}, false},
	{"wrong arity", []string{"get\r\nincr\r\n"}, false},
	{"incr pipelined", []string{"incr diff:n\nincr diff:n\nincr diff:n\n"}, false},
	{"pipelined inline and arrays", []string{"ping\r\n*1\r\n$4\r\nPING\r\necho mixed\n*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\nping\n"}, false},
	{"binary bulk", []string{"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00\xff\r\n"}, false},
	{"array split across writes", []string{"*2\r\n$4\r\nEC", "HO\r\n$2\r\nhi", "\r\n"}, false},
	{"inline split across writes", []string{"pi", "ng\r", "\n"}, false},
	{"empty array", []string{"*0\r\nping\r\n"}, false},
	{"negative array", []string{"*-1\r\n*-7\r\nping\r\n"}, false},
	{"bad array length", []string{"*abc\r\nping\r\n"}, false},
	{"array length leading zero", []string{"*01\r\n$4\r\nPING\r\n"}, false},
	{"array length plus sign", []string{"*+1\r\n$4\r\nPING\r\n"}, false},
	{"array length too large", []string{"*3000000000\r\n"}, false},
	{"array length lf only", []string{"*1\n$4\r\nPING\r\n"}, false},
	{"array length any byte after cr", []string{"*1\rX$4\r\nPING\r\n"}, false},
	{"element not a bulk", []string{"*1\r\n:4\r\n"}, false},
	{"element cr instead of dollar", []string{"*1\r\n\r\n"}, false},
	{"element high byte", []string{"*1\r\n\xe9\r\n"}, false},
	{"negative bulk length", []string{"*1\r\n$-1\r\n"}, false},
	{"bad bulk length", []string{"*1\r\n$4x\r\nPING\r\n"}, false},
	{"bulk length too large", []string{"*1\r\n$600000000\r\n"}, false},
	{"bulk trailer not checked", []string{"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n"}, false},
	{"incomplete bulk", []string{"*1\r\n$4\r\nPING\r"}, false},
	{"error inside pipelined array", []string{"ping\r\n*2\r\n$4\r\nECHO\r\n:3\r\nping\r\n"}, false},
	{"too big inline", []string{strings.Repeat("a", 70000)}, false},
	{"big inline with newline", []string{"echo " + strings.Repeat("a", 60000) + "\n"}, false},
	{"too big array count", []string{"*" + strings.Repeat("1", 70000)}, false},
	{"too big bulk count", []string{"*1\r\n$" + strings.Repeat("1", 70000)}, false},
	{"quit", []string{"QUIT\r\nping\r\n"}, false},
	{"half close after commands", []string{"ping\r\necho hi\r\nsubscribe diff:ch\r\n"}, true},
	{"half close mid request", []string{"ping\r\n*2\r\n$4\r\nECHO"}, true},
	{"half close after protocol error", []string{"ping\r\n*x\r\n"}, true},
	{"subscribed-mode error text", []string{"subscribe diff:sub\r\nget x\r\n"}, false},
	{"ping with an empty argument", []string{"ping \"\"\r\n"}, false},
	{"ping with two arguments", []string{"ping a b\r\n"}, false},
	{"unknown command in a transaction", []string{"multi\r\nset diff:t1 1\r\nnosuchcmd\r\nexec\r\nget diff:t1\r\n"}, false},
	{"wrong arity in a transaction", []string{"multi\r\nset diff:t2 1\r\nget\r\nexec\r\nget diff:t2\r\n"}, false},
	{"transaction", []string{"multi\r\nincr diff:t3\r\nping\r\nexec\r\n"}, false},
	{"discard", []string{"multi\r\nincr diff:t4\r\nfoo\r\ndiscard\r\nexec\r\nget diff:t4\r\n"}, false},
	{"setrange past proto-max-bulk-len", []string{"setrange diff:sr 536870912 a\r\nsetrange diff:sr 536870911 ab\r\nexists diff:sr\r\n"}, false},
	{"setrange negative offset", []string{"setrange diff:sr -1 a\r\nsetrange diff:sr x a\r\n"}, false},
	{"setrange empty value far out", []string{"setrange diff:sr2 536870912 \"\"\r\n"}, false},
	{"setbit past the limit", []string{"setbit diff:sb 4294967296 1\r\nsetbit diff:sb -1 1\r\n"}, false},
	{"incr on a leading zero", []string{"set diff:z 007\r\nincr diff:z\r\nincrby diff:z 1\r\ndecr diff:z\r\n"}, false},
	{"incr on a plus sign", []string{"set diff:p +7\r\nincr diff:p\r\nincrby diff:n2 +1\r\nincrby diff:n2 01\r\n"}, false},
	{"set nx and xx", []string{"set diff:nx v nx xx\r\nset diff:nx v XX NX\r\nget diff:nx\r\n"}, false},
	{"blocking timeouts", []string{"brpop diff:q nan\r\nblpop diff:q abc\r\nbrpop diff:q -1\r\nbrpop diff:q inf\r\nbrpop diff:q 1e30\r\nbzpopmin diff:z NaN\r\nbrpop diff:q 0.01\r\n"}, false},
	{"select range", []string{"select 16\r\nselect -1\r\nselect x\r\nselect 15\r\nselect 0\r\n"}, false},
	{"reset", []string{"select 3\r\nreset\r\nping\r\n"}, false},
	{"reset while subscribed", []string{"subscribe diff:r\r\npsubscribe diff:r*\r\nreset\r\nping\r\npubsub numsub diff:r\r\n"}, false},
	{"reset in a transaction", []string{"multi\r\nincr diff:t5\r\nreset\r\nexec\r\nget diff:t5\r\n"}, false},
	{"ssubscribe", []string{"ssubscribe diff:s1\r\nspublish diff:s1 hi\r\nsunsubscribe\r\nspublish diff:s1 hi\r\n"}, false},
	{"subscribe twice", []string{"subscribe diff:a diff:a diff:b\r\nunsubscribe diff:a diff:zz\r\n"}, false},
	{"unsubscribe all", []string{"subscribe diff:u1\r\nunsubscribe\r\n"}, false},
	{"punsubscribe all order", []string{"psubscribe diff:p1* diff:p2* diff:p3*\r\npunsubscribe\r\n"}, false},
	{"unsubscribe with none", []string{"unsubscribe\r\npunsubscribe\r\nsunsubscribe\r\n"}, false},
	{"ping while subscribed", []string{"subscribe diff:pg\r\nping\r\nping hi\r\n"}, false},
	{"publish to self", []string{"subscribe diff:self\r\npublish diff:self m\r\n"}, false},
	{"two patterns match", []string{"psubscribe diff:d* diff:*d\r\nunsubscribe\r\n"}, false},
	{"pubsub channels", []string{"subscribe diff:pc1\r\nreset\r\npubsub numsub diff:pc1 diff:none\r\npubsub channels diff:none*\r\n"}, false},
	{"config get", []string{"config get save\r\nconfig get appendonly\r\nconfig get databases\r\nconfig get\r\nconfig get proto-max-bulk*\r\n"}, false},
	{"command count arity", []string{"command count x\r\n"}, false},
}

// backends starts, once for the package's tests, a real redis-server
// and a sandbox; TestMain stops them. Without redis-server the calling
// test is skipped, or fails when REDIS_SERVER_REQUIRED=1; with another
// version than 7.0, whose exact texts the tests compare, it is skipped.
func backends(t *testing.T) (real, sandbox string) {
	t.Helper()
	realredis.Require70(t)
	shared.once.Do(func() {
		shared.real, shared.err = realredis.Start()
		if shared.err == nil {
			shared.sandbox, shared.err = Start("127.0.0.1:0")
		}
		if shared.err == nil {
			// A known difference crashes miniredis on purpose: what
			// the sandbox says of it is not this test's output.
			shared.sandbox.SetLog(&shared.log)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.real.Addr, shared.sandbox.Addr()
}

var shared struct {
	once    sync.Once
	real    *realredis.Server
	sandbox *Server
	log     syncBuffer
	err     error
}

func TestMain(m *testing.M) {
	startRealCluster()
	code := m.Run()
	if <-realCluster.done; realCluster.c != nil {
		realCluster.c.Stop()
	}
	if shared.real != nil {
		shared.real.Stop()
	}
	if shared.sandbox != nil {
		shared.sandbox.Close()
	}
	os.Exit(code)
}

// result is one request's exchange with each server.
type result struct{ sandbox, real string }

// exchangeBoth runs every exchange against both servers at once: each
// waits out its quiet period, so running them one after the other, or
// at t.Parallel's pace of GOMAXPROCS at a time, would take seconds.
//
// agreed says whether a result is the one expected; those that are not
// run again, with the longer wait.
func exchangeBoth(t *testing.T, requests [][]string, halfClose []bool, agreed func(i int, r result) bool) []result {
	real, sb := backends(t)
	results := make([]result, len(requests))
	run := func(which []int, wait time.Duration) {
		var wg sync.WaitGroup
		for _, i := range which {
			wg.Add(2)
			go func() {
				defer wg.Done()
				results[i].real = exchangeFor(real, requests[i], halfClose[i], wait)
			}()
			go func() {
				defer wg.Done()
				results[i].sandbox = exchangeFor(sb, requests[i], halfClose[i], wait)
			}()
		}
		wg.Wait()
	}
	all := make([]int, len(requests))
	for i := range all {
		all[i] = i
	}
	run(all, quiet)
	// Confirm each difference with a longer wait.
	var differ []int
	for i, r := range results {
		if !agreed(i, r) {
			differ = append(differ, i)
		}
	}
	if len(differ) > 0 {
		t.Logf("%d exchanges are not as expected after %v of silence: again, waiting %v",
			len(differ), quiet, confirmQuiet)
		run(differ, confirmQuiet)
	}
	return results
}

func TestDifferential(t *testing.T) {
	t.Parallel()
	var requests [][]string
	var halfClose []bool
	for _, tc := range diffCases {
		requests = append(requests, tc.chunks)
		halfClose = append(halfClose, tc.halfClose)
	}
	results := exchangeBoth(t, requests, halfClose, func(_ int, r result) bool {
		return r.sandbox == r.real
	})
	for i, tc := range diffCases {
		t.Run(tc.name, func(t *testing.T) {
			if r := results[i]; r.sandbox != r.real {
				t.Errorf("sent %q\nsandbox:      %s\nredis-server: %s",
					tc.chunks, r.sandbox, r.real)
			}
		})
	}
}

// An ending is an exchange and how it ends on each server.
type ending struct {
	name            string
	send            string
	sandbox, server string // how each exchange ends
}

// knownDifferences are the command-level differences between the
// sandbox and redis-server 7.0 that docs/differences.md lists. The
// test fails when one goes away or changes, so that the list stays
// true.
var knownDifferences = []ending{
	{
		"HELLO names miniredis",
		"hello 3\r\n",
		`$4\r\nargs\r\n*0\r\n", open`,
		`$7\r\nmodules\r\n*0\r\n", open`,
	},
	{
		"commands miniredis lacks",
		"debug sleep 0\r\n",
		`"-ERR unknown command 'debug', with args beginning with: 'sleep' '0' \r\n", open`,
		`"-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n", open`,
	},
	{
		"a command that crashes miniredis",
		"xadd diff:st * a b\r\nxtrim diff:st maxlen -1\r\n",
		`-ERR the embedded Redis failed on this command (a miniredis bug); a real redis-server would answer it\r\n", closed`,
		`-ERR The MAXLEN argument must be >= 0.\r\n", open`,
	},
	{
		"COMMAND DOCS",
		"command docs get\r\n",
		`"*0\r\n", open`,
		`$14\r\nkey_spec_index\r\n:0\r\n", open`,
	},
	{
		"COMMAND INFO and the other subcommands",
		"command info get\r\n",
		`$6\r\nexpire\r\n:3\r\n*2\r\n+write\r\n+fast\r\n:1\r\n:1\r\n:1\r\n", open`,
		`$5\r\nlimit\r\n:0\r\n*0\r\n", open`,
	},
	{
		"CONFIG SET",
		"config set appendonly no\r\n",
		`"-ERR the embedded Redis can only set lua-time-limit\r\n", open`,
		`"+OK\r\n", open`,
	},
	{
		"CONFIG GET of other settings",
		"config get maxclients\r\n",
		`"*0\r\n", open`,
		`"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n", open`,
	},
	{
		"the sandbox's own commands in a transaction run after miniredis's",
		"multi\r\nset diff:oe9 12\r\nobject encoding diff:oe9\r\nset diff:oe9 abc\r\nexec\r\n",
		`*3\r\n+OK\r\n$6\r\nembstr\r\n+OK\r\n", open`,
		`*3\r\n+OK\r\n$3\r\nint\r\n+OK\r\n", open`,
	},
	{
		"Lua: the compiler's messages",
		"eval \"return 'a' ..\" 0\r\n",
		`"-ERR Error compiling script (new function): user_script at EOF:   syntax error \r\n", open`,
		`"-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n", open`,
	},
	{
		"Lua: the order of a table's keys",
		"eval \"return cjson.encode({a = 1, b = 2, c = 3, d = 4})\" 0\r\n",
		`"$25\r\n{\"a\":1,\"b\":2,\"c\":3,\"d\":4}\r\n", open`,
		`"$25\r\n{\"a\":1,\"d\":4,\"c\":3,\"b\":2}\r\n", open`,
	},
	{
		"Lua: gcinfo and the version",
		"eval \"return {gcinfo() > 0, redis.REDIS_VERSION}\" 0\r\n",
		`"*2\r\n$-1\r\n$5\r\n7.0.0\r\n", open`,
		`"*2\r\n:1\r\n$6\r\n7.0.15\r\n", open`,
	},
}

// sameEndings are exchanges that start with a reply that names the
// server (HELLO), and must end the same.
var sameEndings = []ending{
	{
		// HELLO's own reply names the server, so only the ends of
		// the exchanges are compared.
		"commands while subscribed under RESP3",
		"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\nsubscribe diff:sub3\r\nget x\r\n",
		`:1\r\n_\r\n", open`,
		`:1\r\n_\r\n", open`,
	},
}

func TestSameEndings(t *testing.T) { testEndings(t, sameEndings) }

func TestKnownDifferences(t *testing.T) { testEndings(t, knownDifferences) }

func testEndings(t *testing.T, cases []ending) {
	t.Parallel()
	var requests [][]string
	for _, d := range cases {
		requests = append(requests, []string{d.send})
	}
	results := exchangeBoth(t, requests, make([]bool, len(requests)), func(i int, r result) bool {
		return strings.HasSuffix(r.sandbox, cases[i].sandbox) && strings.HasSuffix(r.real, cases[i].server)
	})
	for i, d := range cases {
		t.Run(d.name, func(t *testing.T) {
			if got := results[i].sandbox; !strings.HasSuffix(got, d.sandbox) {
				t.Errorf("sandbox now answers %s\nnot ...%s: update docs/differences.md", got, d.sandbox)
			}
			if got := results[i].real; !strings.HasSuffix(got, d.server) {
				t.Errorf("redis-server now answers %s\nnot ...%s: update docs/differences.md", got, d.server)
			}
		})
	}
}

// closingCases are requests that end the connection: with QUIT, or
// with a protocol error. Each exchange is read reply by reply, by the
// replies' framing, to the end of the connection: no silence decides
// when it is over. skip is how many replies to leave out of the
// comparison (HELLO's names the server).
var closingCases = []struct {
	name string
	send string
	skip int
}{
	// Protocol errors, and what looks like one but is not.
	{"bulk length over proto-max-bulk-len", "*1\r\n$536870913\r\n", 0},
	{"array length over INT_MAX", "*2147483648\r\n", 0},
	{"array length INT_MAX is taken", "*2147483647\r\n:1\r\n", 0},
	{"array length minus zero", "*-0\r\nPING\r\n", 0},
	{"bulk length minus zero", "*1\r\n$-0\r\n", 0},
	{"bulk length with a blank", "*1\r\n$ 4\r\nPING\r\n", 0},
	{"bulk length line ending cr cr lf", "*1\r\n$4\r\r\nPING\r\nQUIT\r\n", 0},
	{"a bulk without an array", "$4\r\nPING\r\nQUIT\r\n", 0},
	{"a blank before the array", " *1\r\n$4\r\nPING\r\nQUIT\r\n", 0},

	// Lua: the globals, and what a script may not reach.
	{"lua globals", `eval "` + listGlobals + `" 0` + "\r\nQUIT\r\n", 0},
	{"lua libraries", `eval "local t = {} for _, lib in ipairs({'string', 'table', 'math', 'coroutine', 'bit'}) do ` +
		`for k in pairs(_G[lib]) do t[#t+1] = lib .. '.' .. k end end table.sort(t) return t" 0` + "\r\n" +
		`eval "local n = 0 table.foreach({a = 1, b = 2}, function(k, v) n = n + v end) return n" 0` + "\r\n" +
		`eval "return table.foreachi({5, 6, 7}, function(i, v) if v == 6 then return i end end)" 0` + "\r\n" +
		`eval "table.setn({}, 1)" 0` + "\r\nQUIT\r\n", 0},
	{"lua redis table", `eval "local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t" 0` + "\r\nQUIT\r\n", 0},
	{"lua files and system", `eval "return dofile('/etc/passwd')" 0` + "\r\n" +
		`eval "return loadfile('/etc/passwd')" 0` + "\r\n" +
		`eval "return require('os')" 0` + "\r\n" +
		`eval "return io.open('/etc/passwd')" 0` + "\r\n" +
		`eval "return os.execute('true')" 0` + "\r\n" +
		`eval "return getfenv(1)" 0` + "\r\n" +
		`eval "print(1)" 0` + "\r\nQUIT\r\n", 0},
	{"lua errors", `eval "x = 1" 0` + "\r\n" +
		`eval "error('boom')" 0` + "\r\n" +
		`eval "return redis.call('nosuch')" 0` + "\r\n" +
		`eval "return redis.call('get')" 0` + "\r\n" +
		`eval "return redis.call()" 0` + "\r\n" +
		`eval "return redis.call('multi')" 0` + "\r\n" +
		`eval "redis.call('set', KEYS[1], 'x') return redis.call('incr', KEYS[1])" 1 diff:lua` + "\r\n" +
		`eval "return redis.pcall('incr', KEYS[1])" 1 diff:lua` + "\r\n" +
		`eval "return redis.error_reply('MY bad')" 0` + "\r\n" +
		`eval "return {err = 'My err'}" 0` + "\r\nQUIT\r\n", 0},
	{"lua read-only tables", `eval "_G.redis = 1" 0` + "\r\n" + `eval "string.x = 1" 0` + "\r\n" +
		`eval "redis.x = 1" 0` + "\r\n" + `eval "rawset(_G, 'x', 1)" 0` + "\r\n" +
		`eval "setmetatable(_G, {})" 0` + "\r\n" + `eval "return loadstring('return type(redis)')()" 0` + "\r\n" +
		`eval "for k, v in pairs(_G) do if k == 'redis' then v.x = 1 end end" 0` + "\r\n" +
		`eval "return {type(next(_G)), _G._G == _G, type(rawget(_G, 'redis')), string.nosuch, KEYS[1]}" 1 k` + "\r\n" +
		`eval "KEYS[1] = 'x' return {KEYS[1], ('abc'):upper()}" 1 k` + "\r\n" +
		`eval "return _G.nosuch" 0` + "\r\nQUIT\r\n", 0},
	{"lua replies", `eval "return {1, 2.9, 'a', {true, false}, nil, 5}" 0` + "\r\n" +
		`eval "return {ok = 'fine'}" 0` + "\r\n" +
		`eval "return redis.call('ping')" 0` + "\r\n" +
		`eval "return redis.call('publish', 'diff:nobody', 'm')" 0` + "\r\n" +
		`eval "return redis.call('pubsub', 'numsub', 'diff:nobody')" 0` + "\r\n" +
		`eval "return {KEYS[1], ARGV[1], ARGV[2]}" 1 k a b` + "\r\n" +
		`eval "return cjson.encode({1, 2})" 0` + "\r\n" +
		`eval "return bit.tohex(bit.band(0xff0, 0x0ff))" 0` + "\r\n" +
		`eval "return redis.sha1hex('')" 0` + "\r\nQUIT\r\n", 0},
	{"lua resp3 types", "hset diff:h3 f v\r\nzadd diff:z3l 1.5 a\r\nsadd diff:s3 m\r\n" +
		`eval "redis.setresp(3) return {redis.call('get', 'diff:nokey') == nil, redis.call('hgetall', KEYS[1]).map.f, ` +
		`redis.call('zscore', KEYS[2], 'a').double * 2, redis.call('smembers', KEYS[3]).set.m}" 3 diff:h3 diff:z3l diff:s3` + "\r\n" +
		`eval "redis.setresp(3) return redis.call('hgetall', KEYS[1])" 1 diff:h3` + "\r\n" +
		`eval "redis.setresp(3) return {true, false}" 0` + "\r\n" +
		`eval "return {{double = 3.5}, {double = 0.1}, {double = 1e20}, {double = 1/0}, {big_number = '123'}, ` +
		`{verbatim_string = {format = 'txt', string = 'hi'}}, {map = {a = 1}}, {set = {x = true}}}" 0` + "\r\nQUIT\r\n", 0},
	{"lua resp3 types to a resp3 client", "hello 3\r\n" +
		`eval "redis.setresp(3) return {true, false, redis.call('hgetall', KEYS[1])}" 1 diff:h3r` + "\r\n" +
		`eval "return {{double = 3.5}, {big_number = '123'}, {verbatim_string = {format = 'txt', string = 'hi'}}, ` +
		`{map = {a = 1}}, {set = {x = true}}, true, false}" 0` + "\r\nQUIT\r\n", 1},
	{"lua struct", `eval "return {struct.pack('>I2', 258), struct.pack('<i4h', -2, 7), struct.pack('!4 b i', 1, 2), ` +
		`struct.size('!4 b i d'), struct.size('bzh'), struct.pack('s c3', 'ab', 'xyz'), struct.pack('>d', 1.5), ` +
		`struct.pack('<l', -1)}" 0` + "\r\n" +
		`eval "return {struct.unpack('<i4h', struct.pack('<i4h', -2, 7))}" 0` + "\r\n" +
		`eval "return {struct.unpack('s c3', 'ab' .. string.char(0) .. 'xyz')}" 0` + "\r\n" +
		`eval "return {struct.unpack('B c0', string.char(3) .. 'abc')}" 0` + "\r\n" +
		`eval "return {struct.unpack('>f', struct.pack('>f', 0.5))}" 0` + "\r\n" +
		`eval "return {struct.unpack('>I8', struct.pack('>I8', 12345678901))}" 0` + "\r\n" +
		`eval "return {struct.unpack('<b B', string.char(255, 255))}" 0` + "\r\n" +
		`eval "return struct.pack('z', 1)" 0` + "\r\n" + `eval "return struct.unpack('i4', 'ab')" 0` + "\r\n" +
		`eval "return struct.size('s')" 0` + "\r\n" + `eval "return struct.pack('c5', 'ab')" 0` + "\r\n" +
		`eval "return struct.pack('i40', 1)" 0` + "\r\n" + `eval "return struct.pack('!3', 1)" 0` + "\r\n" +
		`eval "return struct.unpack('s', 'abc')" 0` + "\r\n" +
		`eval "return struct.unpack('i', struct.pack('i', 5), 0)" 0` + "\r\nQUIT\r\n", 0},
	{"lua cjson", `eval "return cjson.encode({1, 2, 3, {a = 'x/y'}, {}, {[1] = 1, [3] = 3}, true, cjson.null})" 0` + "\r\n" +
		`eval "return cjson.encode({0.1, 1e20, 3.5, -0, 100, 123456789012345, 1/3})" 0` + "\r\n" +
		`eval "return cjson.encode('a\"b\\\\c' .. string.char(10, 1, 127))" 0` + "\r\n" +
		`eval "return cjson.encode(cjson.decode('[1,null,3]'))" 0` + "\r\n" +
		`eval "return cjson.encode({[1] = 1, [20] = 3})" 0` + "\r\n" +
		`eval "return cjson.encode(function() end)" 0` + "\r\n" +
		`eval "return cjson.encode(1/0)" 0` + "\r\n" +
		`eval "return cjson.encode({[true] = 1})" 0` + "\r\n" +
		`eval "return cjson.encode({[0] = 1, [1.5] = 2})" 0` + "\r\n" +
		`eval "return {type(cjson.decode('null')), cjson.decode('[0x10, -1.5e3, 01, .5]')}" 0` + "\r\n" +
		`eval "return cjson.decode('\"\\u00e9\\ud83d\\ude00\"')" 0` + "\r\n" +
		`eval "return cjson.decode('[1,2')" 0` + "\r\n" +
		`eval "return cjson.decode('{\"a\" 1}')" 0` + "\r\n" +
		`eval "return cjson.decode('[1,]')" 0` + "\r\n" +
		`eval "return cjson.decode('\"a\\qb\"')" 0` + "\r\n" +
		`eval "return cjson.decode('\"abc')" 0` + "\r\n" +
		`eval "return cjson.decode('[1] x')" 0` + "\r\n" +
		`eval "return cjson.decode()" 0` + "\r\n" +
		`eval "return {cjson.encode_sparse_array(), cjson.encode_max_depth(), cjson.encode_number_precision(), cjson.encode_keep_buffer(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}" 0` + "\r\n" +
		`eval "local c = cjson.new() c.encode_number_precision(3) return {c.encode(1/3), cjson.encode(1/3)}" 0` + "\r\n" +
		`eval "return cjson.encode_max_depth(0)" 0` + "\r\n" +
		`eval "local t = {} for k, v in pairs(cjson) do t[#t+1] = k .. '=' .. type(v) end table.sort(t) return t" 0` + "\r\n" + "QUIT\r\n", 0},
	{"lua cmsgpack", `eval "return cmsgpack.pack(1, -1, -33, 200, -200, 70000, -70000, 5000000000, -5000000000, ` +
		`0.5, 0.1, 1e300, 1/0, 'a', string.rep('b', 40), string.rep('c', 300), true, false, nil, {1, 2, 3}, {a = 1}, {}, {[2] = 1})" 0` + "\r\n" +
		`eval "return {cmsgpack.unpack(cmsgpack.pack(1, 'x', {1, {2}}, true, 0.5, -0.25, 3.14159))}" 0` + "\r\n" +
		`eval "local t = cmsgpack.unpack(cmsgpack.pack({a = 'b'})) return t.a" 0` + "\r\n" +
		`eval "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}" 0` + "\r\n" +
		`eval "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}" 0` + "\r\n" +
		`eval "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 5, 2)}" 0` + "\r\n" +
		`eval "return {cmsgpack.unpack(string.char(0xd3, 255, 255, 255, 255, 255, 255, 255, 254))}" 0` + "\r\n" +
		`eval "local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)" 0` + "\r\n" +
		`eval "return cmsgpack.unpack(string.char(0xcd, 1))" 0` + "\r\n" +
		`eval "return cmsgpack.unpack(string.char(0xc1))" 0` + "\r\n" +
		`eval "return cmsgpack.pack()" 0` + "\r\n" + `eval "return cmsgpack.unpack_one('x', 5)" 0` + "\r\n" +
		`eval "local t = {} for k, v in pairs(cmsgpack) do t[#t+1] = k .. '=' .. type(v) end table.sort(t) return t" 0` + "\r\nQUIT\r\n", 0},
	{"lua arguments and the script cache", `eval "return 1" x` + "\r\n" +
		`eval "return 1" 3 a` + "\r\n" +
		`eval "return 1" -1` + "\r\n" +
		"evalsha 0000000000000000000000000000000000000000 0\r\n" +
		`script load "return 'cached'"` + "\r\n" +
		"evalsha ae6c1ccc30a89fd3a4d6d5cbc1e6ba4fa2d05d07 0\r\n" +
		"script exists ae6c1ccc30a89fd3a4d6d5cbc1e6ba4fa2d05d07 0000000000000000000000000000000000000000\r\n" +
		`eval_ro "return redis.call('set', 'diff:ro', 'x')" 0` + "\r\n" +
		"script kill\r\nscript flush x\r\nscript nosuch\r\nQUIT\r\n", 0},

	// Command errors.
	{"watch inside multi", "multi\r\nwatch diff:w\r\nset diff:w 1\r\nexec\r\nQUIT\r\n", 0},
	{"set expire times", "set diff:ex v ex 0\r\nset diff:ex v px 9223372036854775807\r\n" +
		"set diff:ex v ex -1\r\nset diff:ex v ex 9223372036854776\r\nset diff:ex v exat 9223372036854775807\r\n" +
		"set diff:ex v pxat -1\r\nset diff:ex v ex x\r\nset diff:ex v ex 1 px 1\r\nset diff:ex v ex\r\n" +
		"set diff:ex v ex 1 keepttl\r\nset diff:ex v ex 100 ex 0\r\nset diff:ex v ex 0 ex 100\r\n" +
		"set diff:ex v px 0 px 0 px 100000 nx\r\nset diff:ex v ex 0 px 100\r\nttl diff:ex\r\nQUIT\r\n", 0},
	{"auth without a password", "auth default foo\r\nauth nobody foo\r\nauth foo\r\nQUIT\r\n", 0},
	{"config set", "config set nosuch 1\r\nconfig set lua-time-limit x\r\nconfig set lua-time-limit -1\r\n" +
		"config set lua-time-limit\r\nconfig set lua-time-limit 5000\r\nconfig get lua-time-limit\r\nQUIT\r\n", 0},
	{"incrbyfloat infinity", "incrbyfloat diff:f inf\r\nincrbyfloat diff:f -inf\r\nincrbyfloat diff:f nan\r\n" +
		"set diff:f2 abc\r\nincrbyfloat diff:f2 inf\r\nQUIT\r\n", 0},
	{"object encoding", "set diff:oe1 -12\r\nset diff:oe2 12345678901234567890\r\n" +
		"set diff:oe3 " + strings.Repeat("a", 45) + "\r\nrpush diff:oe4 a\r\nhset diff:oe5 a b\r\n" +
		"sadd diff:oe6 1\r\nsadd diff:oe7 a\r\nzadd diff:oe8 1 a\r\n" +
		"object encoding diff:oe1\r\nobject encoding diff:oe2\r\nobject encoding diff:oe3\r\n" +
		"object encoding diff:oe4\r\nobject encoding diff:oe5\r\nobject encoding diff:oe6\r\n" +
		"object encoding diff:oe7\r\nobject encoding diff:oe8\r\nobject encoding diff:none\r\n" +
		"object encoding\r\nQUIT\r\n", 0},
	{"unknown subcommands as sent", "client \xff\xfe\r\nclient " + strings.Repeat("x", 200) + "\r\n" +
		"object Foo\r\n*2\r\n$6\r\nCLIENT\r\n$3\r\na\x00b\r\nQUIT\r\n", 0},
	{"subscribe in a transaction", "multi\r\nsubscribe diff:ms1 diff:ms2\r\nping\r\nexec\r\nping\r\nQUIT\r\n", 0},
	{"the sandbox's commands in a transaction", "multi\r\nset diff:m1 1\r\npublish diff:none m\r\nping\r\n" +
		"object encoding diff:m1\r\nclient getname\r\n" +
		"incr diff:m1\r\npubsub numsub diff:none\r\nconfig get databases\r\nscript exists abc\r\nexec\r\nQUIT\r\n", 0},
	{"the sandbox's commands in a transaction discarded", "multi\r\npublish diff:none m\r\ndiscard\r\nexec\r\n" +
		"multi\r\npublish diff:none m\r\nnosuch\r\nexec\r\nmulti\r\nping\r\nget\r\nexec\r\nQUIT\r\n", 0},
	{"the sandbox's commands in a transaction, resp3", "hello 3\r\nmulti\r\nsubscribe diff:ms4\r\nping\r\nexec\r\nQUIT\r\n", 1},
	{"scripts in a transaction", "multi\r\nset diff:ms5 1\r\n" +
		`eval "return redis.call('get', KEYS[1])" 1 diff:ms5` + "\r\nset diff:ms5 2\r\n" +
		`eval "return {redis.call('get', KEYS[1]), redis.status_reply('OK'), {1, 'x'}}" 1 diff:ms5` + "\r\n" +
		`eval "return nil" 0` + "\r\n" + `eval "error('boom')" 0` + "\r\n" +
		"evalsha 0000000000000000000000000000000000000000 0\r\n" + `eval "return 1" x` + "\r\n" +
		`eval "return redis.call('pubsub', 'numsub', 'diff:none')" 0` + "\r\n" +
		"ping\r\npublish diff:none m\r\nexec\r\nQUIT\r\n", 0},
	{"scripts in a transaction, a watched key changed", "watch diff:ms6\r\nset diff:ms6 1\r\nmulti\r\n" +
		`eval "return redis.call('incr', KEYS[1])" 1 diff:ms6` + "\r\nexec\r\nget diff:ms6\r\nQUIT\r\n", 0},
	{"argument checks in a transaction", "set diff:mk2 abc\r\nmulti\r\nset diff:mk v nx xx\r\n" +
		"set diff:mk v ex 0\r\nsetbit diff:mk -1 1\r\nincrby diff:mk 007\r\nincr diff:mk2\r\n" +
		"select 99\r\nbrpop diff:q nan\r\nsetrange diff:mk -1 a\r\nincrbyfloat diff:mkf inf\r\nset diff:mk v\r\n" +
		"exec\r\nQUIT\r\n", 0},
	{"monitor in a transaction", "multi\r\nmonitor\r\nping\r\nexec\r\nQUIT\r\n", 0},
	{"scripts in a transaction, resp3", "hello 3\r\nmulti\r\n" + `eval "return {nil}" 0` + "\r\n" +
		`eval "return false" 0` + "\r\nexec\r\nQUIT\r\n", 1},
	{"resp3 scores in pairs", "hello 3\r\nzadd diff:z3 1 a 2.5 b\r\nzrange diff:z3 0 -1 withscores\r\n" +
		"zrange diff:z3 0 -1\r\nzrevrange diff:z3 0 -1 withscores\r\nzrangebyscore diff:z3 -inf +inf withscores\r\n" +
		"zunion 1 diff:z3 withscores\r\nzpopmin diff:z3\r\nzpopmax diff:z3 1\r\nQUIT\r\n", 1},
}

// TestDifferentialToClose sends each of closingCases to both servers,
// and requires the same replies and the same end.
func TestDifferentialToClose(t *testing.T) {
	t.Parallel()
	real, sb := backends(t)
	results := make([]result, len(closingCases))
	var wg sync.WaitGroup
	for i, tc := range closingCases {
		wg.Add(2)
		go func() { defer wg.Done(); results[i].real = exchangeToClose(real, tc.send, tc.skip) }()
		go func() { defer wg.Done(); results[i].sandbox = exchangeToClose(sb, tc.send, tc.skip) }()
	}
	wg.Wait()
	for i, tc := range closingCases {
		t.Run(tc.name, func(t *testing.T) {
			if r := results[i]; r.sandbox != r.real {
				t.Errorf("sent %q\nsandbox:      %s\nredis-server: %s", tc.send, r.sandbox, r.real)
			}
		})
	}
}

// exchangeToClose sends req, then reads replies until the server ends
// the connection, and returns them (but the first skip) and how it
// ended.
func exchangeToClose(addr, req string, skip int) string {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		return err.Error()
	}
	r := bufio.NewReader(c)
	var out strings.Builder
	for i := 0; ; i++ {
		reply, err := resp.ReadReply3(r)
		if i >= skip && len(reply) > 0 {
			fmt.Fprintf(&out, "%q ", reply)
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF):
			return out.String() + "closed"
		case errors.Is(err, syscall.ECONNRESET):
			return out.String() + "reset"
		case errors.Is(err, os.ErrDeadlineExceeded):
			return out.String() + "still open after 10 s"
		default:
			return out.String() + err.Error()
		}
	}
}
