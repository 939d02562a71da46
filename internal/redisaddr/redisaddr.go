// Package redisaddr reads REDIS_ADDR for the tools around the lessons,
// the way every lesson reads it (each lesson carries its own copy).
package redisaddr

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// defaultAddr is where the lessons and tools look when REDIS_ADDR is
// unset.
const defaultAddr = "127.0.0.1:6379"

// FromEnv returns REDIS_ADDR, or defaultAddr; an error says when it is not
// host:port.
func FromEnv() (string, error) {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		return defaultAddr, nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("REDIS_ADDR %q is not host:port", addr)
	}
	return addr, nil
}

// Refused reports whether a dial failed because nothing listens there:
// ECONNREFUSED, or WSAECONNREFUSED (10061) on Windows, where
// syscall.ECONNREFUSED does not match.
func Refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.Errno(10061))
}

// InUse reports whether a listen failed because the address is taken:
// EADDRINUSE, or WSAEADDRINUSE (10048) on Windows.
func InUse(err error) bool {
	return errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.Errno(10048))
}

// StartOne says how to get a Redis at addr, for a "no Redis at ..."
// message: make redis serves REDIS_ADDR, but only on this machine.
// The lessons' conn.go says the same.
func StartOne(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	switch {
	case addr == defaultAddr:
		return "start one with: make redis"
	case host == "localhost" || ip != nil && ip.IsLoopback():
		return "start one with: REDIS_ADDR=" + addr + " make redis"
	}
	return "is Redis running there, and is REDIS_ADDR right?"
}
