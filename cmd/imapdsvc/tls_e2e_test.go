//go:build !windows

package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"imapd/internal/selfsigned"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"imapd/demo"
)

// addTLS gives a site a self-signed certificate for 127.0.0.1 (one PEM
// file, certificate and key) and returns the client's trust pool.
func addTLS(t *testing.T, s *site) *x509.CertPool {
	t.Helper()
	c, err := selfsigned.New("imapdsvc test", time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.PEM()
	if err != nil {
		t.Fatal(err)
	}
	pemFile := filepath.Join(s.Site.Dir, "imapd.pem")
	if err := os.WriteFile(pemFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	name := pemFile
	if s.wine != "" {
		name = winPath(pemFile)
	}
	f, err := os.OpenFile(s.Site.Config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "imapd_tls_cert %s\r\nimapd_tls_required true\r\n", name)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return c.Pool()
}

var listeningTLSRE = regexp.MustCompile(`(?m)^imapdsvc: listening with TLS on (\S+)$`)

// startImapdsvcTLS runs imapdsvc with -listen-tls too and returns the TLS
// address (printed on the line after the plain one: polled, bounded).
func startImapdsvcTLS(t *testing.T, s *site) (*running, string) {
	t.Helper()
	s.extra = append(s.extra, "-listen-tls", "127.0.0.1:0")
	r := startImapdsvc(t, s)
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if m := listeningTLSRE.FindStringSubmatch(r.output()); m != nil {
			return r, m[1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("imapdsvc did not say where it listens with TLS:\n%s", r.output())
	return nil, ""
}

// tlsSession: go-imap's client over implicit TLS and over STARTTLS, with
// imapd_tls_required: a plain LOGIN is refused first.
func tlsSession(t *testing.T, plainAddr, tlsAddr string, pool *x509.CertPool) {
	t.Helper()
	opts := &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	plain := dialRaw(t, plainAddr)
	if caps := plain.Command("CAPABILITY").Untagged; len(caps) != 1 || !strings.Contains(caps[0], " STARTTLS") || !strings.Contains(caps[0], " LOGINDISABLED") {
		t.Errorf("CAPABILITY in clear with TLS required: %q", caps)
	}
	if r := plain.Command("LOGIN %s %s", demo.Users[0].Name, demo.Users[0].Password); !strings.HasPrefix(r.Tagged, "NO [PRIVACYREQUIRED]") {
		t.Errorf("LOGIN in clear with TLS required: %s", r.Tagged)
	}
	plain.OK("LOGOUT")
	for name, dial := range map[string]func() (*imapclient.Client, error){
		"implicit": func() (*imapclient.Client, error) { return imapclient.DialTLS(tlsAddr, opts) },
		"starttls": func() (*imapclient.Client, error) { return imapclient.DialStartTLS(plainAddr, opts) },
	} {
		c, err := dial()
		if err != nil {
			t.Fatalf("%s: dial: %v", name, err)
		}
		if err := c.Login(demo.Users[0].Name, demo.Users[0].Password).Wait(); err != nil {
			t.Fatalf("%s: LOGIN: %v", name, err)
		}
		sel, err := c.Select("INBOX", nil).Wait()
		if err != nil {
			t.Fatalf("%s: SELECT: %v", name, err)
		}
		if sel.NumMessages != 3 {
			t.Errorf("%s: SELECT INBOX: %d messages, want 3", name, sel.NumMessages)
		}
		msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true}).Collect()
		if err != nil || len(msgs) != 1 || msgs[0].Envelope == nil || msgs[0].Envelope.Subject != "Welcome to imapd" {
			t.Errorf("%s: FETCH 1 ENVELOPE: %+v, %v", name, msgs, err)
		}
		if err := c.Logout().Wait(); err != nil {
			t.Errorf("%s: LOGOUT: %v", name, err)
		}
		c.Close()
	}
}

// TestE2ELinuxTLS: imapdsvc passes TLS through to imapd (-tls on the
// -listen-tls port, STARTTLS on the other), relaying or giving the socket.
func TestE2ELinuxTLS(t *testing.T) {
	bin := os.Getenv("IMAPDSVC_E2E_BIN")
	if bin == "" {
		t.Skip("IMAPDSVC_E2E_BIN not set (scripts/windows-test.sh sets it)")
	}
	for _, relay := range []bool{false, true} {
		t.Run(modeName(relay), func(t *testing.T) {
			s := linuxSite(t, bin)
			pool := addTLS(t, s)
			s.extra = []string{fmt.Sprintf("-relay=%v", relay)}
			r, tlsAddr := startImapdsvcTLS(t, s)
			tlsSession(t, r.addr, tlsAddr, pool)
			r.stop(t)
		})
	}
}

// TestE2EWineTLS: the same with imapdsvc.exe and imapd.exe under Wine
// (pipes relayed to imapd.exe, which runs TLS over them).
func TestE2EWineTLS(t *testing.T) {
	bin, wine := wineEnv(t)
	s := wineSite(t, bin, wine)
	pool := addTLS(t, s)
	r, tlsAddr := startImapdsvcTLS(t, s)
	tlsSession(t, r.addr, tlsAddr, pool)
	r.stop(t)
}
