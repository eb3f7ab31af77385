//go:build windows

package platform

import (
	"net"
	"os"

	"golang.org/x/sys/windows"
)

// StdinSocketAddrs asks winsock for the addresses of the socket handle a
// spawner may have given as stdin (Go cannot make a net.Conn of it on
// Windows); nil when stdin is no socket.
func StdinSocketAddrs() (local, remote net.Addr) {
	h := windows.Handle(os.Stdin.Fd())
	if sa, err := windows.Getsockname(h); err == nil {
		local = sockaddrAddr(sa)
	}
	if sa, err := windows.Getpeername(h); err == nil {
		remote = sockaddrAddr(sa)
	}
	return local, remote
}

func sockaddrAddr(sa windows.Sockaddr) net.Addr {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *windows.SockaddrInet6:
		ip := make(net.IP, net.IPv6len)
		copy(ip, sa.Addr[:])
		return &net.TCPAddr{IP: ip, Port: sa.Port}
	}
	return nil
}
