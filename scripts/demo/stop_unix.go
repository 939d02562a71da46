//go:build !windows

package main

import "os"

// stopProcess asks a job to stop as Ctrl-C does: SIGINT. It
// reports whether the job may end cleanly, as it does here.
func stopProcess(p *os.Process) (clean bool) {
	return p.Signal(os.Interrupt) == nil
}
