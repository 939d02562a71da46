//go:build !windows

package main

import "os"

// stopProcess asks the subscriber to stop as Ctrl-C does: SIGINT.
func stopProcess(p *os.Process) error { return p.Signal(os.Interrupt) }
