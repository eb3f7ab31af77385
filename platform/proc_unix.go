//go:build unix

package platform

import (
	"os"
	"os/exec"
	"syscall"
)

// OwnProcessGroup makes cmd start in a process group of its own (on
// Windows also without a console window): a Ctrl-C in this program's
// terminal reaches this program only, and KillProcessGroup ends the child
// together with what it started.
func OwnProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// KillProcessGroup kills the process group of p, a child started with
// OwnProcessGroup, and p itself in case it left the group. (On Windows
// only p: helpers it started are not tracked there.)
func KillProcessGroup(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}
