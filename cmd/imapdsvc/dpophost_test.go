package main

import (
	"net"
	"os"
	"testing"
	"time"

	"imapd/internal/spawn"
)

// -listen with only a port binds to dpop_host, as imapd -listen does.
func TestListenDpopHost(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	conf, _, _ := writeConf(t, tempDir(t))
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("dpop_host 127.0.0.1\r\n")
	f.Close()
	a, err := start(options{config: conf, listen: ":0", imapd: exe, max: 10, grace: time.Minute, relay: !spawn.CanPassSocket}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.stop("test")
	if host, _, err := net.SplitHostPort(a.ln.Addr().String()); err != nil || host != "127.0.0.1" {
		t.Errorf("listening on %s, want dpop_host 127.0.0.1", a.ln.Addr())
	}
}
