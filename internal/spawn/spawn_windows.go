//go:build windows

package spawn

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/windows"
)

// CanPassSocket: Go cannot make a socket a child's standard input on
// Windows (TCPConn.File is not supported): a Group relays.
const CanPassSocket = false

func socketFile(c net.Conn) (*os.File, error) {
	return nil, errors.New("a socket cannot be passed to a child on Windows")
}

func shutdownSocket(c net.Conn) { c.Close() }

// setProcAttr: no console window (a service would otherwise make a
// console, and a conhost process, per connection) and a process group of
// its own.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.CreationFlags |= windows.CREATE_NO_WINDOW | windows.CREATE_NEW_PROCESS_GROUP
}
