//go:build windows

package platform

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// OwnProcessGroup makes cmd start in a process group of its own and
// without a console window (a service would otherwise make a console, and
// a conhost process, per child): a Ctrl-C in this program's console
// reaches this program only.
func OwnProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_NO_WINDOW | windows.CREATE_NEW_PROCESS_GROUP
}

// KillProcessGroup kills p (helpers it started are not tracked on
// Windows).
func KillProcessGroup(p *os.Process) { _ = p.Kill() }
