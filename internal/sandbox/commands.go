package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2/server"

	"redis-by-hand/internal/resp"
)

// run runs one command. The sandbox checks it the way Redis does, in
// Redis's order (processCommand in server.c), runs it itself if it is
// one of its own commands (ownCommands), and hands it to miniredis
// otherwise. It reports false when the connection is to be closed.
func (c *conn) run(argv [][]byte) bool {
	name := strings.ToUpper(string(argv[0]))
	own, isOwn := ownCommands[name]
	if c.clusterRun(name, argv) {
		return true // CLUSTER, or a redirect (cluster.go)
	}
	if !isOwn && !c.s.known(argv[0]) {
		c.reply(unknownCommand(argv))
		c.dirty = c.inMulti // Redis then refuses to EXEC
		return true
	}
	// The arguments as strings, as miniredis takes them (a raw
	// command needs only its name and subcommand, for errors).
	n := len(argv)
	if own.raw != nil {
		n = min(n, 2)
	}
	args := make([]string, n)
	for i, a := range argv[:n] {
		args[i] = string(a)
	}
	if isOwn && !arityOK(own.arity, len(argv)) {
		c.reply("-ERR wrong number of arguments for '" + fullName(args) + "' command\r\n")
		c.dirty = c.inMulti
		return true
	}
	// A RESP2 client that subscribed may only (un)subscribe, ping,
	// quit or reset: anything else would mix replies with messages.
	if c.subscribed() && !c.resp3.Load() && !allowedSubscribed[name] {
		c.reply("-ERR Can't execute '" + fullName(args) + "': only (P|S)SUBSCRIBE / " +
			"(P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
		return true
	}

	// While another client's script runs, wait for it; once it has
	// run for lua-time-limit, -BUSY.
	busy, locked := c.s.scripting.enter(name, args)
	if busy != "" {
		c.reply(busy)
		c.dirty = c.inMulti
		return true
	}
	if locked {
		// Commands that wait for others, and scripts (which take
		// world alone), do not hold it.
		if mayBlock[name] && !c.inMulti || scriptCommands[name] && !c.inMulti ||
			name == "EXEC" && len(c.evals) > 0 {
			c.s.scripting.world.RUnlock()
		} else {
			defer c.s.scripting.world.RUnlock()
		}
	}

	goOn := true
	switch {
	case c.inMulti && name == "EXEC" && c.dirty:
		// miniredis does not know about the unknown command the
		// sandbox answered: discard its queue, and answer as Redis.
		c.quietly("DISCARD")
		c.inMulti, c.dirty = false, false
		c.later, c.queued = nil, 0
		c.dropEvals()
		c.reply("-EXECABORT Transaction discarded because of previous errors.\r\n")
	case c.inMulti && name == "EXEC" && len(c.evals) > 0:
		// Scripts run in it: alone, as a script does.
		c.s.exclusive(c, func(*runningScript) { goOn = c.execSpliced(args) })
		c.track(name, args)
	case c.inMulti && name == "EXEC" && len(c.later) > 0:
		goOn = c.execSpliced(args)
		c.track(name, args)
	case isOwn && c.inMulti && scriptCommands[name] && name != "SCRIPT":
		goOn = c.queueEval(args)
	case isOwn && c.inMulti && name != "RESET":
		// The sandbox keeps it, and runs it when miniredis runs its
		// part of the transaction (EXEC).
		kept := make([][]byte, len(argv))
		for i, a := range argv {
			kept[i] = bytes.Clone(a)
		}
		c.later = append(c.later, queuedCommand{pos: c.queued, argv: kept})
		c.queued++
		c.reply("+QUEUED\r\n")
	case isOwn:
		goOn = c.runOwn(own, argv)
	default:
		if r := c.s.check(c, name, args); r != "" {
			if !c.inMulti || name == "WATCH" {
				c.reply(r)
				return true
			}
			if r[0] == '-' {
				// Redis queues it, and answers the error in
				// EXEC's reply.
				c.later = append(c.later, queuedCommand{pos: c.queued, reply: r})
				c.queued++
				c.reply("+QUEUED\r\n")
				break
			}
		}
		if name == "SET" {
			args = lastExpire(args)
		}
		if c.inMulti && name == "OBJECT" && len(args) > 1 && strings.EqualFold(args[1], "ENCODING") {
			// miniredis has no OBJECT ENCODING: the sandbox
			// answers it at EXEC (after miniredis's part).
			c.later = append(c.later, queuedCommand{pos: c.queued, args: args})
			c.queued++
			c.reply("+QUEUED\r\n")
			break
		}
		switch {
		case !c.inMulti && c.clientTracking(name, args):
			// CLIENT TRACKING: tracking.go
		case c.inMulti:
			goOn = c.queue(args)
		case containers[name] && len(args) > 1:
			goOn = c.dispatchSub(args)
		case c.resp3.Load() && withScores(name, args):
			goOn = c.dispatchFixed(args, pairUp)
		default:
			goOn = c.dispatch(args)
		}
		c.track(name, args)
		c.tracked(name, args)
	}
	if !adminCommands[name] {
		c.feedMonitors(argv)
	}
	return goOn
}

// runOwn runs one of the sandbox's own commands.
func (c *conn) runOwn(own ownCommand, argv [][]byte) bool {
	// Own commands may write to other clients' outputs: this
	// client's earlier replies go first.
	c.w.Flush()
	if own.raw != nil {
		return own.raw(c, argv)
	}
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = string(a)
	}
	return own.run(c, args)
}

// A queuedCommand is one of the sandbox's own commands in a
// transaction: the pos-th command queued, counting miniredis's.
type queuedCommand struct {
	pos   int
	argv  [][]byte
	reply string   // the reply, known when queued (an argument error)
	args  []string // OBJECT ENCODING's arguments, answered at EXEC
}

// queue hands a command to miniredis inside a transaction, and counts
// it if miniredis queued it.
func (c *conn) queue(args []string) bool {
	return c.dispatchFixed(args, func(got []byte) []byte {
		if string(got) == "+QUEUED\r\n" {
			c.queued++
		}
		return got
	})
}

// execSpliced runs EXEC in a transaction that holds commands of the
// sandbox's own, or scripts: miniredis runs its part (and the scripts,
// through evalCommand) and answers with an array of its replies, in
// which the sandbox puts its own commands' replies at their places,
// running them now, and the scripts' replies in place of their
// markers. If miniredis does not run the transaction (a watched key
// changed), neither does the sandbox.
func (c *conn) execSpliced(args []string) bool {
	markers := map[string]string{}
	c.s.scripting.mu.Lock()
	for _, id := range c.evals {
		if pe := c.s.scripting.pending[id]; pe != nil {
			markers[bulk(evalMarker(id))] = id
		}
	}
	c.s.scripting.mu.Unlock()
	script := func(reply []byte) []byte {
		id, ok := markers[string(reply)]
		if !ok {
			return reply
		}
		c.s.scripting.mu.Lock()
		defer c.s.scripting.mu.Unlock()
		return []byte(c.s.scripting.pending[id].reply)
	}

	later := c.later
	total := c.queued
	c.later, c.queued = nil, 0
	var goOn bool
	got := c.captured(func() { goOn = c.dispatch(args) })
	r := bufio.NewReader(bytes.NewReader(got))
	line, err := r.ReadString('\n')
	n, err2 := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(line, "\r\n"), "*"))
	if err != nil || err2 != nil || line[0] != '*' || n != total-len(later) {
		c.w.Write(got)
		return goOn
	}
	replies := make([][]byte, n)
	for i := range replies {
		if replies[i], err = resp.ReadReply3(r); err != nil {
			c.w.Write(got)
			return goOn
		}
	}
	c.reply("*" + strconv.Itoa(total) + "\r\n")
	for pos := 0; pos < total; pos++ {
		if len(later) > 0 && later[0].pos == pos {
			q := later[0]
			later = later[1:]
			if q.args != nil {
				q.reply = c.objectEncoding(q.args)
			}
			if q.reply != "" {
				c.reply(q.reply)
				continue
			}
			argv := q.argv
			name := strings.ToUpper(string(argv[0]))
			if name == "MONITOR" {
				// Redis refuses it there too, at EXEC.
				c.reply("-ERR MONITOR isn't allowed for DENY BLOCKING client\r\n")
			} else if !c.runOwn(ownCommands[name], argv) {
				goOn = false
			}
			continue
		}
		c.w.Write(script(replies[0]))
		replies = replies[1:]
	}
	return goOn
}

// known reports whether miniredis serves the command. Names that are
// not plain ASCII are unknown to Redis; miniredis would upper-case
// them with Unicode rules.
func (s *Server) known(name []byte) bool {
	for _, c := range name {
		if c == 0 || c >= 0x80 {
			return false
		}
	}
	return s.srv.IsRegisteredCommand(string(name))
}

// track follows the connection state that the sandbox needs to know
// and miniredis keeps to itself.
func (c *conn) track(name string, args []string) {
	switch {
	case name == "MULTI" && len(args) == 1:
		if !c.inMulti {
			c.inMulti, c.dirty = true, false
			c.later, c.queued = nil, 0
			c.dropEvals()
		}
	case (name == "EXEC" || name == "DISCARD") && len(args) == 1:
		c.inMulti, c.dirty = false, false
		c.later, c.queued = nil, 0
		c.dropEvals()
	case name == "SELECT" && len(args) == 2 && !c.inMulti:
		if n, ok := parseInt([]byte(args[1])); ok && n >= 0 && n < databases {
			c.db = int(n)
		}
	}
}

// quietly runs a command in miniredis and throws its reply away.
func (c *conn) quietly(args ...string) {
	c.w.Flush()
	c.mute = true
	c.s.srv.Dispatch(c.peer, args)
	c.w.Flush()
	c.mute = false
}

// databases is how many databases Redis has by default (and the
// sandbox lets SELECT reach).
const databases = 16

// check makes the argument checks that miniredis skips or makes
// differently, with Redis 7.0's error texts. It returns the reply, or
// "" to run the command. In a transaction, it checks the arguments
// only, not the values they apply to, which EXEC will find.
func (s *Server) check(c *conn, name string, args []string) string {
	tx := c.inMulti
	const (
		notInt  = "-ERR value is not an integer or out of range\r\n"
		tooBig  = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
		bitOfs  = "-ERR bit offset is not an integer or out of range\r\n"
		syntax  = "-ERR syntax error\r\n"
		dbRange = "-ERR DB index is out of range\r\n"
	)
	isInt := func(s string) bool { _, ok := parseInt([]byte(s)); return ok }
	// A string key's current value, if it has one.
	value := func(key string) (string, bool) {
		if tx {
			return "", false
		}
		v, err := s.mini.DB(c.db).Get(key)
		return v, err == nil
	}
	switch {
	case name == "SET" && len(args) >= 3:
		var nx, xx bool
		for _, a := range args[3:] {
			nx = nx || strings.EqualFold(a, "NX")
			xx = xx || strings.EqualFold(a, "XX")
		}
		if nx && xx {
			return syntax
		}
		return setExpireCheck(args[3:])
	case name == "AUTH" && len(args) == 3:
		// Without requirepass, the default user has no password:
		// any password is right for it, and other users do not
		// exist.
		if args[1] == "default" {
			return "+OK\r\n"
		}
		return "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
	case name == "WATCH" && c.inMulti:
		return "-ERR WATCH inside MULTI is not allowed\r\n"
	case name == "INCRBYFLOAT" && len(args) == 3:
		inc := strings.ToLower(strings.TrimLeft(args[2], "+-"))
		if v, ok := value(args[1]); ok {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				break // miniredis says it is not a float
			}
		}
		if inc == "inf" || inc == "infinity" {
			return "-ERR increment would produce NaN or Infinity\r\n"
		}
	case name == "OBJECT" && len(args) >= 2 && strings.EqualFold(args[1], "ENCODING") && !tx:
		return c.objectEncoding(args)
	case name == "SETRANGE" && len(args) == 4:
		// miniredis would allocate the whole string first.
		ofs, ok := parseInt([]byte(args[2]))
		switch {
		case !ok:
			return notInt
		case ofs < 0:
			return "-ERR offset is out of range\r\n"
		case len(args[3]) == 0:
			// Nothing to write: the length as it is.
			if v, ok := value(args[1]); ok {
				return ":" + strconv.Itoa(len(v)) + "\r\n"
			}
			if !tx && !s.mini.DB(c.db).Exists(args[1]) {
				return ":0\r\n"
			}
		case ofs+int64(len(args[3])) > maxBulkLen:
			return tooBig
		}
	case name == "SETBIT" && len(args) == 4:
		ofs, ok := parseInt([]byte(args[2]))
		if !ok || ofs < 0 || ofs >= maxBulkLen*8 {
			return bitOfs
		}
	case name == "APPEND" && len(args) == 3:
		if v, ok := value(args[1]); ok && len(v)+len(args[2]) > maxBulkLen {
			return tooBig
		}
	case (name == "INCR" || name == "DECR") && len(args) == 2,
		(name == "INCRBY" || name == "DECRBY") && len(args) == 3:
		// miniredis reads numbers with strconv.Atoi, which takes
		// "007" and "+7"; Redis takes digits only, no leading zero.
		if len(args) == 3 && !isInt(args[2]) {
			return notInt
		}
		if v, ok := value(args[1]); ok && !isInt(v) {
			return notInt
		}
	case blocking[name] && len(args) >= 3:
		// miniredis takes "nan" and blocks for ever; Redis 7.0
		// refuses it, and calls what overflows its milliseconds
		// negative.
		t, err := strconv.ParseFloat(args[len(args)-1], 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(t):
			return "-ERR timeout is not a float or out of range\r\n"
		case t < 0 || t*1000 >= math.MaxInt64:
			return "-ERR timeout is negative\r\n"
		}
	case name == "SELECT" && len(args) == 2:
		n, ok := parseInt([]byte(args[1]))
		switch {
		case !ok || n != int64(int32(n)):
			return notInt
		case n < 0 || n >= databases:
			return dbRange
		}
	}
	return ""
}

// scriptCommands are the sandbox's scripting commands.
var scriptCommands = map[string]bool{
	"EVAL": true, "EVALSHA": true, "EVAL_RO": true, "EVALSHA_RO": true, "SCRIPT": true,
}

// setExpireCheck makes Redis 7.0's checks on the expire time of SET
// (EX, PX, EXAT, PXAT), once the options are otherwise well formed
// (else miniredis answers): an integer, above 0, and a time in
// milliseconds that does not overflow.
func setExpireCheck(opts []string) string {
	const syntax = "-ERR syntax error\r\n"
	unit, at, value, keep := "", false, "", false
	for i := 0; i < len(opts); i++ {
		switch o := strings.ToUpper(opts[i]); o {
		case "NX", "XX", "GET":
		case "KEEPTTL":
			keep = true
		case "EX", "PX", "EXAT", "PXAT":
			// The same option twice is taken (the last wins),
			// two different ones are not.
			if unit != "" && (unit != o[:2] || at != (len(o) == 4)) || i+1 == len(opts) {
				return syntax
			}
			unit, at, value = o[:2], len(o) == 4, opts[i+1]
			i++
		default:
			return ""
		}
	}
	switch {
	case unit == "":
		return ""
	case keep:
		return syntax
	}
	const invalid = "-ERR invalid expire time in 'set' command\r\n"
	n, ok := parseInt([]byte(value))
	switch {
	case !ok:
		return "-ERR value is not an integer or out of range\r\n"
	case n <= 0 || unit == "EX" && n > math.MaxInt64/1000:
		return invalid
	}
	if unit == "EX" {
		n *= 1000
	}
	if !at && n > math.MaxInt64-time.Now().UnixMilli() {
		return invalid
	}
	return ""
}

// lastExpire drops from a SET all but the last of its expire options:
// Redis takes the same option twice, and the last counts; miniredis
// takes the first. (Two different ones are a syntax error in both.)
func lastExpire(args []string) []string {
	last := -1
	for i := 3; i+1 < len(args); i++ {
		switch strings.ToUpper(args[i]) {
		case "EX", "PX", "EXAT", "PXAT":
			if last >= 0 && strings.EqualFold(args[last], args[i]) {
				args = slices.Delete(slices.Clone(args), last, last+2)
				i -= 2
			}
			last = i
			i++
		}
	}
	return args
}

// objectEncoding answers OBJECT ENCODING.
func (c *conn) objectEncoding(args []string) string {
	if len(args) != 3 {
		return "-ERR wrong number of arguments for 'object|encoding' command\r\n"
	}
	if enc := c.s.encoding(c.db, args[2]); enc != "" {
		return bulk(enc)
	}
	if c.resp3.Load() {
		return "_\r\n"
	}
	return "$-1\r\n"
}

// encoding is what OBJECT ENCODING answers in Redis 7.0 for the key's
// value, from its current size and contents (Redis also keeps a value
// in its larger encoding once it has grown); "" when there is no key.
func (s *Server) encoding(db int, key string) string {
	d := s.mini.DB(db)
	small := func(n int, items ...[]string) bool {
		for _, list := range items {
			if len(list) > n {
				return false
			}
			for _, it := range list {
				if len(it) > 64 {
					return false
				}
			}
		}
		return true
	}
	switch d.Type(key) {
	case "string":
		v, _ := d.Get(key)
		switch _, isInt := parseInt([]byte(v)); {
		case isInt:
			return "int"
		case len(v) <= 44:
			return "embstr"
		}
		return "raw"
	case "hll":
		return "raw"
	case "list":
		return "quicklist"
	case "hash":
		fields, _ := d.HKeys(key)
		var values []string
		for _, f := range fields {
			values = append(values, d.HGet(key, f))
		}
		if small(128, fields, values) {
			return "listpack"
		}
		return "hashtable"
	case "set":
		members, _ := d.Members(key)
		if len(members) > 512 {
			return "hashtable"
		}
		for _, m := range members {
			if _, ok := parseInt([]byte(m)); !ok {
				return "hashtable"
			}
		}
		return "intset"
	case "zset":
		members, _ := d.ZMembers(key)
		if small(128, members) {
			return "listpack"
		}
		return "skiplist"
	case "stream":
		return "stream"
	}
	return ""
}

// blocking lists the commands whose last argument is a timeout.
var blocking = map[string]bool{
	"BLPOP": true, "BRPOP": true, "BRPOPLPUSH": true, "BLMOVE": true,
	"BZPOPMIN": true, "BZPOPMAX": true,
}

// An ownCommand is a command the sandbox runs itself. arity is Redis's:
// n > 0 means exactly n words with the name, n < 0 at least -n. A raw
// command takes the arguments as read, not copied into strings (the
// message of a PUBLISH may be large).
type ownCommand struct {
	arity int
	run   func(c *conn, args []string) bool
	raw   func(c *conn, argv [][]byte) bool
}

var ownCommands map[string]ownCommand

func init() {
	ownCommands = map[string]ownCommand{
		"PING":         {-1, (*conn).ping, nil},
		"SUBSCRIBE":    {-2, (*conn).subscribeCmd, nil},
		"PSUBSCRIBE":   {-2, (*conn).subscribeCmd, nil},
		"SSUBSCRIBE":   {-2, (*conn).subscribeCmd, nil},
		"UNSUBSCRIBE":  {-1, (*conn).unsubscribeCmd, nil},
		"PUNSUBSCRIBE": {-1, (*conn).unsubscribeCmd, nil},
		"SUNSUBSCRIBE": {-1, (*conn).unsubscribeCmd, nil},
		"PUBLISH":      {3, nil, (*conn).publishCmd},
		"SPUBLISH":     {3, nil, (*conn).publishCmd},
		"PUBSUB":       {-2, (*conn).pubsubCmd, nil},
		"MONITOR":      {1, (*conn).monitor, nil},
		"RESET":        {1, (*conn).reset, nil},
		"CONFIG":       {-2, (*conn).config, nil},
		"COMMAND":      {-1, (*conn).command, nil},
		"INFO":         {-1, (*conn).info, nil},
		"EVAL":         {-3, (*conn).evalCmd, nil},
		"EVALSHA":      {-3, (*conn).evalCmd, nil},
		"EVAL_RO":      {-3, (*conn).evalCmd, nil},
		"EVALSHA_RO":   {-3, (*conn).evalCmd, nil},
		"SCRIPT":       {-2, (*conn).scriptCmd, nil},
	}
}

func arityOK(arity, n int) bool {
	if arity > 0 {
		return n == arity
	}
	return n >= -arity
}

// allowedSubscribed are the commands a RESP2 client may send while
// subscribed.
var allowedSubscribed = map[string]bool{
	"SUBSCRIBE": true, "PSUBSCRIBE": true, "SSUBSCRIBE": true,
	"UNSUBSCRIBE": true, "PUNSUBSCRIBE": true, "SUNSUBSCRIBE": true,
	"PING": true, "QUIT": true, "RESET": true,
}

// containers are the commands whose first argument is a subcommand:
// Redis names them "config|get" in its errors.
var containers = map[string]bool{
	"ACL": true, "CLIENT": true, "CLUSTER": true, "COMMAND": true,
	"CONFIG": true, "FUNCTION": true, "LATENCY": true, "MEMORY": true,
	"MODULE": true, "OBJECT": true, "PUBSUB": true, "SCRIPT": true,
	"SLOWLOG": true, "XGROUP": true, "XINFO": true,
}

// fullName is the command's name as Redis's errors give it.
func fullName(args []string) string {
	name := strings.ToLower(args[0])
	if containers[strings.ToUpper(name)] && len(args) > 1 {
		name += "|" + strings.ToLower(args[1])
	}
	return name
}

// adminCommands are not shown to MONITOR clients, as in Redis.
var adminCommands = map[string]bool{
	"CONFIG": true, "DEBUG": true, "SHUTDOWN": true, "SAVE": true,
	"BGSAVE": true, "BGREWRITEAOF": true, "MONITOR": true, "SYNC": true,
	"PSYNC": true, "REPLCONF": true, "REPLICAOF": true, "SLAVEOF": true,
	"MODULE": true, "ACL": true, "FAILOVER": true, "SLOWLOG": true,
	"LATENCY": true,
}

// bulk encodes s as a RESP bulk string.
func bulk(s string) string {
	return "$" + strconv.Itoa(len(s)) + "\r\n" + s + "\r\n"
}

// ping answers as Redis 7.0 does, including in subscribed mode, where
// a RESP2 client gets a "pong" push.
func (c *conn) ping(args []string) bool {
	switch {
	case c.subscribed() && !c.resp3.Load():
		arg := ""
		if len(args) == 2 {
			arg = args[1]
		}
		c.reply("*2\r\n$4\r\npong\r\n" + bulk(arg))
	case len(args) == 1:
		c.reply("+PONG\r\n")
	case len(args) == 2:
		c.reply(bulk(args[1]))
	default:
		c.reply("-ERR wrong number of arguments for 'ping' command\r\n")
	}
	return true
}

// monitor makes the client a MONITOR: from now on it receives a line
// for every command that any other client runs.
func (c *conn) monitor([]string) bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	if _, ok := c.s.monitors[c]; ok {
		return true // Redis ignores a second MONITOR, without a reply
	}
	c.reply("+OK\r\n")
	c.w.Flush()
	c.out.setLimited(true)
	c.s.monitors[c] = struct{}{}
	c.s.nmonitors.Add(1)
	return true
}

// feedMonitors sends the command to every MONITOR client, in Redis's
// format: +<unix time>.<microseconds> [<db> <client ip:port>] "ARG"...
func (c *conn) feedMonitors(argv [][]byte) {
	if c.s.nmonitors.Load() == 0 {
		return
	}
	now := time.Now()
	line := fmt.Appendf(nil, "+%d.%06d [%d %s]", now.Unix(), now.Nanosecond()/1000, c.db, c.addr)
	for _, a := range argv {
		line = append(line, ' ')
		line = appendRepr(line, a)
	}
	line = append(line, "\r\n"...)
	c.s.mu.Lock()
	for m := range c.s.monitors {
		if m != c {
			m.out.Write(line)
			c.touched = append(c.touched, m)
		}
	}
	c.s.mu.Unlock()
}

// appendRepr quotes b as Redis's sdscatrepr does.
func appendRepr(dst, b []byte) []byte {
	dst = append(dst, '"')
	for _, ch := range b {
		switch ch {
		case '\\', '"':
			dst = append(dst, '\\', ch)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\a':
			dst = append(dst, `\a`...)
		case '\b':
			dst = append(dst, `\b`...)
		default:
			if ch >= 0x20 && ch < 0x7f {
				dst = append(dst, ch)
			} else {
				dst = fmt.Appendf(dst, `\x%02x`, ch)
			}
		}
	}
	return append(dst, '"')
}

// reset puts the connection back as new, as Redis 7.0's RESET does:
// no transaction, no watched keys, database 0, RESP2, no name, no
// subscriptions, no MONITOR.
func (c *conn) reset([]string) bool {
	if c.inMulti {
		c.quietly("DISCARD")
		c.inMulti, c.dirty = false, false
		c.later, c.queued = nil, 0
		c.dropEvals()
	}
	c.quietly("UNWATCH")
	c.quietly("SELECT", "0")
	c.db = 0
	c.peer.Resp3 = false
	c.resp3.Store(false)
	c.peer.ClientName = ""
	c.leave() // no more subscriptions, no more MONITOR
	c.out.setLimited(false)
	c.reply("+RESET\r\n")
	return true
}

// configParams are the settings CONFIG GET shows: Redis 7.0's defaults,
// which are what the sandbox does. redis-benchmark reads save and
// appendonly before it starts.
var configParams = [][2]string{
	{"save", ""},
	{"appendonly", "no"},
	{"databases", strconv.Itoa(databases)},
	{"protected-mode", "yes"},
	{"proto-max-bulk-len", strconv.Itoa(maxBulkLen)},
	{"client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
	{"maxmemory", "0"},
	{"timeout", "0"},
}

// config serves CONFIG GET, and CONFIG SET of lua-time-limit (the
// only setting the sandbox can change).
func (c *conn) config(args []string) bool {
	sub := strings.ToUpper(args[1])
	switch {
	case sub == "GET" && len(args) < 3:
		c.reply("-ERR wrong number of arguments for 'config|get' command\r\n")
	case sub == "GET":
		_, port, _ := net.SplitHostPort(c.s.Addr())
		limit := strconv.FormatInt(c.s.scripting.limit.Load()/int64(time.Millisecond), 10)
		var found []string
		for _, p := range append(configParams, [2]string{"port", port},
			[2]string{"lua-time-limit", limit}, [2]string{"busy-reply-threshold", limit}) {
			for _, pat := range args[2:] {
				if globMatch([]byte(strings.ToLower(pat)), []byte(p[0])) {
					found = append(found, p[0], p[1])
					break
				}
			}
		}
		if c.resp3.Load() {
			c.reply("%" + strconv.Itoa(len(found)/2) + "\r\n")
		} else {
			c.reply("*" + strconv.Itoa(len(found)) + "\r\n")
		}
		for _, f := range found {
			c.reply(bulk(f))
		}
	case sub == "SET":
		c.configSet(args)
	default:
		c.reply("-ERR the embedded Redis only has CONFIG GET and CONFIG SET\r\n")
	}
	return true
}

// configSet serves CONFIG SET: lua-time-limit (busy-reply-threshold)
// changes, other settings of Redis are refused, unknown ones get
// Redis's error. Nothing changes unless all is well.
func (c *conn) configSet(args []string) {
	if len(args) < 4 || len(args)%2 != 0 {
		c.reply("-ERR wrong number of arguments for 'config|set' command\r\n")
		return
	}
	limit := int64(-1)
	for i := 2; i < len(args); i += 2 {
		name := strings.ToLower(args[i])
		switch {
		case name == "lua-time-limit" || name == "busy-reply-threshold":
			n, ok := parseInt([]byte(args[i+1]))
			switch {
			case !ok:
				c.reply("-ERR CONFIG SET failed (possibly related to argument '" + cSubcommand(args[i]) +
					"') - argument couldn't be parsed into an integer\r\n")
				return
			case n < 0:
				c.reply("-ERR CONFIG SET failed (possibly related to argument '" + cSubcommand(args[i]) +
					"') - argument must be between 0 and 9223372036854775807 inclusive\r\n")
				return
			}
			limit = n
		case !slices.Contains(redisConfigNames, name):
			c.reply("-ERR Unknown option or number of arguments for CONFIG SET - '" +
				cSubcommand(args[i]) + "'\r\n")
			return
		default:
			c.reply("-ERR the embedded Redis can only set lua-time-limit\r\n")
			return
		}
	}
	if limit >= 0 {
		c.s.SetLuaTimeLimit(time.Duration(min(limit, math.MaxInt64/int64(time.Millisecond))) * time.Millisecond)
	}
	c.reply("+OK\r\n")
}

// command serves COMMAND COUNT and COMMAND DOCS, which clients read
// when they start (redis-cli, for its hints), and hands the rest to
// miniredis (its COMMAND is Redis 5's table).
func (c *conn) command(args []string) bool {
	sub := ""
	if len(args) > 1 {
		sub = strings.ToUpper(args[1])
	}
	switch {
	case sub == "COUNT" && len(args) != 2:
		c.reply("-ERR wrong number of arguments for 'command|count' command\r\n")
	case sub == "COUNT":
		c.reply(":" + strconv.Itoa(c.s.commandCount()) + "\r\n")
	case sub == "DOCS":
		// No documentation: an empty reply, which redis-cli takes
		// (it then has no hints for the commands).
		if c.resp3.Load() {
			c.reply("%0\r\n")
		} else {
			c.reply("*0\r\n")
		}
	default:
		return c.dispatch(args)
	}
	return true
}

// commandCount is how many commands miniredis's COMMAND lists.
func (s *Server) commandCount() int {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	s.srv.Dispatch(server.NewPeer(w), []string{"COMMAND"})
	w.Flush()
	line, _, _ := strings.Cut(b.String(), "\r\n")
	n, _ := strconv.Atoi(strings.TrimPrefix(line, "*"))
	return n
}

// unknownCommand is Redis 7.0's error for a command it does not have
// (processCommand in server.c), byte for byte: the name and the
// arguments are cut at a NUL (C's %s) and to 128 bytes in all, and
// line breaks become blanks.
func unknownCommand(argv [][]byte) string {
	cstr := func(b []byte, max int) string {
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		if len(b) > max {
			b = b[:max]
		}
		return string(b)
	}
	var args strings.Builder
	for _, a := range argv[1:] {
		if args.Len() >= 128 {
			break
		}
		fmt.Fprintf(&args, "'%s' ", cstr(a, 128-args.Len()))
	}
	msg := fmt.Sprintf("-ERR unknown command '%s', with args beginning with: %s",
		cstr(argv[0], 128), args.String())
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(msg) + "\r\n"
}
