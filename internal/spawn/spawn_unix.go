//go:build unix

package spawn

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
)

// CanPassSocket: on unix a child gets the socket itself as stdin and
// stdout.
const CanPassSocket = true

// socketFile duplicates the connection's socket for the child.
func socketFile(c net.Conn) (*os.File, error) {
	f, ok := c.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", c)
	}
	return f.File()
}

// shutdownSocket shuts the socket down in both directions, for the child
// too: its next read sees end of file.
func shutdownSocket(c net.Conn) {
	type halfCloser interface {
		CloseRead() error
		CloseWrite() error
	}
	if h, ok := c.(halfCloser); ok {
		h.CloseRead()
		h.CloseWrite()
	} else {
		c.Close()
	}
}

// setProcAttr puts the child in its own process group.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}
