//go:build unix

package main

import (
	"os"
	"syscall"
)

// inheritedPipe returns descriptor fd as a file when it is a pipe, marked
// close-on-exec (the authenticator must not inherit it); nil otherwise,
// leaving the descriptor alone.
func inheritedPipe(fd int) *os.File {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFIFO {
		return nil
	}
	syscall.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), "login report pipe")
}
