package server

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"imapd/platform"
)

// StdioConn returns the client connection of an inetd-started process: fd 0
// as a net.Conn when it is a socket (with addresses and deadlines), else an
// adapter reading stdin and writing stdout (tests, imapdsvc pipes, ssh), with
// the socket's addresses when the platform can find them, else "pipe"
// addresses. It also makes a write to a vanished client an EPIPE error
// instead of a fatal SIGPIPE, so the session still closes cleanly. The
// error is reserved: today every fd 0 is tried.
func StdioConn() (net.Conn, error) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	// Only a socket is given to net.FileConn: on anything else it would
	// leave the shared descriptor non-blocking behind os.Stdin's back. A
	// handle that cannot even be stat'ed is tried as a pipe: reading it
	// will tell.
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.FileConn(os.Stdin); err == nil {
			return &stdioSocket{Conn: c, stdout: sameFile(os.Stdin, os.Stdout)}, nil
		}
	}
	local, remote := platform.StdinSocketAddrs()
	if local == nil {
		local = envAddr("IMAPD_LOCAL_ADDR")
	}
	if remote == nil {
		remote = envAddr("IMAPD_REMOTE_ADDR")
	}
	return newPipeConn(os.Stdin, os.Stdout, local, remote), nil
}

func sameFile(a, b *os.File) bool {
	fa, err := a.Stat()
	if err != nil {
		return false
	}
	fb, err := b.Stat()
	return err == nil && os.SameFile(fa, fb)
}

// stdioSocket is fd 0's socket (a dup of it). Closing it also closes fd 0
// (and fd 1 if it is the same socket) and shuts down the sending side, so
// the client sees the end even though fd 2 may still hold the socket.
type stdioSocket struct {
	net.Conn
	stdout bool
}

// CloseWrite shuts the sending side down, so that conn.Close can drain
// the client's input before closing (no reset that would lose the BYE).
func (s *stdioSocket) CloseWrite() error {
	if cw, ok := s.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

func (s *stdioSocket) Close() error {
	if cw, ok := s.Conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	err := s.Conn.Close()
	os.Stdin.Close()
	if s.stdout {
		os.Stdout.Close()
	}
	return err
}

// pipeAddr names a pipe end as a net.Addr.
type pipeAddr string

func (a pipeAddr) Network() string { return "pipe" }
func (a pipeAddr) String() string  { return string(a) }

// pipeConn is a net.Conn over a reader and a writer. It has no deadlines
// (the server then times reads out with a goroutine).
type pipeConn struct {
	r             io.ReadCloser
	w             io.WriteCloser
	local, remote net.Addr
	closeOnce     sync.Once
	closeErr      error
}

func newPipeConn(r io.ReadCloser, w io.WriteCloser, local, remote net.Addr) *pipeConn {
	if local == nil {
		local = pipeAddr("stdout")
	}
	if remote == nil {
		remote = pipeAddr("stdin")
	}
	return &pipeConn{r: r, w: w, local: local, remote: remote}
}

func (p *pipeConn) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	return n, closedErr(err)
}

func (p *pipeConn) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	return n, closedErr(err)
}

func closedErr(err error) error {
	if err != nil && errors.Is(err, os.ErrClosed) {
		return errClosed
	}
	return err
}

func (p *pipeConn) Close() error {
	p.closeOnce.Do(func() {
		errW := p.w.Close()
		errR := p.r.Close()
		p.closeErr = errors.Join(errW, errR)
	})
	return p.closeErr
}

func (p *pipeConn) LocalAddr() net.Addr              { return p.local }
func (p *pipeConn) RemoteAddr() net.Addr             { return p.remote }
func (p *pipeConn) SetDeadline(time.Time) error      { return os.ErrNoDeadline }
func (p *pipeConn) SetReadDeadline(time.Time) error  { return os.ErrNoDeadline }
func (p *pipeConn) SetWriteDeadline(time.Time) error { return os.ErrNoDeadline }

// envAddr reads an address imapdsvc put in the environment (host:port, an
// IP literal: no name lookup). Only where imapd is not setuid: on unix a
// local user could otherwise pick the addresses user_ip_address and
// IP-based vdomains look at.
func envAddr(name string) net.Addr {
	if os.Getuid() != os.Geteuid() {
		return nil
	}
	ap, err := netip.ParseAddrPort(os.Getenv(name))
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
