package realredis

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill redis-server when the test program
// that started it ends without stopping it: a lesson's os.Exit inside
// a test, a panic, a kill. (Elsewhere, such a server lives on.)
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
