//go:build !unix && !windows

package main

import (
	"errors"
	"net"
	"os"
	"syscall"
)

const canPassSocket = false

func socketFile(c net.Conn) (*os.File, error) {
	return nil, errors.New("sockets cannot be passed to a child here")
}

func shutdownSocket(c net.Conn) { c.Close() }

func childAttr() *syscall.SysProcAttr { return nil }
