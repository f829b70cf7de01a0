package redistest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the server stop when the test process dies, even when
// it is killed before it can stop the server itself.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
