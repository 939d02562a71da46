package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A Cluster is a few sandboxes that answer as the nodes of one Redis
// Cluster do: 16384 hash slots, split between the nodes in order, as
// `redis-cli --cluster create` splits them (three nodes: 0-5460,
// 5461-10922, 10923-16383), no replicas. Each node keeps the keys of
// its own slots in a miniredis of its own. It answers -MOVED for a
// key that another node owns, -CROSSSLOT for a command (or a
// transaction) whose keys hash to different slots, and CLUSTER
// SLOTS, SHARDS, NODES, INFO, KEYSLOT, MYID, COUNTKEYSINSLOT and
// GETKEYSINSLOT, as redis-server 7.0 does (TestClusterDifferential). Its shape is fixed: there is no cluster bus,
// no failover, no resharding (docs/differences.md).
type Cluster struct {
	Nodes []*Server // in slot order: node 1 owns slot 0

	mu    sync.Mutex
	nodes []*clusterNode
}

// A clusterNode is what one node of a cluster knows of itself.
type clusterNode struct {
	cluster    *Cluster
	index      int    // 0 for the node that owns slot 0
	id         string // 40 hex digits, new at each start
	host, port string // the address it is known by (Announce)
	first      int    // its slots: first..last
	last       int

	// The slot of each client's transaction so far, -1 for more
	// than one; the cluster's lock guards it.
	multi map[*conn]int
}

// numSlots is Redis Cluster's number of hash slots.
const numSlots = 16384

// StartCluster starts one node on each address ("127.0.0.1:0" picks
// a free port), and splits the slots between them in that order.
func StartCluster(addrs ...string) (*Cluster, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("a cluster needs at least one node")
	}
	c := &Cluster{}
	for i, addr := range addrs {
		s, err := Start(addr)
		if err != nil {
			c.Close()
			return nil, err
		}
		id := make([]byte, 20)
		rand.Read(id)
		host, port, _ := net.SplitHostPort(s.Addr())
		// redis-cli's split: each node gets numSlots/n slots,
		// rounded, the last one what is left.
		per := float64(numSlots) / float64(len(addrs))
		n := &clusterNode{
			cluster: c, index: i, id: hex.EncodeToString(id),
			host: host, port: port,
			first: int(float64(i)*per + 0.5),
			last:  int(float64(i+1)*per+0.5) - 1,
		}
		if i == 0 {
			n.first = 0
		}
		if i == len(addrs)-1 {
			n.last = numSlots - 1
		}
		s.cluster = n
		c.Nodes = append(c.Nodes, s)
		c.nodes = append(c.nodes, n)
	}
	return c, nil
}

// Announce makes node i known by addr instead of its own address, in
// -MOVED and CLUSTER replies: a tap in front of it, as
// cluster-announce-ip and cluster-announce-port do for redis-server.
func (c *Cluster) Announce(i int, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes[i].host, c.nodes[i].port = host, port
	return nil
}

// Addrs are the nodes' addresses, as they are known, in slot order.
func (c *Cluster) Addrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, net.JoinHostPort(n.host, n.port))
	}
	return addrs
}

// IDs are the nodes' ids, in slot order.
func (c *Cluster) IDs() []string {
	var ids []string
	for _, n := range c.nodes {
		ids = append(ids, n.id)
	}
	return ids
}

// Slots are the first and last slot of node i.
func (c *Cluster) Slots(i int) (first, last int) {
	return c.nodes[i].first, c.nodes[i].last
}

// Close stops every node.
func (c *Cluster) Close() {
	for _, s := range c.Nodes {
		s.Close()
	}
}

// owner is the node that owns slot, and the address it is known by.
func (c *Cluster) owner(slot int) (n *clusterNode, addr string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		if slot >= n.first && slot <= n.last {
			return n, n.host + ":" + n.port
		}
	}
	panic("no node owns slot " + strconv.Itoa(slot))
}

// keySlot is Redis Cluster's hash slot of a key: CRC16 (XMODEM) of
// the key mod 16384, or of its hash tag, what is between the first {
// and the first } after it, when that is not empty.
func keySlot(key []byte) int {
	if i := strings.IndexByte(string(key), '{'); i >= 0 {
		if j := strings.IndexByte(string(key[i+1:]), '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for _, b := range key {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % numSlots
}

// A keySpec says where a command's keys are (keySpecs, from Redis
// 7.0's COMMAND): its arity, first and last key, and step.
type keySpec struct{ arity, first, last, step int }

// keys are the arguments of argv that are keys, or none when the
// command has none, or the wrong number of arguments (it fails then
// on any node).
func keys(name string, argv [][]byte) [][]byte {
	k, ok := keySpecs[name]
	if !ok || !arityOK(k.arity, len(argv)) {
		return nil
	}
	last := k.last
	if last < 0 {
		last += len(argv)
	}
	var ks [][]byte
	for i := k.first; i <= last && i < len(argv); i += k.step {
		ks = append(ks, argv[i])
	}
	return ks
}

// clusterRun is the hook that makes a sandbox a cluster node, called
// for every known command before it runs. It answers what a node
// answers on its own (CLUSTER, ASKING, a redirect), and reports
// whether it did. A sandbox that is not a node answers CLUSTER,
// ASKING, READONLY and READWRITE as redis-server does with cluster
// support disabled.
func (c *conn) clusterRun(name string, argv [][]byte) bool {
	node := c.s.cluster
	switch name {
	case "CLUSTER":
		if len(argv) < 2 {
			return false // the usual arity error
		}
		if node == nil {
			sub := strings.ToUpper(string(argv[1]))
			if !clusterSubcommands[sub] {
				return false // miniredis: unknown subcommand
			}
			c.reply("-ERR This instance has cluster support disabled\r\n")
			return true
		}
		node.command(c, argv)
		return true
	case "ASKING", "READONLY", "READWRITE":
		if len(argv) != 1 {
			return false
		}
		if node == nil {
			c.reply("-ERR This instance has cluster support disabled\r\n")
		} else {
			c.reply("+OK\r\n")
		}
		return true
	}
	if node == nil {
		return false
	}
	switch {
	case name == "EXEC" && c.inMulti && node.crossed(c):
		// Each command queued was on this node's slots, but
		// not all on one: Redis refuses the whole transaction.
		c.quietly("DISCARD")
		c.inMulti, c.dirty = false, false
		c.reply("-CROSSSLOT Keys in request don't hash to the same slot\r\n")
		return true
	case name == "EXEC" || name == "DISCARD" || name == "RESET":
		node.crossed(c)
	}
	if name == "SELECT" && len(argv) == 2 {
		n, ok := parseInt(argv[1])
		if ok && n == int64(int32(n)) && n != 0 {
			c.reply("-ERR SELECT is not allowed in cluster mode\r\n")
			return true
		}
		return false
	}
	// The keys must hash to one slot, and this node must own it.
	slot := -1
	for _, k := range keys(name, argv) {
		s := keySlot(k)
		if slot >= 0 && s != slot {
			c.reply("-CROSSSLOT Keys in request don't hash to the same slot\r\n")
			c.dirty = c.inMulti
			return true
		}
		slot = s
	}
	if slot < 0 {
		return false
	}
	if owner, addr := node.cluster.owner(slot); owner != node {
		c.reply("-MOVED " + strconv.Itoa(slot) + " " + addr + "\r\n")
		c.dirty = c.inMulti // Redis then refuses to EXEC
		return true
	}
	if c.inMulti {
		node.queued(c, slot)
	}
	return false
}

// queued notes the slot of a command queued in c's transaction.
func (n *clusterNode) queued(c *conn, slot int) {
	n.cluster.mu.Lock()
	defer n.cluster.mu.Unlock()
	if n.multi == nil {
		n.multi = map[*conn]int{}
	}
	if s, ok := n.multi[c]; ok && s != slot {
		slot = -1 // two slots: EXEC will refuse
	}
	n.multi[c] = slot
}

// crossed reports whether c's transaction holds commands of two
// slots, and forgets its slots: the transaction ends.
func (n *clusterNode) crossed(c *conn) bool {
	n.cluster.mu.Lock()
	defer n.cluster.mu.Unlock()
	s, ok := n.multi[c]
	delete(n.multi, c)
	return ok && s < 0
}

// clusterSubcommands are CLUSTER's subcommands in Redis 7.0.
var clusterSubcommands = map[string]bool{
	"ADDSLOTS": true, "ADDSLOTSRANGE": true, "BUMPEPOCH": true,
	"COUNT-FAILURE-REPORTS": true, "COUNTKEYSINSLOT": true,
	"DELSLOTS": true, "DELSLOTSRANGE": true, "FAILOVER": true,
	"FLUSHSLOTS": true, "FORGET": true, "GETKEYSINSLOT": true,
	"HELP": true, "INFO": true, "KEYSLOT": true, "LINKS": true,
	"MEET": true, "MYID": true, "NODES": true, "REPLICAS": true,
	"REPLICATE": true, "RESET": true, "SAVECONFIG": true,
	"SET-CONFIG-EPOCH": true, "SETSLOT": true, "SHARDS": true,
	"SLAVES": true, "SLOTS": true,
}

// clusterArity is the arity of the subcommands a node serves.
var clusterArity = map[string]int{
	"SLOTS": 2, "SHARDS": 2, "NODES": 2, "INFO": 2, "MYID": 2,
	"KEYSLOT": 3, "COUNTKEYSINSLOT": 3, "GETKEYSINSLOT": 4,
}

// command serves CLUSTER on a node.
func (n *clusterNode) command(c *conn, argv [][]byte) {
	sub := strings.ToUpper(string(argv[1]))
	arity, served := clusterArity[sub]
	switch {
	case !clusterSubcommands[sub]:
		c.reply("-ERR unknown subcommand '" + string(argv[1]) +
			"'. Try CLUSTER HELP.\r\n")
		return
	case !served:
		c.reply("-ERR the embedded cluster cannot change: CLUSTER " +
			sub + " is for a redis-server\r\n")
		return
	case len(argv) != arity:
		c.reply("-ERR wrong number of arguments for 'cluster|" +
			strings.ToLower(sub) + "' command\r\n")
		return
	}
	cl := n.cluster
	cl.mu.Lock()
	nodes := make([]clusterNode, len(cl.nodes))
	for i, m := range cl.nodes {
		nodes[i] = *m
	}
	cl.mu.Unlock()
	switch sub {
	case "SLOTS":
		// One entry per range of slots: first, last, then the
		// master as ip, port, id and (7.0) a map of more names.
		c.reply("*" + strconv.Itoa(len(nodes)) + "\r\n")
		for _, m := range nodes {
			c.reply(fmt.Sprintf("*3\r\n:%d\r\n:%d\r\n*4\r\n%s:%s\r\n%s*0\r\n",
				m.first, m.last, bulk(m.host), m.port, bulk(m.id)))
		}
	case "SHARDS":
		c.reply("*" + strconv.Itoa(len(nodes)) + "\r\n")
		for _, m := range nodes {
			c.reply(fmt.Sprintf("*4\r\n%s*2\r\n:%d\r\n:%d\r\n%s*1\r\n*14\r\n",
				bulk("slots"), m.first, m.last, bulk("nodes")))
			c.reply(bulk("id") + bulk(m.id) + bulk("port") + ":" + m.port + "\r\n" +
				bulk("ip") + bulk(m.host) + bulk("endpoint") + bulk(m.host) +
				bulk("role") + bulk("master") + bulk("replication-offset") + ":0\r\n" +
				bulk("health") + bulk("online"))
		}
	case "NODES":
		var b strings.Builder
		now := time.Now().UnixMilli()
		for _, m := range nodes {
			flags, pong := "master", now
			if m.index == n.index {
				flags, pong = "myself,master", now/1000*1000
			}
			p, _ := strconv.Atoi(m.port)
			fmt.Fprintf(&b, "%s %s:%s@%d %s - 0 %d %d connected %d-%d\n",
				m.id, m.host, m.port, p+10000, flags, pong, m.index+1, m.first, m.last)
		}
		c.reply(bulk(b.String()))
	case "INFO":
		c.reply(bulk(fmt.Sprintf("cluster_state:ok\r\n"+
			"cluster_slots_assigned:%d\r\ncluster_slots_ok:%d\r\n"+
			"cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n"+
			"cluster_known_nodes:%d\r\ncluster_size:%d\r\n"+
			"cluster_current_epoch:%d\r\ncluster_my_epoch:%d\r\n"+
			"total_cluster_links_buffer_limit_exceeded:0\r\n",
			numSlots, numSlots, len(nodes), len(nodes), len(nodes), n.index+1)))
	case "MYID":
		c.reply(bulk(n.id))
	case "KEYSLOT":
		c.reply(":" + strconv.Itoa(keySlot(argv[2])) + "\r\n")
	case "COUNTKEYSINSLOT", "GETKEYSINSLOT":
		slot, ok := parseInt(argv[2])
		count, okCount := int64(0), true
		if sub == "GETKEYSINSLOT" {
			count, okCount = parseInt(argv[3])
		}
		switch {
		case !ok || !okCount:
			c.reply("-ERR value is not an integer or out of range\r\n")
			return
		case slot < 0 || slot >= numSlots:
			c.reply("-ERR Invalid slot\r\n")
			return
		case count < 0:
			c.reply("-ERR Invalid number of keys\r\n")
			return
		}
		var found []string
		for _, k := range c.s.mini.DB(0).Keys() {
			if keySlot([]byte(k)) == int(slot) {
				found = append(found, k)
			}
		}
		if sub == "COUNTKEYSINSLOT" {
			c.reply(":" + strconv.Itoa(len(found)) + "\r\n")
			return
		}
		found = found[:min(len(found), int(count))]
		c.reply("*" + strconv.Itoa(len(found)) + "\r\n")
		for _, k := range found {
			c.reply(bulk(k))
		}
	}
}
