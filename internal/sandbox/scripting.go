package sandbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2/server"
	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"redis-by-hand/internal/resp"
)

// The sandbox runs Lua scripts (EVAL, EVALSHA, their _RO forms) itself,
// rather than miniredis, for three reasons:
//   - a script that loops for ever would hold miniredis's lock for
//     ever; Redis answers other clients -BUSY once the script has run
//     for lua-time-limit (5 s), and SCRIPT KILL stops it;
//   - miniredis's Lua has dofile, loadfile, require and friends, which
//     reach the file system; a script here sees exactly the globals of
//     Redis 7.0's Lua;
//   - PUBLISH from a script must reach the sandbox's subscribers.
//
// A script runs alone: it holds world, which every other command holds
// shared while it runs, and miniredis's lock, as miniredis's own EVAL
// does. The commands it calls run in miniredis with a script context
// (the one miniredis gives redis.call), so that they do not take the
// lock again, and commands that would block do not block. A script in
// a transaction runs at EXEC, in its place (evalCommand).

// DefaultLuaTimeLimit is Redis's lua-time-limit: after that long, other
// clients get -BUSY and may call SCRIPT KILL.
const DefaultLuaTimeLimit = 5 * time.Second

const busyReply = "-BUSY Redis is busy running a script. " +
	"You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"

// ctxCommand is a command the sandbox registers in miniredis, which a
// client can never call (the sandbox knows no name with a NUL byte):
// called from miniredis's own Lua, it hands the sandbox the context
// that miniredis gives the commands of a script.
const ctxCommand = "SANDBOX\x00CTX"

// scripting is the sandbox's script state.
type scripting struct {
	run     sync.Mutex   // one script at a time
	world   sync.RWMutex // commands hold it shared; a script alone
	running atomic.Pointer[runningScript]
	limit   atomic.Int64 // lua-time-limit, in nanoseconds
	ctx     context.Context
	stop    context.CancelFunc // stops every script: the server closes
	nested  any                // the context ctxCommand hands over (under run)

	mu      sync.Mutex
	cache   map[string]*cachedScript // by SHA1, as SCRIPT LOAD and EVAL add them
	pending map[string]*pendingEval  // scripts queued in transactions
	ids     atomic.Uint64            // numbers pending scripts
}

type cachedScript struct {
	proto *lua.FunctionProto
}

// A runningScript is the script being run.
type runningScript struct {
	owner  *conn
	ctx    context.Context
	done   chan struct{} // closed when it has ended
	busy   chan struct{} // closed when it has run for lua-time-limit
	cancel context.CancelFunc
	wrote  atomic.Bool // it ran a write command: SCRIPT KILL refuses
	killed atomic.Bool
}

func (s *Server) initScripting() error {
	sc := &s.scripting
	sc.ctx, sc.stop = context.WithCancel(context.Background())
	sc.limit.Store(int64(DefaultLuaTimeLimit))
	sc.cache = map[string]*cachedScript{}
	sc.pending = map[string]*pendingEval{}
	if err := s.srv.Register(evalCommand, s.runQueuedEval); err != nil {
		return err
	}
	return s.srv.Register(ctxCommand, func(p *server.Peer, _ string, _ []string) {
		sc.nested = p.Ctx
		p.WriteOK()
	})
}

// SetLuaTimeLimit sets how long a script runs before other clients get
// -BUSY (lua-time-limit; DefaultLuaTimeLimit unless set).
func (s *Server) SetLuaTimeLimit(d time.Duration) { s.scripting.limit.Store(int64(d)) }

// allowedBusy are the commands Redis 7.0 runs while a script is busy
// (the ALLOW_BUSY flag); the others get -BUSY.
var allowedBusy = map[string]bool{
	"AUTH": true, "HELLO": true, "QUIT": true, "RESET": true, "REPLCONF": true,
	"SHUTDOWN": true, "DISCARD": true, "MULTI": true, "UNWATCH": true, "WATCH": true,
}

// enter waits until a command may run: at once, unless another
// client's script runs; then until it ends, or until it has run for
// lua-time-limit, when the command gets -BUSY (unless Redis allows it
// then). It reports whether the caller holds world shared, to release.
func (sc *scripting) enter(name string, args []string) (reply string, locked bool) {
	for {
		if sc.world.TryRLock() {
			return "", true
		}
		r := sc.running.Load()
		if r == nil {
			// A script is starting or has just ended.
			runtime.Gosched()
			continue
		}
		select {
		case <-r.done:
			continue
		case <-r.busy:
		}
		sub := ""
		if len(args) > 1 {
			sub = strings.ToUpper(args[1])
		}
		if allowedBusy[name] || (name == "SCRIPT" || name == "FUNCTION") && sub == "KILL" {
			return "", false
		}
		return busyReply, false
	}
}

// close stops the running script, if any, and every later one.
func (sc *scripting) close() { sc.stop() }

func sha1Hex(s string) string {
	h := sha1.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// compile compiles a script and keeps it, as EVAL and SCRIPT LOAD do.
// It returns the script and its SHA1, or Redis's error reply.
func (sc *scripting) compile(body string) (cs *cachedScript, sha, errReply string) {
	sha = sha1Hex(body)
	sc.mu.Lock()
	cs = sc.cache[sha]
	sc.mu.Unlock()
	if cs != nil {
		return cs, sha, ""
	}
	chunk, err := parse.Parse(strings.NewReader(body), "user_script")
	if err == nil {
		var proto *lua.FunctionProto
		proto, err = lua.Compile(chunk, "user_script")
		if err == nil {
			cs = &cachedScript{proto: proto}
			sc.mu.Lock()
			sc.cache[sha] = cs
			sc.mu.Unlock()
			return cs, sha, ""
		}
	}
	msg := strings.NewReplacer("\r", " ", "\n", " ").Replace(err.Error())
	return nil, "", "-ERR Error compiling script (new function): " + msg + "\r\n"
}

// evalCmd serves EVAL, EVALSHA, EVAL_RO and EVALSHA_RO.
func (c *conn) evalCmd(args []string) bool {
	c.s.exclusive(c, func(r *runningScript) {
		c.reply(c.eval(args, r, nil, c.resp3.Load()))
	})
	return true
}

// eval checks and runs a script, and returns its reply. nested is
// miniredis's script context when miniredis runs the script (in
// EXEC), holding its lock; nil otherwise.
func (c *conn) eval(args []string, r *runningScript, nested any, resp3 bool) string {
	sc := &c.s.scripting
	name := strings.ToUpper(args[0])
	n, ok := parseInt([]byte(args[2]))
	switch {
	case !ok:
		return "-ERR value is not an integer or out of range\r\n"
	case n > int64(len(args)-3):
		return "-ERR Number of keys can't be greater than number of args\r\n"
	case n < 0:
		return "-ERR Number of keys can't be negative\r\n"
	}
	var cs *cachedScript
	sha := strings.ToLower(args[1])
	if strings.HasPrefix(name, "EVALSHA") {
		sc.mu.Lock()
		cs = sc.cache[sha]
		sc.mu.Unlock()
		if cs == nil {
			return "-NOSCRIPT No matching script. Please use EVAL.\r\n"
		}
	} else {
		var errReply string
		if cs, sha, errReply = sc.compile(args[1]); cs == nil {
			return errReply
		}
	}
	if nested == nil {
		sc.nested = nil
		c.quietly("EVAL", grabScript, "0", ctxCommand)
		if nested = sc.nested; nested == nil {
			return "-ERR the embedded Redis could not start the script\r\n"
		}
		c.s.mini.Lock()
		defer c.s.mini.Unlock()
	}
	run := &scriptRun{s: c.s, c: c, r: r, sha: sha, nested: nested, readOnly: strings.HasSuffix(name, "_RO")}
	return run.run(cs.proto, args[3:3+n], args[3+n:], resp3)
}

// A pendingEval is a script queued in a transaction: miniredis runs it
// at EXEC, in its place, through evalCommand.
type pendingEval struct {
	c     *conn
	args  []string
	reply string // the script's reply, once run
}

// evalCommand is a command the sandbox registers in miniredis (a
// client cannot call it: its name has a NUL byte). A script queued in
// a transaction is queued in miniredis as evalWrapper, which calls it
// with the script's number: so miniredis runs the script at EXEC, in
// order, with its lock held. Its reply in EXEC's is a marker, which
// the sandbox replaces with the script's reply (execSpliced).
const (
	evalCommand = "SANDBOX\x00EVAL"
	evalWrapper = "return redis.pcall(ARGV[1], ARGV[2])"
)

// queueEval queues a script in a transaction.
func (c *conn) queueEval(args []string) bool {
	sc := &c.s.scripting
	id := strconv.FormatUint(sc.ids.Add(1), 10)
	sc.mu.Lock()
	sc.pending[id] = &pendingEval{c: c, args: args}
	sc.mu.Unlock()
	c.evals = append(c.evals, id)
	return c.queue([]string{"EVAL", evalWrapper, "0", evalCommand, id})
}

// dropEvals forgets the scripts the client queued.
func (c *conn) dropEvals() {
	if len(c.evals) == 0 {
		return
	}
	sc := &c.s.scripting
	sc.mu.Lock()
	for _, id := range c.evals {
		delete(sc.pending, id)
	}
	sc.mu.Unlock()
	c.evals = nil
}

// runQueuedEval is evalCommand: it runs a queued script, inside EXEC.
func (s *Server) runQueuedEval(p *server.Peer, _ string, args []string) {
	sc := &s.scripting
	var pe *pendingEval
	if len(args) == 1 {
		sc.mu.Lock()
		pe = sc.pending[args[0]]
		sc.mu.Unlock()
	}
	r := sc.running.Load()
	if pe == nil || r == nil || r.owner != pe.c {
		p.WriteError("ERR the embedded Redis lost this script")
		return
	}
	pe.reply = pe.c.eval(pe.args, r, p.Ctx, pe.c.resp3.Load())
	p.WriteBulk(evalMarker(args[0]))
}

// evalMarker is what stands for a queued script's reply in EXEC's.
func evalMarker(id string) string { return evalCommand + " " + id }

// scriptCmd serves SCRIPT LOAD, EXISTS, FLUSH and KILL.
func (c *conn) scriptCmd(args []string) bool {
	sc := &c.s.scripting
	sub := strings.ToUpper(args[1])
	wrongArgs := "-ERR wrong number of arguments for '" + fullName(args) + "' command\r\n"
	switch sub {
	case "LOAD":
		if len(args) != 3 {
			c.reply(wrongArgs)
			return true
		}
		cs, sha, errReply := sc.compile(args[2])
		if cs == nil {
			c.reply(errReply)
			return true
		}
		c.reply(bulk(sha))
	case "EXISTS":
		if len(args) < 3 {
			c.reply(wrongArgs)
			return true
		}
		c.reply("*" + strconv.Itoa(len(args)-2) + "\r\n")
		sc.mu.Lock()
		for _, sha := range args[2:] {
			if sc.cache[strings.ToLower(sha)] != nil {
				c.reply(":1\r\n")
			} else {
				c.reply(":0\r\n")
			}
		}
		sc.mu.Unlock()
	case "FLUSH":
		if len(args) > 3 {
			c.reply(wrongArgs)
			return true
		}
		if len(args) == 3 && !strings.EqualFold(args[2], "SYNC") && !strings.EqualFold(args[2], "ASYNC") {
			c.reply("-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n")
			return true
		}
		sc.mu.Lock()
		sc.cache = map[string]*cachedScript{}
		sc.mu.Unlock()
		c.reply("+OK\r\n")
	case "KILL":
		if len(args) != 2 {
			c.reply(wrongArgs)
			return true
		}
		r := sc.running.Load()
		switch {
		case r == nil:
			c.reply("-NOTBUSY No scripts in execution right now.\r\n")
		case r.wrote.Load():
			c.reply("-UNKILLABLE Sorry the script already executed write commands " +
				"against the dataset. You can either wait the script termination or " +
				"kill the server in a hard way using the SHUTDOWN NOSAVE command.\r\n")
		default:
			r.killed.Store(true)
			r.cancel()
			c.reply("+OK\r\n")
		}
	default:
		c.reply("-ERR unknown subcommand '" + cSubcommand(args[1]) + "'. Try SCRIPT HELP.\r\n")
	}
	return true
}

// cSubcommand is an argument as Redis's errors show it (%.128s): cut
// at a NUL and at 128 bytes, line breaks as blanks.
func cSubcommand(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > 128 {
		s = s[:128]
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// grabScript is run by miniredis's own Lua: its redis.call hands the
// sandbox the script context of miniredis.
const grabScript = "return redis.call(ARGV[1])"

// exclusive runs f for c alone (a script, or a transaction that holds
// scripts): other clients' commands wait, and get -BUSY once it has run
// for lua-time-limit; SCRIPT KILL and Close cancel r.ctx.
func (s *Server) exclusive(c *conn, f func(r *runningScript)) {
	sc := &s.scripting
	sc.run.Lock()
	defer sc.run.Unlock()
	ctx, cancel := context.WithCancel(sc.ctx)
	r := &runningScript{owner: c, ctx: ctx, done: make(chan struct{}), busy: make(chan struct{}), cancel: cancel}
	sc.running.Store(r)
	sc.world.Lock()
	defer func() {
		sc.world.Unlock()
		sc.running.Store(nil)
		close(r.done)
		cancel()
	}()
	timer := time.AfterFunc(time.Duration(sc.limit.Load()), func() { close(r.busy) })
	defer timer.Stop()
	f(r)
	s.wake() // wake clients that wait for what the script pushed
}

// run runs the script, miniredis's lock held, and returns its reply.
func (run *scriptRun) run(proto *lua.FunctionProto, keys, argv []string, resp3 bool) string {
	L := run.newState(keys, argv)
	defer L.Close()
	L.SetContext(run.r.ctx)
	fn := L.NewFunctionFromProto(proto)
	fn.Env = run.env
	L.Push(fn)
	if err := L.PCall(0, 1, L.NewFunction(run.errorHandler)); err != nil {
		return run.errorReply(err)
	}
	return string(appendLuaReply(nil, L.Get(-1), resp3, run.resp3, 0))
}

// A scriptRun is one script's run: what its Lua functions need.
type scriptRun struct {
	s        *Server
	c        *conn
	r        *runningScript
	sha      string
	nested   any // miniredis's script context
	readOnly bool
	env      *lua.LTable // the script's globals, read-only
	resp3    bool        // redis.setresp(3): commands answer in RESP3
	errLine  int         // the script's line where the error was raised
}

// luaRemoved are the globals of gopher-lua's base library that Redis
// 7.0's Lua does not have: files, modules, environments, printing.
var luaRemoved = []string{
	"dofile", "loadfile", "getfenv", "setfenv", "print", "_printregs",
	"module", "require", "newproxy", "_GOPHER_LUA_VERSION",
}

// newState makes a Lua state with Redis 7.0's globals: the base
// library without files and modules, table, string, math, coroutine,
// cjson, bit, struct, cmsgpack, redis, KEYS and ARGV.
func (run *scriptRun) newState(keys, argv []string) *lua.LState {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	G := L.G.Global
	for _, name := range luaRemoved {
		G.RawSetString(name, lua.LNil)
	}
	G.RawSetString("_VERSION", lua.LString("Lua 5.1"))
	G.RawSetString("gcinfo", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LNumber(0)) // the embedded Lua keeps no count of its own
		return 1
	}))
	G.RawSetString("__redis__err__handler", L.NewFunction(func(L *lua.LState) int {
		return 1 // the error as it is
	}))

	// Lua 5.1's table library has these; gopher-lua's does not.
	if err := L.DoString(tableExtras); err != nil {
		panic(err)
	}
	G.RawGetString("table").(*lua.LTable).RawSetString("setn", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("'setn' is obsolete")
		return 0
	}))
	G.RawSetString("cjson", newJSONModule(L, L.NewUserData()))
	G.RawSetString("bit", L.SetFuncs(L.NewTable(), bitFuncs))
	G.RawSetString("struct", L.SetFuncs(L.NewTable(), structFuncs))
	msgpack := L.SetFuncs(L.NewTable(), msgpackFuncs)
	for k, v := range map[string]string{
		"_NAME": "cmsgpack", "_VERSION": "lua-cmsgpack 0.4.0",
		"_COPYRIGHT":   "Copyright (C) 2012, Salvatore Sanfilippo",
		"_DESCRIPTION": "MessagePack C implementation for Lua",
	} {
		msgpack.RawSetString(k, lua.LString(v))
	}
	G.RawSetString("cmsgpack", msgpack)
	G.RawSetString("redis", run.redisLib(L))

	list := func(items []string) *lua.LTable {
		t := L.CreateTable(len(items), 0)
		for i, it := range items {
			t.RawSetInt(i+1, lua.LString(it))
		}
		return t
	}
	G.RawSetString("KEYS", list(keys))
	G.RawSetString("ARGV", list(argv))

	readOnlyTables(L, G)
	run.env = G.RawGetString("_G").(*lua.LTable)
	return L
}

// readOnlyTables makes the globals and the libraries read-only, as in
// Redis 7.0. gopher-lua has no read-only tables: a script sees each
// through a proxy, an empty table whose metatable reads the real one
// and refuses writes; pairs, next and rawget see through proxies,
// rawset and setmetatable refuse them. Reading a global that does not
// exist is an error. (KEYS and ARGV stay writable, as in Redis.)
func readOnlyTables(L *lua.LState, G *lua.LTable) {
	backing := map[*lua.LTable]*lua.LTable{} // proxy → real table
	proxyOf := map[*lua.LTable]*lua.LTable{} // real table → proxy
	refuse := func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table")
		return 0
	}
	newProxy := func(real *lua.LTable, strict bool) *lua.LTable {
		p := L.NewTable()
		meta := L.NewTable()
		meta.RawSetString("__newindex", L.NewFunction(refuse))
		meta.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
			k := L.Get(2)
			v := real.RawGet(k)
			if v == lua.LNil && strict {
				L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(k))
			}
			L.Push(v)
			return 1
		}))
		L.SetMetatable(p, meta)
		backing[p], proxyOf[real] = real, p
		return p
	}
	seen := func(v lua.LValue) lua.LValue {
		if t, ok := v.(*lua.LTable); ok && proxyOf[t] != nil {
			return proxyOf[t]
		}
		return v
	}
	real := func(v lua.LValue) lua.LValue {
		if t, ok := v.(*lua.LTable); ok && backing[t] != nil {
			return backing[t]
		}
		return v
	}
	for _, lib := range []string{"string", "table", "math", "coroutine", "cjson", "bit", "struct", "cmsgpack", "redis"} {
		G.RawSetString(lib, newProxy(G.RawGetString(lib).(*lua.LTable), false))
	}
	env := newProxy(G, true)
	G.RawSetString("_G", env)

	// gopher-lua's string library holds an __index of its own, which
	// Lua 5.1's does not: pairs does not show it.
	stringLib := backing[G.RawGetString("string").(*lua.LTable)]
	next := func(L *lua.LState) int {
		t := real(L.CheckTable(1)).(*lua.LTable)
		k, v := t.Next(L.Get(2))
		if t == stringLib && k == lua.LString("__index") {
			k, v = t.Next(k)
		}
		if k == lua.LNil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(k)
		L.Push(seen(v))
		return 2
	}
	nextFn := L.NewFunction(next)
	G.RawSetString("next", nextFn)
	G.RawSetString("pairs", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		L.Push(nextFn)
		L.Push(t)
		L.Push(lua.LNil)
		return 3
	}))
	G.RawSetString("rawget", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		L.Push(seen(real(t).(*lua.LTable).RawGet(L.Get(2))))
		return 1
	}))
	rawset, setmetatable := G.RawGetString("rawset"), G.RawGetString("setmetatable")
	guard := func(f lua.LValue) *lua.LFunction {
		return L.NewFunction(func(L *lua.LState) int {
			if t, ok := L.Get(1).(*lua.LTable); ok && (backing[t] != nil || proxyOf[t] != nil) {
				L.Error(lua.LString("Attempt to modify a readonly table"), 0)
			}
			top := L.GetTop()
			L.Push(f)
			for i := 1; i <= top; i++ {
				L.Push(L.Get(i))
			}
			L.Call(top, 1)
			return 1
		})
	}
	G.RawSetString("rawset", guard(rawset))
	G.RawSetString("setmetatable", guard(setmetatable))

	// A chunk that load or loadstring makes sees the globals as the
	// script does.
	for _, name := range []string{"load", "loadstring"} {
		load := G.RawGetString(name)
		G.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			top := L.GetTop()
			L.Push(load)
			for i := 1; i <= top; i++ {
				L.Push(L.Get(i))
			}
			L.Call(top, 2)
			if fn, ok := L.Get(-2).(*lua.LFunction); ok {
				fn.Env = env
			}
			return 2
		}))
	}
}

// tableExtras are the functions of Lua 5.1's table library that
// gopher-lua lacks, as Lua 5.1 has them.
const tableExtras = `
function table.foreach(t, f)
  for k, v in pairs(t) do
    local r = f(k, v)
    if r ~= nil then return r end
  end
end
function table.foreachi(t, f)
  for i = 1, #t do
    local r = f(i, t[i])
    if r ~= nil then return r end
  end
end
`

// errorHandler runs where an error is raised, before the stack
// unwinds: it notes the script's line, as Redis's error handler does.
func (run *scriptRun) errorHandler(L *lua.LState) int {
	for level := 0; level < 10; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.Source == "user_script" && dbg.CurrentLine > 0 {
			run.errLine = dbg.CurrentLine
			break
		}
	}
	L.Push(L.Get(1))
	return 1
}

// errorReply is Redis 7.0's reply to a script that failed.
func (run *scriptRun) errorReply(err error) string {
	where := " script: " + run.sha + ", on @user_script:" + strconv.Itoa(max(run.errLine, 1)) + "."
	clean := strings.NewReplacer("\r", " ", "\n", " ")
	if run.r.killed.Load() {
		return "-ERR Script killed by user with SCRIPT KILL..." + where + "\r\n"
	}
	var obj lua.LValue = lua.LString(err.Error())
	if ae, ok := err.(*lua.ApiError); ok && ae.Object != nil {
		obj = ae.Object
	}
	if t, ok := obj.(*lua.LTable); ok {
		if e, ok := t.RawGetString("err").(lua.LString); ok {
			return "-" + clean.Replace(string(e)) + where + "\r\n"
		}
	}
	if run.s.scripting.ctx.Err() != nil {
		return "-ERR the embedded Redis is shutting down" + where + "\r\n"
	}
	return "-ERR " + clean.Replace(lua.LVAsString(obj)) + where + "\r\n"
}

// noScript are the commands a script may not call (Redis 7.0's
// NOSCRIPT flag; for the containers, every subcommand).
var noScript = map[string]bool{
	"AUTH": true, "HELLO": true, "QUIT": true, "RESET": true, "WAIT": true,
	"BLMOVE": true, "BLPOP": true, "BRPOP": true, "BRPOPLPUSH": true,
	"BZPOPMAX": true, "BZPOPMIN": true,
	"SUBSCRIBE": true, "PSUBSCRIBE": true, "SSUBSCRIBE": true,
	"UNSUBSCRIBE": true, "PUNSUBSCRIBE": true, "SUNSUBSCRIBE": true,
	"EVAL": true, "EVALSHA": true, "EVAL_RO": true, "EVALSHA_RO": true,
	"FCALL": true, "FCALL_RO": true,
	"BGREWRITEAOF": true, "BGSAVE": true, "DEBUG": true, "FAILOVER": true,
	"MONITOR": true, "PSYNC": true, "REPLCONF": true, "REPLICAOF": true,
	"ROLE": true, "SAVE": true, "SHUTDOWN": true, "SLAVEOF": true, "SYNC": true,
	"DISCARD": true, "EXEC": true, "MULTI": true, "UNWATCH": true, "WATCH": true,
	"CLIENT": true, "CONFIG": true, "SCRIPT": true, "FUNCTION": true,
	"ACL": true, "LATENCY": true, "MODULE": true,
}

// notWrites are commands that do not write, which miniredis does not
// mark read-only.
var notWrites = map[string]bool{
	"PING": true, "ECHO": true, "TIME": true, "OBJECT": true, "INFO": true,
	"XINFO": true, "PUBLISH": true, "SPUBLISH": true, "PUBSUB": true,
	"SELECT": true, "COMMAND": true, "LCS": true, "SINTERCARD": true,
}

// writes reports whether a command may write (a script that ran one
// cannot be killed, and a read-only script may not run one).
func (s *Server) writes(name string) bool {
	return !notWrites[name] && !s.srv.IsReadOnlyCommand(name)
}

// redisLib is the script's redis table.
func (run *scriptRun) redisLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	L.SetFuncs(t, map[string]lua.LGFunction{
		"call":  func(L *lua.LState) int { return run.call(L, true) },
		"pcall": func(L *lua.LState) int { return run.call(L, false) },
		"error_reply": func(L *lua.LState) int {
			msg := L.CheckString(1)
			if !strings.HasPrefix(msg, "-") {
				msg = "-" + msg
			}
			L.Push(errTable(L, msg[1:]))
			return 1
		},
		"status_reply": func(L *lua.LState) int {
			t := L.NewTable()
			t.RawSetString("ok", lua.LString(L.CheckString(1)))
			L.Push(t)
			return 1
		},
		"sha1hex": func(L *lua.LState) int {
			if L.GetTop() != 1 {
				L.RaiseError("wrong number of arguments")
			}
			L.Push(lua.LString(sha1Hex(lua.LVAsString(L.Get(1)))))
			return 1
		},
		"log": func(L *lua.LState) int {
			if L.GetTop() < 2 {
				L.RaiseError("redis.log() requires two arguments or more.")
			}
			return 0 // Redis writes it to its log; the sandbox has none
		},
		"setresp": func(L *lua.LState) int {
			v := L.CheckInt(1)
			if v != 2 && v != 3 {
				L.RaiseError("RESP version must be 2 or 3.")
			}
			run.resp3 = v == 3
			return 0
		},
		"set_repl":           func(L *lua.LState) int { return 0 },
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
		"breakpoint":         func(L *lua.LState) int { L.Push(lua.LFalse); return 1 },
		"debug":              func(L *lua.LState) int { return 0 },
		"acl_check_cmd": func(L *lua.LState) int {
			name := L.CheckString(1)
			if !run.s.known([]byte(name)) {
				L.RaiseError("Invalid command passed to redis.acl_check_cmd()")
			}
			L.Push(lua.LTrue)
			return 1
		},
	})
	for k, v := range map[string]int{
		"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3,
		"REDIS_VERSION_NUM": 0x070000,
	} {
		t.RawSetString(k, lua.LNumber(v))
	}
	t.RawSetString("REDIS_VERSION", lua.LString("7.0.0"))
	return t
}

func errTable(L *lua.LState, msg string) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	return t
}

// call is redis.call (raise: true) and redis.pcall: it runs a command
// in miniredis, in the script's context, and turns the reply into Lua
// values as Redis does.
func (run *scriptRun) call(L *lua.LState, raise bool) int {
	fail := func(msg string) int {
		if raise {
			L.Error(errTable(L, msg), 0)
			return 0
		}
		L.Push(errTable(L, msg))
		return 1
	}
	top := L.GetTop()
	if top == 0 {
		return fail("ERR Please specify at least one argument for this redis lib call")
	}
	args := make([]string, top)
	for i := range args {
		switch v := L.Get(i + 1).(type) {
		case lua.LString:
			args[i] = string(v)
		case lua.LNumber:
			args[i] = v.String()
		default:
			return fail("ERR Lua redis lib command arguments must be strings or integers")
		}
	}
	name := strings.ToUpper(args[0])
	_, isOwn := ownCommands[name]
	switch {
	case !isOwn && !run.s.known([]byte(args[0])):
		return fail("ERR Unknown Redis command called from script")
	case noScript[name]:
		return fail("ERR This Redis command is not allowed from script")
	case run.readOnly && run.s.writes(name):
		return fail("ERR Write commands are not allowed from read-only scripts.")
	}
	// Pub/sub is the sandbox's: it answers PUBLISH and PUBSUB.
	var reply []byte
	switch {
	case (name == "PUBLISH" || name == "SPUBLISH") && len(args) != 3,
		name == "PUBSUB" && len(args) < 2:
		return fail("ERR Wrong number of args calling Redis command from script")
	case name == "PUBLISH" || name == "SPUBLISH":
		reply = []byte(":" + strconv.Itoa(run.c.publish([]byte(args[0]), []byte(args[1]), []byte(args[2]))) + "\r\n")
	case name == "PUBSUB":
		reply = run.c.captured(func() { run.c.pubsubCmd(args) })
	default:
		var err error
		if reply, err = run.dispatch(args); err != nil {
			return fail("ERR " + err.Error())
		}
	}
	if run.s.writes(name) {
		run.r.wrote.Store(true)
	}
	v, err := replyToLua(L, bufio.NewReader(bytes.NewReader(reply)), 0)
	if t, ok := v.(*lua.LTable); ok && err == nil {
		if msg, ok := t.RawGetString("err").(lua.LString); ok {
			if strings.HasPrefix(string(msg), "ERR wrong number of arguments") {
				msg = "ERR Wrong number of args calling Redis command from script"
			}
			return fail(string(msg))
		}
	}
	if err != nil {
		return fail("ERR the embedded Redis gave a reply the sandbox cannot read: " + err.Error())
	}
	L.Push(v)
	return 1
}

// dispatch runs a command in miniredis in the script's context, and
// returns its reply. A panic inside miniredis is an error.
func (run *scriptRun) dispatch(args []string) (reply []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the embedded Redis failed on this command (a miniredis bug): %v", r)
		}
	}()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	p := server.NewPeer(w)
	p.Ctx = run.nested
	p.Resp3 = run.resp3
	run.s.srv.Dispatch(p, args)
	w.Flush()
	return buf.Bytes(), nil
}

// replyToLua reads a reply into a Lua value as Redis 7.0 does:
// integers to numbers, bulks to strings, a status to {ok=...}, an
// error to {err=...}, arrays to tables; RESP2's null to false. RESP3's
// types (after redis.setresp(3)): null to nil, booleans to booleans,
// {double=...}, {big_number=...}, {verbatim_string={format, string}},
// {map={...}}, {set={...}}; an attribute is skipped.
func replyToLua(L *lua.LState, r *bufio.Reader, depth int) (lua.LValue, error) {
	line, err := r.ReadString('\n')
	if err != nil || len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return lua.LNil, fmt.Errorf("bad line %q", line)
	}
	if depth > 100 {
		return lua.LNil, errors.New("nested too deep")
	}
	kind, rest := line[0], line[1:len(line)-2]
	field := func(name string, v lua.LValue) lua.LValue {
		t := L.NewTable()
		t.RawSetString(name, v)
		return t
	}
	count := func() (int, error) {
		n, err := strconv.Atoi(rest)
		if err != nil || n > resp.MaxLen {
			return 0, fmt.Errorf("bad length %q", rest)
		}
		return n, nil
	}
	switch kind {
	case '+':
		return field("ok", lua.LString(rest)), nil
	case '-':
		return field("err", lua.LString(rest)), nil
	case ':':
		n, err := strconv.ParseInt(rest, 10, 64)
		return lua.LNumber(n), err
	case '_':
		return lua.LNil, nil
	case '#':
		return lua.LBool(rest == "t"), nil
	case ',':
		f, err := strconv.ParseFloat(rest, 64)
		return field("double", lua.LNumber(f)), err
	case '(':
		return field("big_number", lua.LString(rest)), nil
	case '$', '=':
		n, err := count()
		if err != nil || n < 0 {
			return lua.LFalse, err
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return lua.LNil, err
		}
		if kind == '$' {
			return lua.LString(buf[:n]), nil
		}
		format, text, _ := strings.Cut(string(buf[:n]), ":")
		v := L.NewTable()
		v.RawSetString("format", lua.LString(format))
		v.RawSetString("string", lua.LString(text))
		return field("verbatim_string", v), nil
	case '*', '%', '~', '|':
		n, err := count()
		if err != nil || n < 0 {
			return lua.LFalse, err
		}
		t := L.NewTable()
		for i := 0; i < n; i++ {
			v, err := replyToLua(L, r, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			switch kind {
			case '*':
				t.RawSetInt(i+1, v)
			case '~':
				t.RawSet(v, lua.LTrue)
			default:
				val, err := replyToLua(L, r, depth+1)
				if err != nil {
					return lua.LNil, err
				}
				t.RawSet(v, val)
			}
		}
		switch kind {
		case '%':
			return field("map", t), nil
		case '~':
			return field("set", t), nil
		case '|':
			return replyToLua(L, r, depth) // what the attribute annotates
		}
		return t, nil
	}
	return lua.LNil, fmt.Errorf("unknown type %q", kind)
}

// appendLuaReply converts a script's result to a reply as Redis 7.0
// does (luaReplyToRedisReply): numbers are truncated to integers; true
// is 1 and false nil, or, after redis.setresp(3) (script3), booleans;
// a table with err, ok, double, big_number, verbatim_string, map or
// set is that type (RESP2's nearest for a RESP2 client); any other
// table is an array up to its first nil.
func appendLuaReply(b []byte, v lua.LValue, resp3, script3 bool, depth int) []byte {
	null := "$-1\r\n"
	if resp3 {
		null = "_\r\n"
	}
	clean := strings.NewReplacer("\r", " ", "\n", " ")
	switch v := v.(type) {
	case lua.LBool:
		switch {
		case script3 && resp3 && bool(v):
			return append(b, "#t\r\n"...)
		case script3 && resp3:
			return append(b, "#f\r\n"...)
		case bool(v):
			return append(b, ":1\r\n"...)
		case script3:
			return append(b, ":0\r\n"...)
		}
		return append(b, null...)
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || f >= math.MaxInt64 || f <= math.MinInt64 {
			return append(b, ":-9223372036854775808\r\n"...)
		}
		return append(b, ":"+strconv.FormatInt(int64(f), 10)+"\r\n"...)
	case lua.LString:
		return append(b, bulk(string(v))...)
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			return append(b, "-"+clean.Replace(string(e))+"\r\n"...)
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			return append(b, "+"+clean.Replace(string(s))+"\r\n"...)
		}
		if d, ok := v.RawGetString("double").(lua.LNumber); ok {
			s := formatDouble(float64(d))
			if resp3 {
				return append(b, ","+s+"\r\n"...)
			}
			return append(b, bulk(s)...)
		}
		if n, ok := v.RawGetString("big_number").(lua.LString); ok {
			s := clean.Replace(string(n))
			if resp3 {
				return append(b, "("+s+"\r\n"...)
			}
			return append(b, bulk(s)...)
		}
		if vs, ok := v.RawGetString("verbatim_string").(*lua.LTable); ok {
			format, ok1 := vs.RawGetString("format").(lua.LString)
			text, ok2 := vs.RawGetString("string").(lua.LString)
			if ok1 && ok2 {
				if resp3 {
					body := string(format) + ":" + string(text)
					return append(b, "="+strconv.Itoa(len(body))+"\r\n"+body+"\r\n"...)
				}
				return append(b, bulk(string(text))...)
			}
		}
		if depth > 100 {
			return append(b, "-ERR reached lua stack limit\r\n"...)
		}
		if m, ok := v.RawGetString("map").(*lua.LTable); ok {
			var keys, values []lua.LValue
			luaPairs(m, func(k, val lua.LValue) { keys, values = append(keys, k), append(values, val) })
			if resp3 {
				b = append(b, "%"+strconv.Itoa(len(keys))+"\r\n"...)
			} else {
				b = append(b, "*"+strconv.Itoa(2*len(keys))+"\r\n"...)
			}
			for i := range keys {
				b = appendLuaReply(b, keys[i], resp3, script3, depth+1)
				b = appendLuaReply(b, values[i], resp3, script3, depth+1)
			}
			return b
		}
		if set, ok := v.RawGetString("set").(*lua.LTable); ok {
			var members []lua.LValue
			luaPairs(set, func(k, _ lua.LValue) { members = append(members, k) })
			if resp3 {
				b = append(b, "~"+strconv.Itoa(len(members))+"\r\n"...)
			} else {
				b = append(b, "*"+strconv.Itoa(len(members))+"\r\n"...)
			}
			for _, m := range members {
				b = appendLuaReply(b, m, resp3, script3, depth+1)
			}
			return b
		}
		var items []lua.LValue
		for i := 1; ; i++ {
			e := v.RawGetInt(i)
			if e == lua.LNil {
				break
			}
			items = append(items, e)
		}
		b = append(b, "*"+strconv.Itoa(len(items))+"\r\n"...)
		for _, e := range items {
			b = appendLuaReply(b, e, resp3, script3, depth+1)
		}
		return b
	}
	return append(b, null...)
}

// luaPairs calls f for each key and value of t, in the order of
// next and pairs: the array part, then the keys as they were added.
// (gopher-lua's ForEach walks Go maps, in an order that changes from
// run to run.)
func luaPairs(t *lua.LTable, f func(k, v lua.LValue)) {
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		f(k, v)
	}
}

// formatDouble writes a double as Redis does (%.17g, inf, -inf, nan).
func formatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

// bitFuncs is LuaBitOp's bit library, which Redis's Lua has: 32-bit
// operations on numbers.
var bitFuncs = map[string]lua.LGFunction{
	"tobit": func(L *lua.LState) int { return pushBit(L, toBit(L, 1)) },
	"bnot":  func(L *lua.LState) int { return pushBit(L, ^toBit(L, 1)) },
	"band":  bitFold(func(a, b int32) int32 { return a & b }),
	"bor":   bitFold(func(a, b int32) int32 { return a | b }),
	"bxor":  bitFold(func(a, b int32) int32 { return a ^ b }),
	"lshift": func(L *lua.LState) int {
		return pushBit(L, int32(uint32(toBit(L, 1))<<(uint32(toBit(L, 2))&31)))
	},
	"rshift": func(L *lua.LState) int {
		return pushBit(L, int32(uint32(toBit(L, 1))>>(uint32(toBit(L, 2))&31)))
	},
	"arshift": func(L *lua.LState) int {
		return pushBit(L, toBit(L, 1)>>(uint32(toBit(L, 2))&31))
	},
	"rol": func(L *lua.LState) int {
		x, n := uint32(toBit(L, 1)), uint32(toBit(L, 2))&31
		return pushBit(L, int32(x<<n|x>>((32-n)&31)))
	},
	"ror": func(L *lua.LState) int {
		x, n := uint32(toBit(L, 1)), uint32(toBit(L, 2))&31
		return pushBit(L, int32(x>>n|x<<((32-n)&31)))
	},
	"bswap": func(L *lua.LState) int {
		x := uint32(toBit(L, 1))
		return pushBit(L, int32(x>>24|x>>8&0xff00|x<<8&0xff0000|x<<24))
	},
	"tohex": func(L *lua.LState) int {
		x := uint32(toBit(L, 1))
		n := 8
		if L.GetTop() >= 2 {
			n = int(toBit(L, 2))
		}
		digits := "0123456789abcdef"
		if n < 0 {
			n, digits = -n, "0123456789ABCDEF"
		}
		n = min(n, 8)
		out := make([]byte, n)
		for i := n - 1; i >= 0; i-- {
			out[i] = digits[x&15]
			x >>= 4
		}
		L.Push(lua.LString(out))
		return 1
	},
}

// toBit is LuaBitOp's conversion of a number to 32 bits.
func toBit(L *lua.LState, i int) int32 {
	f := float64(L.CheckNumber(i))
	return int32(uint32(int64(math.Mod(f, 1<<32))))
}

func pushBit(L *lua.LState, x int32) int {
	L.Push(lua.LNumber(x))
	return 1
}

func bitFold(op func(a, b int32) int32) lua.LGFunction {
	return func(L *lua.LState) int {
		x := toBit(L, 1)
		for i := 2; i <= L.GetTop(); i++ {
			x = op(x, toBit(L, i))
		}
		return pushBit(L, x)
	}
}
