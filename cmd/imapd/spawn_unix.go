//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// setChildAttrs puts a session process in its own process group: a
// terminal's ^C reaches the daemon only, which passes SIGTERM on once.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
