//go:build !unix

package auth

import "os/exec"

func setProcAttr(cmd *exec.Cmd) {}

// killProc kills the authenticator process (helpers it started are not
// tracked on this platform).
func killProc(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
