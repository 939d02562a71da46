package main

import "os"

// stopProcess stops the subscriber. Windows cannot send Ctrl-C to one
// process, so the subscriber is killed and says nothing; the demo's
// transcript then ends one line early.
func stopProcess(p *os.Process) error { return p.Kill() }
