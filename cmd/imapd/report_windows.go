package main

import (
	"errors"
	"net"
	"os"
)

// inheritedPipe: a daemon starts no session processes on Windows.
func inheritedPipe(int) *os.File { return nil }

// inheritedSocket: a daemon starts no session processes on Windows.
func inheritedSocket(int) net.Conn { return nil }

// socketPair: a daemon starts no session processes on Windows.
func socketPair() (net.Conn, *os.File, error) {
	return nil, nil, errors.New("no session processes on Windows")
}
