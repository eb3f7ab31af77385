package main

import (
	"net"
	"testing"

	"imapd/internal/imaptest"
)

// -listen with only a port binds to dpop_host.
func TestListenDpopHost(t *testing.T) {
	dir := tempDir(t)
	_, addr := startListen(t, "-i", writeConfig(t, dir, "dpop_host 127.0.0.1"), "-listen", ":0")
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("listening on %q, want dpop_host 127.0.0.1", addr)
	}
	c := imaptest.Dial(t, addr)
	c.Timeout = limit
	c.Expect("* OK " + hostname() + " IMAP4rev1 vdev server ready")
}
