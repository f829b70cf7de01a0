package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the child die with this process, so that a driver
// that is killed leaves no server behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
