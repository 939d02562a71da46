package realredis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"redis-by-hand/internal/resp"
)

// A Cluster is a few redis-server nodes joined into one Redis Cluster,
// with the slots split as `redis-cli --cluster create` splits them
// (three nodes: 0-5460, 5461-10922, 10923-16383) and no replicas.
type Cluster struct {
	Nodes []*Server // in slot order: Nodes[0] owns slot 0
	IDs   []string  // their node ids
}

// StartCluster starts n cluster nodes on free loopback ports, each with
// a free port for its cluster bus (--cluster-port: no port+10000 to
// find free), joins them and waits until every node says
// cluster_state:ok. announce, when not nil, gives the port that node i
// is to be known by (cluster-announce-port: a tap in front of it), or
// 0 for its own.
func StartCluster(n int, announce func(i int, addr string) (int, error)) (*Cluster, error) {
	c := &Cluster{}
	fail := func(err error) (*Cluster, error) {
		c.Stop()
		return nil, err
	}
	for i := range n {
		// The bus port is passed like any option: if another program
		// takes it first, redis-server exits at start and Start tries
		// again with other ports.
		var s *Server
		var err error
		for range 5 {
			var bus int
			if bus, err = freePort(); err != nil {
				return fail(err)
			}
			s, err = Start("--cluster-enabled", "yes",
				"--cluster-port", strconv.Itoa(bus),
				"--cluster-node-timeout", "5000")
			if err == nil {
				break
			}
		}
		if err != nil {
			return fail(err)
		}
		c.Nodes = append(c.Nodes, s)
		id, err := query(s.Addr, "CLUSTER", "MYID")
		if err != nil {
			return fail(err)
		}
		c.IDs = append(c.IDs, string(bulkText(id)))
		if announce != nil {
			port, err := announce(i, s.Addr)
			if err != nil {
				return fail(err)
			}
			if port != 0 {
				if err := expectOK(s.Addr, "CONFIG", "SET", "cluster-announce-port", strconv.Itoa(port)); err != nil {
					return fail(err)
				}
			}
		}
	}
	// What redis-cli --cluster create does: slots, a config epoch of
	// its own for each node, then every node meets the first.
	per := float64(16384) / float64(n)
	for i, s := range c.Nodes {
		first, last := int(float64(i)*per+0.5), int(float64(i+1)*per+0.5)-1
		if i == n-1 {
			last = 16383
		}
		if err := expectOK(s.Addr, "CLUSTER", "ADDSLOTSRANGE", strconv.Itoa(first), strconv.Itoa(last)); err != nil {
			return fail(err)
		}
		if err := expectOK(s.Addr, "CLUSTER", "SET-CONFIG-EPOCH", strconv.Itoa(i+1)); err != nil {
			return fail(err)
		}
	}
	for _, s := range c.Nodes[1:] {
		host, port, _ := net.SplitHostPort(s.Addr)
		bus := s.busPort()
		if err := expectOK(c.Nodes[0].Addr, "CLUSTER", "MEET", host, port, bus); err != nil {
			return fail(err)
		}
	}
	// Wait for the event: every node sees every slot served.
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range c.Nodes {
		for {
			info, err := query(s.Addr, "CLUSTER", "INFO")
			if err == nil && bytes.Contains(info, []byte("cluster_state:ok\r\n")) {
				break
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("the cluster did not reach cluster_state:ok within 30s (%s: %q, %v)", s.Addr, info, err))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return c, nil
}

// Stop stops every node.
func (c *Cluster) Stop() {
	for _, s := range c.Nodes {
		s.Stop()
	}
}

// busPort is the --cluster-port the server was started with.
func (s *Server) busPort() string {
	for i, a := range s.cmd.Args {
		if a == "--cluster-port" && i+1 < len(s.cmd.Args) {
			return s.cmd.Args[i+1]
		}
	}
	return ""
}

// query sends one command to addr and returns the raw reply.
func query(addr string, args ...string) ([]byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var argv [][]byte
	for _, a := range args {
		argv = append(argv, []byte(a))
	}
	if _, err := c.Write(resp.AppendCommand(nil, argv...)); err != nil {
		return nil, err
	}
	return resp.ReadReply(bufio.NewReader(c))
}

func expectOK(addr string, args ...string) error {
	reply, err := query(addr, args...)
	if err == nil && string(reply) != "+OK\r\n" {
		err = errors.New(string(bytes.TrimSpace(reply)))
	}
	if err != nil {
		return fmt.Errorf("%s: %v: %v", addr, args, err)
	}
	return nil
}

// bulkText is the data of a bulk string reply, "$n\r\n...\r\n".
func bulkText(reply []byte) []byte {
	_, rest, _ := bytes.Cut(reply, []byte("\r\n"))
	return bytes.TrimSuffix(rest, []byte("\r\n"))
}
