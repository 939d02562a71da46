// Lesson 13 (beyond the blog): Redis Cluster, when one Redis is
// not enough. The keys are spread over 16384 hash slots, and each
// node serves some of them; a node asked for a key it does not
// own answers -MOVED with the owner's address. First the naive
// way: follow the redirect. Then a driver's: read the slot map
// once, hash each key, and send each command to its owner.
// `go run ./13-cluster [key...]`
package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

func main() {
	// The keys to route: the arguments, or the keys of the
	// earlier lessons. REDIS_ADDR is any node of the cluster.
	parseFlags("13-cluster [key...]", 1000)
	keys := flag.Args()
	if len(keys) == 0 {
		keys = []string{"my-key", "hits", "jobs", "messages"}
	}
	configure()
	first := addr

	// The naive way: send to the node we know. If another node
	// owns the key's slot, the reply is an error that says
	// where to go: -MOVED <slot> <host:port>.
	set := encode("SET", keys[0], "1")
	reply := roundTrip(first, set)
	if f := strings.Fields(reply); len(f) == 3 && f[0] == "-MOVED" {
		// Dial the node it names, and send the same bytes.
		reply = roundTrip(f[2], set)
	}
	expect(reply, "+OK")

	// A redirect costs a round trip. A driver asks once where
	// every slot lives: CLUSTER SLOTS answers an array of
	// ranges, each [first, last, [host, port, id, ...], ...].
	reply = roundTrip(first, encode("CLUSTER", "SLOTS"))
	if strings.HasPrefix(reply, "-ERR This instance has cluster") {
		fail("%s is not a node of a Redis Cluster; start one "+
			"with: make cluster", first)
	}
	expect(reply, "*")
	ranges := readSlots(reply)

	// Then it hashes each key itself, and sends the command
	// straight to the owner of its slot: no redirect.
	for _, key := range keys {
		owner := ownerOf(ranges, key)
		reply := roundTrip(owner, encode("GET", key))
		expect(reply, "$")
	}

	// A command with several keys runs on one node, so they
	// must hash to one slot: across slots, -CROSSSLOT. A hash
	// tag, the part of a key between { and }, is all that is
	// hashed: keys that share it share a slot.
	mset, tagged := []string{"MSET"}, []string{"MSET"}
	for _, key := range keys {
		mset = append(mset, key, "1")
		tagged = append(tagged, "{13}:"+key, "1")
	}
	reply = roundTrip(ownerOf(ranges, keys[0]), encode(mset...))
	if !strings.HasPrefix(reply, "-CROSSSLOT ") {
		expect(reply, "+OK") // keys that share a slot anyway
	}
	reply = roundTrip(ownerOf(ranges, tagged[1]), encode(tagged...))
	expect(reply, "+OK")

	// A driver keeps its connections; we are done with them.

	for _, a := range dialed {
		fmt.Println("Close the connection to", a)
		conns[a].Close()
	}
}

// One connection per node, dialed when first needed, and the
// order they were dialed in.
var (
	conns  = map[string]net.Conn{}
	reads  = map[string]*bufio.Reader{}
	dialed []string
)

// roundTrip sends msg to the node at, on its connection, and
// reads one whole reply, printing both.
func roundTrip(at, msg string) string {
	addr = at // conn.go's errors name the node we talk to
	conn, ok := conns[at]
	if !ok {
		fmt.Println("Connect to", at)
		var err error
		conn, err = net.DialTimeout("tcp", at, timeout)
		if err != nil {
			dialFailed(err)
		}
		conns[at], reads[at] = conn, bufio.NewReader(conn)
		dialed = append(dialed, at)
	}
	conn.SetDeadline(time.Now().Add(timeout))
	fmt.Printf("Send: %q\n", msg)
	send(conn, msg)
	reply, err := readReply(reads[at])
	if err != nil {
		readFailed(err, reply)
	}
	fmt.Printf("Received: %q\n", reply)
	return reply
}

// A slotRange is one entry of the slot map: slots first..last
// live on node (host:port).
type slotRange struct {
	first, last int
	node        string
}

// readSlots walks CLUSTER SLOTS's reply, read whole: an array
// of ranges, each [first, last, master, replicas...], and each
// node [host, port, id, ...].
func readSlots(reply string) []slotRange {
	rest := reply
	// next takes one element off the reply, with the data of a
	// bulk string, and checks its type byte.
	next := func(want byte) string {
		line, after, _ := strings.Cut(rest, "\r\n")
		rest = after
		if line == "" || line[0] != want {
			fail("%s: CLUSTER SLOTS has %q where %q was due",
				addr, line, want)
		}
		if want == '$' {
			n, _ := strconv.Atoi(line[1:])
			if n < 0 || n+2 > len(rest) {
				fail("%s: bad CLUSTER SLOTS reply", addr)
			}
			line, rest = "$"+rest[:n], rest[n+2:]
		}
		return line[1:]
	}
	number := func(want byte) int {
		n, err := strconv.Atoi(next(want))
		if err != nil || n < 0 {
			fail("%s: bad CLUSTER SLOTS reply", addr)
		}
		return n
	}
	// skip takes one element off, however it nests.
	var skip func()
	skip = func() {
		if rest == "" {
			fail("%s: CLUSTER SLOTS ends too soon", addr)
		}
		if rest[0] == '*' {
			for range number('*') {
				skip()
			}
			return
		}
		next(rest[0])
	}
	var ranges []slotRange
	for range number('*') {
		size := number('*') // 2 slots, a master, its replicas
		s := slotRange{first: number(':'), last: number(':')}
		fields := number('*') // host, port, id, ...
		host, port := next('$'), number(':')
		s.node = net.JoinHostPort(host, strconv.Itoa(port))
		for range fields - 2 {
			skip() // the id, and more names
		}
		for range size - 3 {
			skip() // a replica
		}
		fmt.Printf("slots %d-%d: %s\n", s.first, s.last, s.node)
		ranges = append(ranges, s)
	}
	return ranges
}

// ownerOf hashes a key to its slot, as every node does, finds
// the node of that slot in the map, and says so.
func ownerOf(ranges []slotRange, key string) string {
	slot := slotOf(key)
	for _, s := range ranges {
		if slot >= s.first && slot <= s.last {
			fmt.Printf("%s: slot %d, node %s\n", key, slot, s.node)
			return s.node
		}
	}
	fail("no node serves slot %d of %q", slot, key)
	return ""
}

// slotOf is a key's hash slot: CRC16 of the key, mod 16384. If
// the key has a hash tag, a { followed by a } with something in
// between, only that something is hashed.
func slotOf(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	// CRC16, the XMODEM variant: polynomial 0x1021, from 0,
	// eight shifts for each byte.
	var crc uint16
	for _, b := range []byte(key) {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc % 16384)
}
