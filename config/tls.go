package config

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"time"
)

// TLSEnabled reports whether imapd_tls_cert is set.
func (c *Config) TLSEnabled() bool { return c.ImapdTLSCert != "" }

// TLSKeyFile is the file holding the private key: imapd_tls_key, else
// imapd_tls_cert.
func (c *Config) TLSKeyFile() string {
	if c.ImapdTLSKey != "" {
		return c.ImapdTLSKey
	}
	return c.ImapdTLSCert
}

// TLSMinVersion is imapd_tls_min_version as a crypto/tls version.
func (c *Config) TLSMinVersion() uint16 {
	if c.ImapdTLSMinVersion == "1.3" {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// TLSCertificate reads the certificate chain and key named by imapd_tls_cert
// and imapd_tls_key. It returns nil and no problem when TLS is not
// configured. Unreadable files, a file without a certificate or key, and a
// key that does not match the certificate are errors (the certificate is
// then nil); a certificate outside its validity period at now is a warning.
// Problems are located at the line of the setting concerned. Load does not
// call it: the files are read when a server starts (and on SIGHUP), and by
// imapd -check.
func (c *Config) TLSCertificate(now time.Time) (*tls.Certificate, []Problem) {
	if !c.TLSEnabled() {
		return nil, nil
	}
	certFile, certLine := c.location("imapd_tls_cert", "")
	keyName := "imapd_tls_key"
	if c.ImapdTLSKey == "" {
		keyName = "imapd_tls_cert"
	}
	keyFile, keyLine := c.location(keyName, "")
	fail := func(file string, line int, format string, args ...any) (*tls.Certificate, []Problem) {
		return nil, []Problem{{File: file, Line: line, Error: true, Message: fmt.Sprintf(format, args...)}}
	}
	certPEM, err := readSmall(c.ImapdTLSCert)
	if err != nil {
		return fail(certFile, certLine, "imapd_tls_cert: %s: %s", c.ImapdTLSCert, describe(err))
	}
	keyPEM := certPEM
	if c.TLSKeyFile() != c.ImapdTLSCert {
		if keyPEM, err = readSmall(c.TLSKeyFile()); err != nil {
			return fail(keyFile, keyLine, "imapd_tls_key: %s: %s", c.TLSKeyFile(), describe(err))
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fail(certFile, certLine, "imapd_tls_cert: %s with key %s: %v", c.ImapdTLSCert, c.TLSKeyFile(), err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return fail(certFile, certLine, "imapd_tls_cert: %s: %v", c.ImapdTLSCert, err)
	}
	cert.Leaf = leaf
	var problems []Problem
	switch {
	case now.After(leaf.NotAfter):
		problems = append(problems, Problem{File: certFile, Line: certLine, Message: fmt.Sprintf(
			"imapd_tls_cert: %s expired on %s: clients will refuse it", c.ImapdTLSCert, leaf.NotAfter.UTC().Format(time.DateOnly))})
	case now.Before(leaf.NotBefore):
		problems = append(problems, Problem{File: certFile, Line: certLine, Message: fmt.Sprintf(
			"imapd_tls_cert: %s is not valid before %s: clients will refuse it", c.ImapdTLSCert, leaf.NotBefore.UTC().Format(time.DateTime))})
	}
	return &cert, problems
}

// readSmall reads a certificate or key file (a regular file of at most
// 8 MiB, like a configuration file).
func readSmall(path string) ([]byte, error) {
	data, _, err := readConf(path, true)
	return data, err
}
