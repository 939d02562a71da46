// Package redisaddr reads REDIS_ADDR for the tools around the lessons,
// the way every lesson reads it (each lesson carries its own copy).
package redisaddr

import (
	"fmt"
	"net"
	"os"
)

// Default is where the lessons and tools look when REDIS_ADDR is unset.
const Default = "127.0.0.1:6379"

// FromEnv returns REDIS_ADDR, or Default; an error says when it is not
// host:port.
func FromEnv() (string, error) {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		return Default, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("REDIS_ADDR %q is not host:port", addr)
	}
	return addr, nil
}
