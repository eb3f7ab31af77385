package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/internal/selfsigned"
)

// writePEM writes a self-signed certificate valid from notBefore to
// notAfter, and its key, into one file (as stunnel's imapd.pem).
func writePEM(t *testing.T, path string, notBefore, notAfter time.Time) {
	t.Helper()
	c, err := selfsigned.New("test", notBefore, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.PEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func loadConf(t *testing.T, dir, text string) (*Config, []Problem) {
	t.Helper()
	path := filepath.Join(dir, "dmail.conf")
	if err := os.WriteFile(path, []byte("drop_path "+dir+"\n"+text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, problems, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return c, problems
}

func TestTLSCertificate(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	writePEM(t, filepath.Join(dir, "imapd.pem"), now.Add(-time.Hour), now.Add(time.Hour))

	// Not configured.
	c, _ := loadConf(t, dir, "")
	if cert, problems := c.TLSCertificate(now); cert != nil || problems != nil || c.TLSEnabled() {
		t.Errorf("no TLS: %v %v", cert, problems)
	}

	// A relative path, certificate and key in one file.
	c, problems := loadConf(t, dir, "imapd_tls_cert imapd.pem\nimapd_tls_required true\nimapd_tls_min_version 1.3\n")
	if len(problems) != 0 {
		t.Fatalf("problems: %v", problems)
	}
	if c.ImapdTLSCert != filepath.Join(dir, "imapd.pem") || c.TLSKeyFile() != c.ImapdTLSCert || c.TLSMinVersion() != 0x0304 {
		t.Errorf("cert %q key %q version %x", c.ImapdTLSCert, c.TLSKeyFile(), c.TLSMinVersion())
	}
	cert, problems := c.TLSCertificate(now)
	if cert == nil || len(problems) != 0 || cert.Leaf == nil || cert.Leaf.Subject.CommonName != "test" {
		t.Errorf("TLSCertificate: %v %v", cert, problems)
	}

	// Expired: a warning, the certificate is still returned.
	cert, problems = c.TLSCertificate(now.Add(2 * time.Hour))
	if cert == nil || len(problems) != 1 || problems[0].Error || !strings.Contains(problems[0].Message, "expired on") ||
		problems[0].Line != 2 {
		t.Errorf("expired: %v %v", cert, problems)
	}

	// A key file that cannot be read: an error at the key's line.
	c, _ = loadConf(t, dir, "imapd_tls_cert imapd.pem\nimapd_tls_key missing.key\n")
	cert, problems = c.TLSCertificate(now)
	if cert != nil || len(problems) != 1 || !problems[0].Error || problems[0].Line != 3 ||
		!strings.HasPrefix(problems[0].String(), filepath.Join(dir, "dmail.conf")+":3: imapd_tls_key: ") {
		t.Errorf("missing key: %v %v", cert, problems)
	}

	// Settings that cannot work.
	_, problems = loadConf(t, dir, "imapd_tls_key k.pem\nimapd_tls_required true\n")
	if len(problems) != 2 || problems[0].Line != 2 || problems[1].Line != 3 || !problems[0].Error || !problems[1].Error {
		t.Errorf("key without cert, required without cert: %v", problems)
	}
}
