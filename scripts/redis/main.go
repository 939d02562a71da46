// Command redis serves the embedded Redis (the sandbox) on REDIS_ADDR,
// or 127.0.0.1:6379, until Ctrl-C. It needs nothing installed but Go:
//
//	go run ./scripts/redis
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"redis-by-hand/internal/redisaddr"
	"redis-by-hand/internal/sandbox"
)

func main() {
	// Listen for Ctrl-C first: a signal that comes while the server
	// starts must stop it cleanly too, not kill the process.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)

	addr, err := redisaddr.FromEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "redis: %v\n", err)
		os.Exit(1)
	}
	srv, err := sandbox.Start(addr)
	if err != nil {
		if redisaddr.InUse(err) {
			fmt.Fprintf(os.Stderr, "redis: %s is already in use; a Redis may "+
				"already be running there (use it, or pick another port: "+
				"REDIS_ADDR=127.0.0.1:6380 make redis)\n", addr)
		} else {
			fmt.Fprintf(os.Stderr, "redis: cannot listen on %s: %v\n", addr, err)
		}
		os.Exit(1)
	}
	fmt.Printf("Embedded Redis listening on %s; press Ctrl-C to stop.\n", srv.Addr())
	if srv.Exposed() {
		fmt.Println("It listens beyond this machine's loopback: clients from " +
			"other hosts get -DENIED, as from redis-server in protected mode.")
	}

	<-stop
	// A second Ctrl-C ends the process at once, should stopping hang.
	signal.Stop(stop)
	srv.Close()
	fmt.Println("Stopped.")
}
