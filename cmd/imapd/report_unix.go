//go:build unix

package main

import (
	"fmt"
	"net"
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

// inheritedSocket returns descriptor fd as a connection when it is a
// socket (the descriptor itself is closed: the connection holds a copy
// marked close-on-exec); nil otherwise, leaving the descriptor alone.
func inheritedSocket(fd int) net.Conn {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFSOCK {
		return nil
	}
	c, err := fileConn(fd)
	if err != nil {
		return nil
	}
	return c
}

// fileConn returns a connection on a copy of socket descriptor fd (marked
// close-on-exec), and closes fd.
func fileConn(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "auth relay")
	defer f.Close()
	return net.FileConn(f)
}

// socketPair returns a connected pair of unix sockets: the daemon's end as
// a connection, the session process's as a file for cmd.ExtraFiles. Both
// are close-on-exec (ExtraFiles are passed regardless).
func socketPair() (net.Conn, *os.File, error) {
	syscall.ForkLock.RLock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	c, err := fileConn(fds[0])
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	return c, os.NewFile(uintptr(fds[1]), "auth relay"), nil
}
