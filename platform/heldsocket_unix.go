//go:build unix

package platform

import (
	"fmt"
	"os"
	"sync"
	"syscall"
)

// HeldSocket is a descriptor of a socket a process passed to a child
// (spawn), kept outside Go's network poller: the parent still cuts the
// connection at shutdown, without being woken by every packet the child and
// the client exchange (a poller registration is edge-triggered on the
// shared socket, so it fires for the child's traffic too).
type HeldSocket struct {
	mu     sync.Mutex
	fd     int
	closed bool // the number may be another file's now
}

// HoldSocket duplicates f's descriptor (close-on-exec, so later children
// do not inherit it); f stays the caller's to close.
func HoldSocket(f *os.File) (*HeldSocket, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("hold socket: %w", err)
	}
	held := -1
	var derr error
	cerr := rc.Control(func(fd uintptr) {
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		held, derr = syscall.Dup(int(fd))
		if derr == nil {
			syscall.CloseOnExec(held)
		}
	})
	if cerr == nil {
		cerr = derr
	}
	if cerr != nil {
		return nil, fmt.Errorf("hold socket: %w", cerr)
	}
	return &HeldSocket{fd: held}, nil
}

// Shutdown shuts the socket down both ways, for the child too: its next
// read sees end of file. After Close it does nothing.
func (h *HeldSocket) Shutdown() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	return syscall.Shutdown(h.fd, syscall.SHUT_RDWR)
}

// Close closes the held descriptor (once).
func (h *HeldSocket) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	return syscall.Close(h.fd)
}
