//go:build !linux

package redistest

import "os/exec"

// dieWithParent does nothing where the system cannot tie a child's life to
// its parent's; Close stops the server.
func dieWithParent(cmd *exec.Cmd) {}
