//go:build windows

package main

import (
	"errors"
	"net"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// canPassSocket: Go cannot make a socket a child's standard input on
// Windows (TCPConn.File is not supported), so imapdsvc relays.
const canPassSocket = false

func socketFile(c net.Conn) (*os.File, error) {
	return nil, errors.New("a socket cannot be passed to a child on Windows")
}

func shutdownSocket(c net.Conn) { c.Close() }

// childAttr: imapd gets no console window (a service would otherwise make
// a console, and a conhost process, per connection) and its own process
// group (a Ctrl-C in imapdsvc's console stops imapdsvc gracefully, not the
// sessions).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NO_WINDOW | windows.CREATE_NEW_PROCESS_GROUP}
}
