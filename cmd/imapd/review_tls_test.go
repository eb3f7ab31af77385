package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// inetd mode with STARTTLS configured and a certificate file that is
// garbage (read after the greeting, TLSLater): commands sent before the
// greeting was even read find no STARTTLS and LOGIN is not blocked by it;
// a client gone at once still leaves the problem in the log, and the
// process ends with 0.
func TestReviewInetdLateBrokenCertificate(t *testing.T) {
	for _, gone := range []bool{false, true} {
		t.Run(map[bool]string{false: "commands", true: "gone"}[gone], func(t *testing.T) {
			dir := tempDir(t)
			garbage := filepath.Join(dir, "bad.pem")
			os.WriteFile(garbage, []byte("-----BEGIN CERTIFICATE-----\nnot base64 !\n-----END CERTIFICATE-----\n"), 0o600)
			cmd, c := inetd(t, nil, "-i", writeConfig(t, dir, "imapd_tls_cert "+garbage))
			if gone {
				c.Close()
			} else {
				c.SendRaw("c1 CAPABILITY\r\ns1 STARTTLS\r\nz LOGOUT\r\n")
				c.Greeting("* OK ")
				r := c.Collect("c1")
				if len(r.Untagged) != 1 || strings.Contains(r.Untagged[0], "STARTTLS") || strings.Contains(r.Untagged[0], "LOGINDISABLED") {
					t.Errorf("CAPABILITY: %q", r.Lines())
				}
				if r := c.Collect("s1"); r.Status != "BAD" {
					t.Errorf("STARTTLS: %q", r.Lines())
				}
				if r := c.Collect("z"); r.Status != "OK" {
					t.Errorf("LOGOUT: %q", r.Lines())
				}
				c.ExpectEOF()
			}
			if code := exitCode(t, cmd.Wait()); code != 0 {
				t.Errorf("exit %d", code)
			}
			log, err := os.ReadFile(filepath.Join(dir, "imapd.log"))
			if err != nil || !strings.Contains(string(log), "TLS not offered: ") {
				t.Errorf("imapd.log (%v):\n%s", err, log)
			}
		})
	}
}
