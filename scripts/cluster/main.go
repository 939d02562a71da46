// Command cluster serves an embedded Redis Cluster until Ctrl-C:
// three nodes on loopback, with the 16384 slots split as
// `redis-cli --cluster create` splits them, for lesson 13. Node 1
// listens on REDIS_ADDR, or 127.0.0.1:7000, and nodes 2 and 3 on
// the next two ports (port 0: three free ports). It needs nothing
// installed but Go:
//
//	go run ./scripts/cluster
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"redis-by-hand/internal/redisaddr"
	"redis-by-hand/internal/sandbox"
)

// defaultAddr is node 1's address when REDIS_ADDR is unset: the
// port of Redis's own cluster tutorial, away from make redis's.
const defaultAddr = "127.0.0.1:7000"

func main() {
	// Listen for Ctrl-C first: a signal that comes while the nodes
	// start must stop them cleanly too, not kill the process.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)

	addr := defaultAddr
	if os.Getenv("REDIS_ADDR") != "" {
		var err error
		if addr, err = redisaddr.FromEnv(); err != nil {
			fail("%v", err)
		}
	}
	host, port, _ := net.SplitHostPort(addr)
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65533 {
		fail("REDIS_ADDR %q: the port must be a number up to 65533 "+
			"(the nodes take it and the next two)", addr)
	}
	addrs := make([]string, 3)
	for i := range addrs {
		if p == 0 {
			addrs[i] = net.JoinHostPort(host, "0")
		} else {
			addrs[i] = net.JoinHostPort(host, strconv.Itoa(p+i))
		}
	}
	c, err := sandbox.StartCluster(addrs...)
	if err != nil {
		var op *net.OpError
		if redisaddr.InUse(err) && errors.As(err, &op) && op.Addr != nil {
			fail("%s is already in use; a Redis may already be "+
				"running there (pick other ports: "+
				"REDIS_ADDR=127.0.0.1:7100 make cluster)", op.Addr)
		}
		fail("cannot start the cluster on %s: %v", addr, err)
	}
	fmt.Println("Embedded Redis Cluster: three nodes, no replicas.")
	for i, a := range c.Addrs() {
		first, last := c.Slots(i)
		fmt.Printf("  node %d  %s  slots %d-%d\n", i+1, a, first, last)
	}
	fmt.Printf("Point a lesson at any node: REDIS_ADDR=%s go run ./13-cluster\n", c.Addrs()[0])
	fmt.Println("Press Ctrl-C to stop all three.")
	for _, s := range c.Nodes {
		if s.Exposed() {
			fmt.Println("They listen beyond this machine's loopback: clients " +
				"from other hosts get -DENIED, as from redis-server in protected mode.")
			break
		}
	}

	<-stop
	c.Close()
	fmt.Println("Stopped.")
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "cluster: "+format+"\n", a...)
	os.Exit(1)
}
