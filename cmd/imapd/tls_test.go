package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTLSFlags(t *testing.T) {
	dir := tempDir(t)
	conf := writeConfig(t, dir)
	cmd, stderr := imapd(t, "-i", conf, "-tls", "-listen", "127.0.0.1:0")
	if code := exitCode(t, cmd.Run()); code != 2 || !strings.Contains(stderr.String(), "-tls is for one session") {
		t.Errorf("-tls -listen: exit %d, %s", code, stderr.String())
	}
	cmd, stderr = imapd(t, "-i", conf, "-listen-tls", "127.0.0.1:0")
	if code := exitCode(t, cmd.Run()); code != 1 || !strings.Contains(stderr.String(), "-listen-tls needs a usable imapd_tls_cert") {
		t.Errorf("-listen-tls without a certificate: exit %d, %s", code, stderr.String())
	}
}

// imapd -tls without a usable certificate: nothing can be said to a client
// that expects TLS; the reason goes to the log and imapd exits 1.
func TestInetdTLSWithoutCertificate(t *testing.T) {
	dir := tempDir(t)
	garbage := filepath.Join(dir, "bad.pem")
	os.WriteFile(garbage, []byte("not a certificate\n"), 0o600)
	cmd, c := inetd(t, nil, "-i", writeConfig(t, dir, "imapd_tls_cert "+garbage), "-tls")
	c.ExpectEOF()
	if code := exitCode(t, cmd.Wait()); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	log, err := os.ReadFile(filepath.Join(dir, "imapd.log"))
	if err != nil || !strings.Contains(string(log), "TLS not offered: ") || !strings.Contains(string(log), "cannot start TLS") {
		t.Errorf("imapd.log (%v):\n%s", err, log)
	}
}
