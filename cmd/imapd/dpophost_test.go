package main

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"imapd/internal/imaptest"
)

// -listen with only a port binds to dpop_host.
func TestListenDpopHost(t *testing.T) {
	dir := tempDir(t)
	cmd, _ := imapd(t, "-i", writeConfig(t, dir, "dpop_host 127.0.0.1"), "-listen", ":0")
	cmd.Stderr = nil
	stderr, err := cmd.StderrPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "imapd: listening on ")
	if err != nil || !ok {
		t.Fatalf("first stderr line %q (%v)", line, err)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("listening on %q, want dpop_host 127.0.0.1", addr)
	}
	c := imaptest.Dial(t, addr)
	c.Timeout = limit
	c.Expect("* OK " + hostname() + " IMAP4rev1 vdev server ready")
}
