package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"imapd/internal/selfsigned"

	"imapd/demo"
)

// demoAddr and demoTLSAddr are where -demo listens (plain with STARTTLS, and
// implicit TLS) unless -listen and -listen-tls say otherwise.
const (
	demoAddr    = "127.0.0.1:1143"
	demoTLSAddr = "127.0.0.1:1993"
)

// setupDemo builds a demo installation in a temporary directory, with a
// self-signed certificate for localhost, and says how to use it. cryptauth
// must sit beside imapd (make build puts it there).
func setupDemo(addr, tlsAddr string) (conf string, cleanup func(), err error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	name := "cryptauth"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	cryptauth := filepath.Join(filepath.Dir(self), name)
	if _, err := os.Stat(cryptauth); err != nil {
		if cryptauth, err = exec.LookPath(name); err != nil {
			return "", nil, fmt.Errorf("the demo authenticates with cryptauth, which must sit beside imapd (run `make demo`): %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "imapd-demo-")
	if err != nil {
		return "", nil, err
	}
	certFile := filepath.Join(dir, "imapd.pem")
	if err := writeDemoCert(certFile, hostOf(addr), hostOf(tlsAddr)); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	site, err := demo.Setup(dir, cryptauth, "imapd_tls_cert "+certFile)
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	fmt.Fprintf(os.Stderr, "imapd demo: a DMail installation in %s\n", dir)
	fmt.Fprintf(os.Stderr, "  dmail.conf  %s\n  spool       %s\n  log         %s\n", site.Config, site.Spool, filepath.Join(site.Log, "imapd.log"))
	fmt.Fprintf(os.Stderr, "  users:")
	for _, u := range demo.Users {
		fmt.Fprintf(os.Stderr, " %s/%s", u.Name, u.Password)
	}
	fmt.Fprintf(os.Stderr, " (checked by %s over a crypt()ed password file)\n", cryptauth)
	fmt.Fprintf(os.Stderr, "  try:  telnet %s %s  then  a login alice alice-secret / b select inbox / c logout\n", hostOf(addr), portOf(addr))
	fmt.Fprintf(os.Stderr, "  or:   python3 -c \"import imaplib; m=imaplib.IMAP4('%s',%s); m.login('alice','alice-secret'); print(m.select('INBOX'))\"\n", hostOf(addr), portOf(addr))
	fmt.Fprintf(os.Stderr, "  TLS:  a self-signed certificate for localhost in %s\n", certFile)
	fmt.Fprintf(os.Stderr, "        openssl s_client -quiet -CAfile %s -starttls imap -connect %s:%s\n", certFile, hostOf(addr), portOf(addr))
	fmt.Fprintf(os.Stderr, "        openssl s_client -quiet -CAfile %s -connect %s:%s       (implicit TLS)\n", certFile, hostOf(tlsAddr), portOf(tlsAddr))
	fmt.Fprintf(os.Stderr, "  stop with Ctrl-C; the directory is removed then.\n")
	return site.Config, func() { os.RemoveAll(dir) }, nil
}

// writeDemoCert writes a self-signed certificate and its key (one PEM file,
// as stunnel's imapd.pem) for localhost and the demo's addresses, valid for
// a day.
func writeDemoCert(path string, hosts ...string) error {
	names := []string{"localhost", "127.0.0.1", "::1"}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip == nil && h != "localhost" || ip != nil && !ip.IsLoopback() {
			names = append(names, h)
		}
	}
	cert, err := selfsigned.New("localhost", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), names...)
	if err != nil {
		return fmt.Errorf("demo certificate: %w", err)
	}
	pemData, err := cert.PEM()
	if err != nil {
		return fmt.Errorf("demo certificate: %w", err)
	}
	if err := os.WriteFile(path, pemData, 0o600); err != nil {
		return fmt.Errorf("demo certificate: %w", err)
	}
	return nil
}

func hostOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			if i == 0 {
				return "127.0.0.1"
			}
			return addr[:i]
		}
	}
	return addr
}

func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return "143"
}
