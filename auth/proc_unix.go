//go:build unix

package auth

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the authenticator in a process group of its own so that
// killProc also ends any helper process a script started.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killProc kills the authenticator's process group, and the process itself
// in case it left the group.
func killProc(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
