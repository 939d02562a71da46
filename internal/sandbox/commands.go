package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2/server"
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

	goOn := true
	switch {
	case c.inMulti && name == "EXEC" && c.dirty:
		// miniredis does not know about the unknown command the
		// sandbox answered: discard its queue, and answer as Redis.
		c.quietly("DISCARD")
		c.inMulti, c.dirty = false, false
		c.reply("-EXECABORT Transaction discarded because of previous errors.\r\n")
	case isOwn && c.inMulti && name == "PING":
		goOn = c.dispatch(args) // miniredis queues it
	case isOwn && c.inMulti && name != "RESET":
		c.reply("-ERR the embedded Redis cannot queue " + strings.ToLower(name) +
			" in a transaction\r\n")
		c.dirty = true
	case isOwn:
		// Own commands may write to other clients' outputs: this
		// client's earlier replies go first.
		c.w.Flush()
		if own.raw != nil {
			goOn = own.raw(c, argv)
		} else {
			goOn = own.run(c, args)
		}
	default:
		if !c.inMulti {
			if r := c.s.check(c, name, args); r != "" {
				c.reply(r)
				return true
			}
		}
		goOn = c.dispatch(args)
		c.track(name, args)
	}
	if !adminCommands[name] {
		c.feedMonitors(argv)
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
		}
	case (name == "EXEC" || name == "DISCARD") && len(args) == 1:
		c.inMulti, c.dirty = false, false
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
// "" to run the command.
func (s *Server) check(c *conn, name string, args []string) string {
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
			if !s.mini.DB(c.db).Exists(args[1]) {
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

// config serves CONFIG GET; the sandbox has nothing to change.
func (c *conn) config(args []string) bool {
	sub := strings.ToUpper(args[1])
	switch {
	case sub == "GET" && len(args) < 3:
		c.reply("-ERR wrong number of arguments for 'config|get' command\r\n")
	case sub == "GET":
		_, port, _ := net.SplitHostPort(c.s.Addr())
		var found []string
		for _, p := range append(configParams, [2]string{"port", port}) {
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
	default:
		c.reply("-ERR the embedded Redis only has CONFIG GET\r\n")
	}
	return true
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
