//go:build unix

package main

import (
	"fmt"
	"net"
	"os"
	"syscall"
)

// canPassSocket: on unix imapd gets the socket itself as stdin and stdout.
const canPassSocket = true

// socketFile duplicates the connection's socket for imapd. exec puts the
// duplicate in blocking mode, which the shared file status flags carry over
// to our copy: imapdsvc never reads or writes its copy, it only shuts it
// down and closes it.
func socketFile(c net.Conn) (*os.File, error) {
	f, ok := c.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("%T has no file descriptor", c)
	}
	return f.File()
}

// shutdownSocket shuts the socket down in both directions, for imapd too:
// its next read sees end of file.
func shutdownSocket(c net.Conn) {
	type halfCloser interface {
		CloseRead() error
		CloseWrite() error
	}
	if h, ok := c.(halfCloser); ok {
		h.CloseRead()
		h.CloseWrite()
	}
}

// childAttr puts imapd in its own process group: a Ctrl-C in imapdsvc's
// terminal stops imapdsvc (gracefully), not the sessions.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
