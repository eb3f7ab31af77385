//go:build !unix && !windows

package spawn

import (
	"errors"
	"net"
	"os"
	"os/exec"
)

// CanPassSocket: elsewhere a Group relays.
const CanPassSocket = false

func socketFile(c net.Conn) (*os.File, error) {
	return nil, errors.New("sockets cannot be passed to a child here")
}

func shutdownSocket(c net.Conn) { c.Close() }

func setProcAttr(cmd *exec.Cmd) {}
