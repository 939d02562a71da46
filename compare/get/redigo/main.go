// Command redigo is get/byhand with redigo: connect to REDIS_ADDR (or
// 127.0.0.1:6379), GET my-key, print the reply.
package main

import (
	"fmt"
	"os"

	"github.com/gomodule/redigo/redis"
)

func main() {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c, err := redis.Dial("tcp", addr)
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
