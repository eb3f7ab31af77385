//go:build !windows

package server

import "net"

// stdioAddrs: on unix a socket on fd 0 is found by net.FileConn; here fd 0
// is a pipe or a terminal.
func stdioAddrs() (local, remote net.Addr) { return nil, nil }
