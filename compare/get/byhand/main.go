// Command byhand is the small program whose size docs/drivers.md
// compares: connect to REDIS_ADDR (or 127.0.0.1:6379), GET my-key,
// print the reply. The same program with each client is beside it.
package main

import (
	"fmt"
	"os"

	"redis-by-hand/compare/byhand"
)

func main() {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c, err := byhand.Dial(addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer c.Close()
	reply, err := c.Do("GET", "my-key")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("%q\n", reply)
}
