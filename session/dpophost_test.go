package session_test

import (
	"imapd/internal/imaptest"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// pipeDial serves a session on a pipe, whose local address is not an IP
// address (as under imapdsvc without IMAPD_LOCAL_ADDR).
func (e *env) pipeDial() *client {
	e.t.Helper()
	ours, theirs := net.Pipe()
	done := make(chan struct{})
	go func() { e.srv.ServeConn(theirs); close(done) }()
	e.t.Cleanup(func() { ours.Close(); <-done })
	conn := imaptest.New(e.t, ours)
	conn.Timeout = readLimit
	c := &client{Conn: conn, t: e.t, conn: ours}
	c.Greeting = c.Response()
	return c
}

// dpop_host stands for the local address of a connection that has none,
// for IP-based virtual domains; a socket's own address wins.
func TestDpopHostPicksVirtualDomain(t *testing.T) {
	e := newEnv(t, "vdomain shop.example 10.9.9.9 shop", "dpop_host 10.9.9.9")
	if out, err := exec.Command(cryptauthPath, "-add", e.site.Password, "shop.alice", "shop-secret").CombinedOutput(); err != nil {
		t.Fatalf("cryptauth -add: %v %s", err, out)
	}
	c := e.pipeDial()
	c.no("LOGIN alice alice-secret")
	c.ok("LOGIN alice shop-secret")
	c.logout()
	if !strings.Contains(e.logBuf.String(), "shop.alice") {
		t.Errorf("the login was not shop.alice:\n%s", e.logBuf.String())
	}
	// Over TCP the local address is 127.0.0.1: not the virtual domain's.
	c = e.dial()
	c.no("LOGIN alice shop-secret")
	c.ok("LOGIN alice alice-secret")
}

// Without dpop_host a pipe connection gets the main domain.
func TestNoDpopHostOnPipe(t *testing.T) {
	e := newEnv(t, "vdomain shop.example 10.9.9.9 shop")
	c := e.pipeDial()
	c.ok("LOGIN alice alice-secret")
}
