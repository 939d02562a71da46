package sandbox

import (
	"bufio"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"redis-by-hand/internal/realredis"
	"redis-by-hand/internal/resp"
)

func TestKeySlot(t *testing.T) {
	// From redis-server 7.0's CLUSTER KEYSLOT.
	for key, want := range map[string]int{
		"my-key": 6802, "hits": 4994, "jobs": 9631, "messages": 8959,
		"": 0, "{}a": 10875, "a{}b{c}": 7353, "{{a}}": 10276,
		"user:{42}:name": 8000, "{user42}:name": 14710, "{my-key}:x": 6802,
		"123456789": 0x31C3 % 16384, // CRC16/XMODEM's check value
	} {
		if got := keySlot([]byte(key)); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// send sends each command (words split on blanks) to addr in turn and
// returns the raw replies.
func send(t *testing.T, addr string, cmds ...string) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	var out []string
	for _, cmd := range cmds {
		var argv [][]byte
		for _, w := range strings.Split(cmd, " ") {
			argv = append(argv, []byte(w))
		}
		if _, err := c.Write(resp.AppendCommand(nil, argv...)); err != nil {
			t.Fatal(err)
		}
		reply, err := resp.ReadReply(r)
		if err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
		out = append(out, string(reply))
	}
	return out
}

func TestCluster(t *testing.T) {
	c, err := StartCluster("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	addrs := c.Addrs()
	got := send(t, addrs[0], "SET my-key 1", "SET hits 1", "MGET my-key hits",
		"CLUSTER KEYSLOT my-key", "SELECT 1", "SELECT 0", "MULTI", "SET my-key 2", "EXEC",
		"GET my-key", "GET hits")
	want := []string{"-MOVED 6802 " + addrs[1] + "\r\n", "+OK\r\n",
		"-CROSSSLOT Keys in request don't hash to the same slot\r\n",
		":6802\r\n", "-ERR SELECT is not allowed in cluster mode\r\n", "+OK\r\n",
		"+OK\r\n", "-MOVED 6802 " + addrs[1] + "\r\n",
		"-EXECABORT Transaction discarded because of previous errors.\r\n",
		"-MOVED 6802 " + addrs[1] + "\r\n", "$1\r\n1\r\n"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("node 1 answered:\n%q\nwant:\n%q", got, want)
	}
	// The key lives on its owner only.
	if got := send(t, addrs[1], "SET my-key 1", "GET my-key"); got[1] != "$1\r\n1\r\n" {
		t.Errorf("node 2: GET my-key after SET = %q", got[1])
	}
	// Announced: the redirect names the address the node is known by.
	if err := c.Announce(1, "127.0.0.1:1234"); err != nil {
		t.Fatal(err)
	}
	if got := send(t, addrs[0], "GET my-key")[0]; got != "-MOVED 6802 127.0.0.1:1234\r\n" {
		t.Errorf("after Announce: %q", got)
	}
}

// TestClusterNotEnabled: a sandbox that is no node answers as a
// redis-server without cluster support.
func TestClusterNotEnabled(t *testing.T) {
	s, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, cmd := range []string{"CLUSTER SLOTS", "CLUSTER KEYSLOT x", "ASKING", "READONLY"} {
		if got := send(t, s.Addr(), cmd)[0]; got != "-ERR This instance has cluster support disabled\r\n" {
			t.Errorf("%s: %q", cmd, got)
		}
	}
}

// realCluster is a three-node redis-server cluster that TestMain starts
// before the tests run, when redis-server 7.0 is on PATH: a node serves
// its slots only 2 s after it starts (CLUSTER_WRITABLE_DELAY), and
// the other tests run meanwhile. done is closed once it is up, or not
// to be.
var realCluster = struct {
	done chan struct{}
	c    *realredis.Cluster
	err  error
}{done: make(chan struct{})}

func startRealCluster() {
	// Only where TestClusterDifferential runs: redis-server 7.0.
	if v, err := realredis.Version(); !realredis.Available() || err != nil || !strings.HasPrefix(v, "7.0.") {
		close(realCluster.done)
		return
	}
	go func() {
		defer close(realCluster.done)
		realCluster.c, realCluster.err = realredis.StartCluster(3, nil)
	}()
}

// TestClusterDifferential sends the same commands to node 1 of a
// three-node redis-server cluster and of the embedded one, and wants
// the same bytes back, with each node's port and id named by its
// place (<port1>, <id1>...): those differ at each start. Its
// differences subtest holds the rows of docs/differences.md about the
// embedded cluster true.
func TestClusterDifferential(t *testing.T) {
	realredis.Require70(t)
	t.Parallel()
	<-realCluster.done
	real, err := realCluster.c, realCluster.err
	if err != nil {
		t.Fatal(err)
	}
	emb, err := StartCluster("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	t.Run("same", func(t *testing.T) { sameBytes(t, real, emb) })
	t.Run("differences", func(t *testing.T) { differences(t, real, emb) })
}

// sameBytes sends the same commands to node 1 of each cluster.
func sameBytes(t *testing.T, real *realredis.Cluster, emb *Cluster) {
	cmds := []string{
		"CLUSTER SLOTS", "CLUSTER SHARDS", "CLUSTER KEYSLOT my-key", "CLUSTER KEYSLOT {}a",
		"CLUSTER KEYSLOT a{}b{c}", "CLUSTER KEYSLOT {{a}}", "CLUSTER MYID",
		"CLUSTER KEYSLOT", "CLUSTER SLOTS x", "CLUSTER", "CLUSTER FOO",
		"SET my-key 1", "SET hits 1", "GET hits", "MSET a 1 b 2", "MSET {u}a 1 {u}b 2",
		"MGET hits {hits}x", "DEL jobs", "EXISTS my-key", "BLPOP hits jobs 1", "GET",
		"SELECT 1", "SELECT x", "SELECT 0", "ASKING", "READONLY", "READWRITE",
		"CLUSTER COUNTKEYSINSLOT 4994", "CLUSTER COUNTKEYSINSLOT x",
		"CLUSTER COUNTKEYSINSLOT 16384", "CLUSTER GETKEYSINSLOT 4994 10",
		"MULTI", "SET hits 2", "SET foo 1", "EXEC", "GET hits",
		"MULTI", "SET hits 3", "SET b 1", "EXEC", "GET hits", "GET b",
		"MULTI", "SET hits 4", "SET {hits}b 1", "EXEC", "GET hits",
		"PING", "DBSIZE",
	}
	realAddrs := make([]string, 3)
	for i, s := range real.Nodes {
		realAddrs[i] = s.Addr
	}
	want := send(t, realAddrs[0], cmds...)
	got := send(t, emb.Addrs()[0], cmds...)
	info := send(t, realAddrs[0], "CLUSTER INFO")[0]
	embInfo := send(t, emb.Addrs()[0], "CLUSTER INFO")[0]
	for i := range cmds {
		w := placeholders(want[i], realAddrs, real.IDs)
		g := placeholders(got[i], emb.Addrs(), emb.IDs())
		if cmds[i] == "CLUSTER SHARDS" {
			// In the order of redis-server's hash table of nodes.
			w, g = sortShards(w), sortShards(g)
		}
		if w != g {
			t.Errorf("%s:\nredis-server: %q\nembedded:     %q", cmds[i], w, g)
		}
	}
	// CLUSTER INFO: the same lines, but for the bus's counts.
	_, text, _ := strings.Cut(info, "\r\n")
	var keep string
	for _, line := range strings.SplitAfter(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		if !strings.HasPrefix(line, "cluster_stats_messages_") {
			keep += line
		}
	}
	if w := bulk(keep); w != embInfo {
		t.Errorf("CLUSTER INFO, without cluster_stats_messages_*:\nredis-server: %q\nembedded:     %q", w, embInfo)
	}
}

// placeholders names each node's port and id in s by the node's place.
func placeholders(s string, addrs, ids []string) string {
	for i, a := range addrs {
		_, port, _ := net.SplitHostPort(a)
		n := strconv.Itoa(i + 1)
		s = strings.ReplaceAll(s, "127.0.0.1:"+port, "127.0.0.1:<port"+n+">")
		s = strings.ReplaceAll(s, ":"+port+"\r\n", ":<port"+n+">\r\n")
		s = strings.ReplaceAll(s, ids[i], "<id"+n+">")
	}
	return s
}

// sortShards puts the shards of a CLUSTER SHARDS reply in order.
func sortShards(reply string) string {
	const shard = "*4\r\n$5\r\nslots\r\n"
	parts := strings.Split(reply, shard)
	slices.Sort(parts[1:])
	return strings.Join(parts, shard)
}

// differences checks the embedded cluster's listed differences: each
// command's last reply, from node 1 of each cluster.
func differences(t *testing.T, real *realredis.Cluster, emb *Cluster) {
	for _, d := range []struct {
		cmds      []string
		real, emb string
	}{
		// Keys that EVAL (and XREAD, ZUNIONSTORE...) find by a count.
		{[]string{"EVAL return(1) 1 my-key"}, "-MOVED 6802 127.0.0.1:<port2>\r\n", ":1\r\n"},
		// CLUSTER in a transaction.
		{[]string{"MULTI", "CLUSTER KEYSLOT x"}, "+QUEUED\r\n", ":16287\r\n"},
		// Changing the cluster.
		{[]string{"CLUSTER SETSLOT 1 STABLE"}, "+OK\r\n",
			"-ERR the embedded cluster cannot change: CLUSTER SETSLOT is for a redis-server\r\n"},
	} {
		addrs := make([]string, 3)
		for i, s := range real.Nodes {
			addrs[i] = s.Addr
		}
		r := send(t, addrs[0], d.cmds...)
		e := send(t, emb.Addrs()[0], d.cmds...)
		got := [2]string{placeholders(r[len(r)-1], addrs, real.IDs),
			placeholders(e[len(e)-1], emb.Addrs(), emb.IDs())}
		if got != [2]string{d.real, d.emb} {
			t.Errorf("%q:\nredis-server: %q, want %q\nembedded:     %q, want %q",
				d.cmds, got[0], d.real, got[1], d.emb)
		}
	}
}
