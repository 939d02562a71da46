package sandbox

import (
	"slices"
	"strconv"
	"strings"
	"sync"
)

// pubsub is the sandbox's own publish/subscribe, as Redis 7.0 does it.
// (miniredis delivers each message through goroutines and unbuffered
// channels: a subscriber that does not read blocks the publisher, which
// holds miniredis's lock, and channel and pattern messages can arrive
// out of order.) Here PUBLISH appends each message to the subscribers'
// outputs and never waits; the messages leave when the publisher's
// batch of commands is done, together, as from Redis.
type pubsub struct {
	mu       sync.Mutex
	channels map[string][]*conn // subscribers, in the order they came
	patterns map[string][]*conn
	patOrder []string // patterns, in the order first subscribed
	shards   map[string][]*conn
}

func (p *pubsub) init() {
	p.channels = map[string][]*conn{}
	p.patterns = map[string][]*conn{}
	p.shards = map[string][]*conn{}
}

// A kind is one of the three families of subscriptions.
type kind struct {
	sub, unsub, msg string // the push names: "subscribe", ...
}

var (
	channelKind = &kind{"subscribe", "unsubscribe", "message"}
	patternKind = &kind{"psubscribe", "punsubscribe", "pmessage"}
	shardKind   = &kind{"ssubscribe", "sunsubscribe", "smessage"}
)

// kindOf tells the family from a command's name.
func kindOf(name string) *kind {
	switch name {
	case "PSUBSCRIBE", "PUNSUBSCRIBE":
		return patternKind
	case "SSUBSCRIBE", "SUNSUBSCRIBE":
		return shardKind
	}
	return channelKind
}

// lists returns the registry and the client's own list for a kind.
func (p *pubsub) lists(c *conn, k *kind) (map[string][]*conn, *[]string) {
	switch k {
	case patternKind:
		return p.patterns, &c.patterns
	case shardKind:
		return p.shards, &c.shards
	}
	return p.channels, &c.channels
}

// subscribed reports whether the client is in pub/sub mode.
func (c *conn) subscribed() bool {
	c.s.pubsub.mu.Lock()
	defer c.s.pubsub.mu.Unlock()
	return c.subscriptions() > 0
}

func (c *conn) subscriptions() int {
	return len(c.channels) + len(c.patterns) + len(c.shards)
}

// count is the number a (un)subscribe confirmation carries: channels
// and patterns together, or shard channels alone.
func (c *conn) count(k *kind) int {
	if k == shardKind {
		return len(c.shards)
	}
	return len(c.channels) + len(c.patterns)
}

// push encodes a pub/sub message, bulk strings: an array in RESP2, a
// push in RESP3.
func push(resp3 bool, parts ...[]byte) []byte {
	size := 16
	for _, p := range parts {
		size += len(p) + 16
	}
	b := make([]byte, 0, size)
	if resp3 {
		b = append(b, '>')
	} else {
		b = append(b, '*')
	}
	b = strconv.AppendInt(b, int64(len(parts)), 10)
	b = append(b, "\r\n"...)
	for _, p := range parts {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(p)), 10)
		b = append(b, "\r\n"...)
		b = append(b, p...)
		b = append(b, "\r\n"...)
	}
	return b
}

// confirm encodes a (un)subscribe confirmation: the push name, the
// channel (none: a null), and the count.
func confirm(resp3 bool, what string, name *string, count int) []byte {
	b := []byte("*3\r\n")
	if resp3 {
		b[0] = '>'
	}
	b = append(b, bulk(what)...)
	if name == nil && resp3 {
		b = append(b, "_\r\n"...)
	} else if name == nil {
		b = append(b, "$-1\r\n"...)
	} else {
		b = append(b, bulk(*name)...)
	}
	return append(b, ":"+strconv.Itoa(count)+"\r\n"...)
}

// subscribeCmd serves SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE.
func (c *conn) subscribeCmd(args []string) bool {
	p := &c.s.pubsub
	k := kindOf(strings.ToUpper(args[0]))
	p.mu.Lock()
	defer p.mu.Unlock()
	reg, mine := p.lists(c, k)
	for _, name := range args[1:] {
		if !slices.Contains(*mine, name) {
			*mine = append(*mine, name)
			if k == patternKind && len(reg[name]) == 0 {
				p.patOrder = append(p.patOrder, name)
			}
			reg[name] = append(reg[name], c)
		}
		// The confirmation goes out under the lock, so that no
		// message can come before it.
		c.out.Write(confirm(c.resp3.Load(), k.sub, &name, c.count(k)))
	}
	c.out.setLimited(true)
	return true
}

// unsubscribeCmd serves UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE.
func (c *conn) unsubscribeCmd(args []string) bool {
	p := &c.s.pubsub
	k := kindOf(strings.ToUpper(args[0]))
	p.mu.Lock()
	defer p.mu.Unlock()
	_, mine := p.lists(c, k)
	names := args[1:]
	if len(names) == 0 {
		if len(*mine) == 0 {
			c.out.Write(confirm(c.resp3.Load(), k.unsub, nil, c.count(k)))
		}
		// All of them: patterns in the order subscribed, channels
		// the latest first, as Redis 7.0 does (its channels are
		// in a hash table, which small ones list that way).
		names = slices.Clone(*mine)
		if k != patternKind {
			slices.Reverse(names)
		}
	}
	for _, name := range names {
		p.remove(c, k, name)
		c.out.Write(confirm(c.resp3.Load(), k.unsub, &name, c.count(k)))
	}
	c.out.setLimited(c.subscriptions() > 0 || c.isMonitor())
	return true
}

// remove ends one subscription; the caller holds the lock.
func (p *pubsub) remove(c *conn, k *kind, name string) {
	reg, mine := p.lists(c, k)
	i := slices.Index(*mine, name)
	if i < 0 {
		return
	}
	*mine = slices.Delete(*mine, i, i+1)
	subs := slices.DeleteFunc(reg[name], func(s *conn) bool { return s == c })
	if len(subs) > 0 {
		reg[name] = subs
		return
	}
	delete(reg, name)
	if k == patternKind {
		p.patOrder = slices.DeleteFunc(p.patOrder, func(s string) bool { return s == name })
	}
}

// unsubscribeAll ends every subscription of a client without a word
// (it leaves, or RESET).
func (p *pubsub) unsubscribeAll(c *conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, k := range []*kind{channelKind, patternKind, shardKind} {
		_, mine := p.lists(c, k)
		for _, name := range slices.Clone(*mine) {
			p.remove(c, k, name)
		}
	}
}

// publishCmd serves PUBLISH and SPUBLISH: the message goes to the
// channel's subscribers, in the order they subscribed, then to each
// matching pattern's; the reply counts the deliveries.
func (c *conn) publishCmd(argv [][]byte) bool {
	n := c.publish(argv[0], argv[1], argv[2])
	c.reply(":" + strconv.Itoa(n) + "\r\n")
	return true
}

// publish sends msg to the subscribers of channel (PUBLISH), or of the
// shard channel (SPUBLISH), and returns how many got it.
func (c *conn) publish(cmd, channel, msg []byte) int {
	p := &c.s.pubsub
	argv := [][]byte{cmd, channel, msg}
	shard := strings.EqualFold(string(cmd), "SPUBLISH")
	n := 0
	// A message is encoded once for each protocol, and shared by the
	// subscribers' outputs.
	var encoded [2][]byte
	deliver := func(to *conn, kind string) {
		resp3 := to.resp3.Load()
		i := 0
		if resp3 {
			i = 1
		}
		if encoded[i] == nil {
			encoded[i] = push(resp3, []byte(kind), argv[1], msg)
		}
		to.out.share(encoded[i])
		c.touched = append(c.touched, to)
		n++
	}
	p.mu.Lock()
	if shard {
		for _, to := range p.shards[string(argv[1])] {
			deliver(to, "smessage")
		}
	} else {
		for _, to := range p.channels[string(argv[1])] {
			deliver(to, "message")
		}
		for _, pat := range p.patOrder {
			if globMatch([]byte(pat), argv[1]) {
				for _, to := range p.patterns[pat] {
					resp3 := to.resp3.Load()
					to.out.share(push(resp3, []byte("pmessage"), []byte(pat), argv[1], msg))
					c.touched = append(c.touched, to)
					n++
				}
			}
		}
	}
	p.mu.Unlock()
	return n
}

// pubsubCmd serves PUBSUB CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS and
// SHARDNUMSUB.
func (c *conn) pubsubCmd(args []string) bool {
	p := &c.s.pubsub
	p.mu.Lock()
	defer p.mu.Unlock()
	sub := strings.ToUpper(args[1])
	array := func(items []string) {
		c.reply("*" + strconv.Itoa(len(items)) + "\r\n")
		for _, it := range items {
			if strings.HasPrefix(it, ":") {
				c.reply(it + "\r\n")
			} else {
				c.reply(bulk(it))
			}
		}
	}
	names := func(reg map[string][]*conn) {
		if len(args) > 3 {
			c.reply("-ERR wrong number of arguments for '" + fullName(args) + "' command\r\n")
			return
		}
		var found []string
		for name := range reg {
			if len(args) == 2 || globMatch([]byte(args[2]), []byte(name)) {
				found = append(found, name)
			}
		}
		slices.Sort(found)
		array(found)
	}
	numsub := func(reg map[string][]*conn) {
		var items []string
		for _, name := range args[2:] {
			items = append(items, name, ":"+strconv.Itoa(len(reg[name])))
		}
		array(items)
	}
	switch sub {
	case "CHANNELS":
		names(p.channels)
	case "SHARDCHANNELS":
		names(p.shards)
	case "NUMSUB":
		numsub(p.channels)
	case "SHARDNUMSUB":
		numsub(p.shards)
	case "NUMPAT":
		c.reply(":" + strconv.Itoa(len(p.patterns)) + "\r\n")
	default:
		c.reply("-ERR unknown subcommand '" + cSubcommand(args[1]) + "'. Try PUBSUB HELP.\r\n")
	}
	return true
}

// isMonitor reports whether the client is a MONITOR.
func (c *conn) isMonitor() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	_, ok := c.s.monitors[c]
	return ok
}

// globMatch is Redis's glob-style matching (stringmatchlen in util.c):
// * any run of bytes, ? one byte, [abc] [^abc] [a-z] a set, \x the
// byte x.
func globMatch(pat, s []byte) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for len(pat) > 1 && pat[1] == '*' {
				pat = pat[1:]
			}
			if len(pat) == 1 {
				return true
			}
			for i := 0; i <= len(s); i++ {
				if globMatch(pat[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
			s = s[1:]
		case '[':
			if len(s) == 0 {
				return false
			}
			pat = pat[1:]
			not := len(pat) > 0 && pat[0] == '^'
			if not {
				pat = pat[1:]
			}
			match := false
			for len(pat) > 0 && pat[0] != ']' {
				switch {
				case pat[0] == '\\' && len(pat) >= 2:
					pat = pat[1:]
					match = match || pat[0] == s[0]
				case len(pat) >= 3 && pat[1] == '-':
					lo, hi := pat[0], pat[2]
					if lo > hi {
						lo, hi = hi, lo
					}
					match = match || (s[0] >= lo && s[0] <= hi)
					pat = pat[2:]
				default:
					match = match || pat[0] == s[0]
				}
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return false // Redis: an unclosed [ matches nothing more
			}
			if match == not {
				return false
			}
			s = s[1:]
		case '\\':
			if len(pat) >= 2 {
				pat = pat[1:]
			}
			fallthrough
		default:
			if len(s) == 0 || pat[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		pat = pat[1:]
	}
	return len(s) == 0
}
