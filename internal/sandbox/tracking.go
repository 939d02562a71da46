package sandbox

import (
	"strings"
	"sync"
	"sync/atomic"
)

// A tracker is client-side caching's table, as Redis 7.0 keeps it for
// CLIENT TRACKING ON in its default mode: which clients read which
// keys. A write to a key sends each of them one RESP3 push,
// `>2\r\n$10\r\ninvalidate\r\n*1\r\n$<n>\r\n<key>\r\n`, and forgets
// them: a client that reads the key again is tracked again. Keys are
// names, whatever the database, as in Redis.
type tracker struct {
	mu   sync.Mutex
	on   map[*conn]bool
	keys map[string]map[*conn]bool
	n    atomic.Int32 // len(on), read without the lock
}

// clientTracking serves CLIENT TRACKING ON|OFF and reports true; for
// any other command it reports false, and the command runs as usual.
// The options (REDIRECT, BCAST, PREFIX, OPTIN, OPTOUT, NOLOOP) are
// refused: the embedded Redis does not have them.
func (c *conn) clientTracking(name string, args []string) bool {
	if name != "CLIENT" || len(args) < 2 || !strings.EqualFold(args[1], "TRACKING") {
		return false
	}
	t := &c.s.tracker
	switch {
	case len(args) == 2:
		c.reply("-ERR wrong number of arguments for 'client|tracking' command\r\n")
	case len(args) > 3:
		c.reply("-ERR the embedded Redis has CLIENT TRACKING ON and OFF only, " +
			"without options\r\n")
	case strings.EqualFold(args[2], "ON"):
		t.mu.Lock()
		if t.on == nil {
			t.on, t.keys = map[*conn]bool{}, map[string]map[*conn]bool{}
		}
		t.on[c] = true
		t.n.Store(int32(len(t.on)))
		t.mu.Unlock()
		c.reply("+OK\r\n")
	case strings.EqualFold(args[2], "OFF"):
		t.forget(c)
		c.reply("+OK\r\n")
	default:
		c.reply("-ERR syntax error\r\n")
	}
	return true
}

// forget stops tracking for c: CLIENT TRACKING OFF, RESET, or the
// client has gone.
func (t *tracker) forget(c *conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.on[c] {
		return
	}
	delete(t.on, c)
	t.n.Store(int32(len(t.on)))
	for key, cs := range t.keys {
		delete(cs, c)
		if len(cs) == 0 {
			delete(t.keys, key)
		}
	}
}

// tracked follows a command that ran: a read by a tracking client
// remembers its keys, and a write invalidates its keys for every
// client that read them. A command queued in MULTI is not followed
// (see docs/differences.md).
func (c *conn) tracked(name string, args []string) {
	t := &c.s.tracker
	if c.inMulti || t.n.Load() == 0 {
		return // most often: nobody tracks, and no lock is taken
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if k, ok := trackedReads[name]; ok && t.on[c] {
		for _, key := range keysOf(k, args) {
			if t.keys[key] == nil {
				t.keys[key] = map[*conn]bool{}
			}
			t.keys[key][c] = true
		}
		return
	}
	k, ok := trackedWrites[name]
	if !ok {
		return
	}
	for _, key := range keysOf(k, args) {
		msg := []byte(">2\r\n$10\r\ninvalidate\r\n*1\r\n" + bulk(key))
		for to := range t.keys[key] {
			if !to.resp3.Load() {
				continue // RESP2 has no push: Redis drops it too
			}
			if to == c {
				c.w.Flush() // this client's reply goes first
			}
			to.out.share(msg)
			c.touched = append(c.touched, to)
		}
		delete(t.keys, key)
	}
}

// Where a command's keys are: its first argument (1), every argument
// (0), or every other one from the first (2, MSET's key value pairs).
const (
	allKeys   = 0
	firstKey  = 1
	pairsKeys = 2
)

// keysOf is the keys of a command, args[0] being its name.
func keysOf(where int, args []string) []string {
	switch {
	case len(args) < 2:
		return nil
	case where == firstKey:
		return args[1:2]
	case where == allKeys:
		return args[1:]
	}
	var keys []string
	for i := 1; i < len(args); i += 2 {
		keys = append(keys, args[i])
	}
	return keys
}

// trackedReads are the read commands whose keys a tracking client
// is sent invalidations for: those of the lessons, and their kin.
var trackedReads = map[string]int{
	"GET": firstKey, "MGET": allKeys, "STRLEN": firstKey,
	"GETRANGE": firstKey, "EXISTS": allKeys, "TYPE": firstKey,
	"HGET": firstKey, "HMGET": firstKey, "HGETALL": firstKey,
	"HLEN": firstKey, "HEXISTS": firstKey, "LRANGE": firstKey,
	"LLEN": firstKey, "LINDEX": firstKey, "SMEMBERS": firstKey,
	"SISMEMBER": firstKey, "SCARD": firstKey, "ZSCORE": firstKey,
	"ZRANGE": firstKey, "ZCARD": firstKey,
}

// trackedWrites are the writes that invalidate their keys. Redis
// invalidates on every change to a key, by any command, and only when
// the key changed; the sandbox on these, whenever they run.
var trackedWrites = map[string]int{
	"SET": firstKey, "SETNX": firstKey, "SETEX": firstKey,
	"PSETEX": firstKey, "GETSET": firstKey, "GETDEL": firstKey,
	"APPEND": firstKey, "SETRANGE": firstKey, "INCR": firstKey,
	"DECR": firstKey, "INCRBY": firstKey, "DECRBY": firstKey,
	"INCRBYFLOAT": firstKey, "EXPIRE": firstKey, "PEXPIRE": firstKey,
	"PERSIST": firstKey, "DEL": allKeys, "UNLINK": allKeys,
	"MSET": pairsKeys, "HSET": firstKey, "HDEL": firstKey,
	"HINCRBY": firstKey, "LPUSH": firstKey, "RPUSH": firstKey,
	"LPOP": firstKey, "RPOP": firstKey, "SADD": firstKey,
	"SREM": firstKey, "ZADD": firstKey, "ZREM": firstKey,
	"ZINCRBY": firstKey,
}
