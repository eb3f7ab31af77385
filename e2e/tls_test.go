package e2e

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"imapd/demo"
	"imapd/internal/syncbuf"
)

// makeCert writes a self-signed certificate and its key for 127.0.0.1 and
// localhost with openssl, as an administrator would.
func makeCert(t *testing.T, dir, cn string) (cert, key string) {
	t.Helper()
	openssl := clientTool(t, "openssl", "openssl")
	cert, key = filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key")
	out, err := exec.Command(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
		"-nodes", "-days", "2", "-subj", "/CN="+cn, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
		"-keyout", key, "-out", cert).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	return cert, key
}

// tlsSite is a demo site with a certificate; extra lines are appended.
func tlsSite(t *testing.T, extra ...string) (site *demo.Site, cert string) {
	t.Helper()
	cert, key := makeCert(t, t.TempDir(), "first")
	site = newSite(t, append([]string{"imapd_tls_cert " + cert, "imapd_tls_key " + key}, extra...)...)
	return site, cert
}

// startListenTLS runs `imapd -listen A -listen-tls B`.
func startListenTLS(t *testing.T, site *demo.Site) (srv *server, tlsAddr string) {
	t.Helper()
	addr, tlsAddr := freePort(t), freePort(t)
	srv = startCommand(t, addr, bin("imapd"), "-i", site.Config, "-listen", addr, "-listen-tls", tlsAddr)
	waitPort(t, tlsAddr, srv.exited)
	return srv, tlsAddr
}

// processModes: sessions in the daemon (imapd_become_user false) and, as
// root, one process per connection (`imapd -tls` children for port 993).
var processModes = []struct {
	name  string
	extra []string
}{
	{"in-process", []string{"imapd_become_user false"}},
	{"per-connection", nil},
}

// TestTLSPython: Python's ssl and imaplib, implicit TLS and STARTTLS, with
// and without imapd_tls_required, and the plain-text injection after
// STARTTLS.
func TestTLSPython(t *testing.T) {
	for _, pm := range processModes {
		for _, required := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/required=%v", pm.name, required), func(t *testing.T) {
				extra := pm.extra
				req := "0"
				if required {
					extra = append(extra[:len(extra):len(extra)], "imapd_tls_required true")
					req = "1"
				}
				site, cert := tlsSite(t, extra...)
				srv, tlsAddr := startListenTLS(t, site)
				host, port := hostPort(srv.Addr)
				_, tlsPort := hostPort(tlsAddr)
				for _, run := range [][]string{
					{"implicit", host, tlsPort, cert, req},
					{"starttls", host, port, cert, req},
					{"injection", host, port, cert, req},
				} {
					if out := runPython(t, "tls_client.py", run...); strings.TrimSpace(out) != "ok" {
						t.Errorf("%s: %s\nlog:\n%s", run[0], out, logTail(site))
					}
				}
			})
		}
	}
}

// TestTLSInetd: `imapd -tls` behind an inetd-style socket on "port 993".
func TestTLSInetd(t *testing.T) {
	tool, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate not installed (scripts/test-deps.sh installs it)")
	}
	site, cert := tlsSite(t)
	addr := freePort(t)
	startCommand(t, addr, tool, "--inetd", "-a", "-l", addr, bin("imapd"), "-i", site.Config, "-tls")
	host, port := hostPort(addr)
	if out := runPython(t, "tls_client.py", "implicit", host, port, cert); strings.TrimSpace(out) != "ok" {
		t.Errorf("implicit: %s\nlog:\n%s", out, logTail(site))
	}
	// STARTTLS in inetd mode on the plain port.
	addr = freePort(t)
	startCommand(t, addr, tool, "--inetd", "-a", "-l", addr, bin("imapd"), "-i", site.Config)
	host, port = hostPort(addr)
	if out := runPython(t, "tls_client.py", "starttls", host, port, cert); strings.TrimSpace(out) != "ok" {
		t.Errorf("starttls: %s\nlog:\n%s", out, logTail(site))
	}
}

// TestTLSOpenSSL: openssl s_client, STARTTLS and implicit, verifying the
// certificate.
func TestTLSOpenSSL(t *testing.T) {
	openssl := clientTool(t, "openssl", "openssl")
	site, cert := tlsSite(t)
	srv, tlsAddr := startListenTLS(t, site)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"starttls", []string{"-starttls", "imap", "-connect", srv.Addr}},
		{"implicit", []string{"-connect", tlsAddr}},
	} {
		args := append([]string{"s_client", "-quiet", "-verify_return_error", "-CAfile", cert, "-verify_ip", "127.0.0.1"}, c.args...)
		cmd := exec.Command(openssl, args...)
		cmd.Stdin = strings.NewReader("a LOGIN alice alice-secret\r\nb SELECT INBOX\r\nc LOGOUT\r\n")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: openssl s_client: %v\n%s\nlog:\n%s", c.name, err, out, logTail(site))
			continue
		}
		for _, want := range []string{"verify return:1", "] LOGIN completed\r\n", "* 3 EXISTS\r\n", "c OK LOGOUT completed\r\n"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%s: no %q in\n%s", c.name, want, out)
			}
		}
	}
}

// TestTLSMbsync: mbsync with SSLType IMAPS and STARTTLS pulls the INBOX.
func TestTLSMbsync(t *testing.T) {
	mbsync := clientTool(t, "mbsync", "isync")
	site, cert := tlsSite(t, "imapd_tls_required true")
	srv, tlsAddr := startListenTLS(t, site)
	for _, c := range []struct{ sslType, addr string }{{"IMAPS", tlsAddr}, {"STARTTLS", srv.Addr}} {
		t.Run(c.sslType, func(t *testing.T) {
			local := t.TempDir()
			_, port := hostPort(c.addr)
			host := "localhost" // mbsync matches DNS names only, not IP addresses
			rc := writeMbsyncrc(t, local, fmt.Sprintf("Host %s\nPort %s\nSSLType %s\nSSLVersions TLSv1.2 TLSv1.3\nCertificateFile %s\n", host, port, c.sslType, cert), `Channel inbox
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
`)
			out, err := exec.Command(mbsync, "-c", rc, "-a").CombinedOutput()
			if err != nil {
				t.Fatalf("mbsync: %v\n%s\nlog:\n%s", err, out, logTail(site))
			}
			if n := len(maildirFiles(t, filepath.Join(local, "mail", "INBOX"))); n != 3 {
				t.Errorf("mbsync brought %d messages, want 3\n%s", n, out)
			}
		})
	}
}

// tlsLine is a minimal IMAP client over crypto/tls, to hold a session open
// while the certificate changes.
type tlsLine struct {
	t  *testing.T
	c  *tls.Conn
	r  *bufio.Reader
	cn string // the certificate's subject CN
}

func dialTLSLine(t *testing.T, addr string, pool *x509.CertPool) *tlsLine {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	l := &tlsLine{t: t, c: c, r: bufio.NewReader(c), cn: c.ConnectionState().PeerCertificates[0].Subject.CommonName}
	if g := l.line(); !strings.HasPrefix(g, "* OK ") {
		t.Fatalf("greeting %q", g)
	}
	return l
}

func (l *tlsLine) line() string {
	l.t.Helper()
	s, err := l.r.ReadString('\n')
	if err != nil {
		l.t.Fatalf("read: %v (%q)", err, s)
	}
	return s
}

// command sends a command and returns its tagged answer.
func (l *tlsLine) command(tag, cmd string) string {
	l.t.Helper()
	fmt.Fprintf(l.c, "%s %s\r\n", tag, cmd)
	for {
		if s := l.line(); strings.HasPrefix(s, tag+" ") {
			return s
		}
	}
}

func certPool(t *testing.T, files ...string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil || !pool.AppendCertsFromPEM(b) {
			t.Fatalf("CA file %s: %v", f, err)
		}
	}
	return pool
}

// waitLog polls the site's log until it holds want (readiness polling,
// bounded to 20 s).
func waitLog(t *testing.T, site *demo.Site, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(logTail(site), want) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("log never said %q:\n%s", want, logTail(site))
}

// TestTLSReload: SIGHUP makes a -listen daemon serve the new certificate to
// new connections while a session started with the old one goes on; a
// broken new certificate leaves the last good one in place.
func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	cert1, key1 := makeCert(t, dir, "first")
	cert2, key2 := makeCert(t, dir, "second")
	live, liveKey := filepath.Join(dir, "live.crt"), filepath.Join(dir, "live.key")
	install := func(cert, key string) {
		for src, dst := range map[string]string{cert: live, key: liveKey} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst+".new", b, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dst+".new", dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	install(cert1, key1)
	site := newSite(t, "imapd_tls_cert "+live, "imapd_tls_key "+liveKey, "imapd_become_user false")
	srv, tlsAddr := startListenTLS(t, site)
	pool := certPool(t, cert1, cert2)

	old := dialTLSLine(t, tlsAddr, pool)
	if old.cn != "first" {
		t.Fatalf("first connection got %q", old.cn)
	}
	if r := old.command("a1", "LOGIN alice alice-secret"); !strings.Contains(r, "OK") {
		t.Fatalf("LOGIN: %q", r)
	}

	install(cert2, key2)
	srv.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, site, "SIGHUP: certificate reloaded")
	if c := dialTLSLine(t, tlsAddr, pool); c.cn != "second" {
		t.Errorf("after SIGHUP a new connection got %q, want second", c.cn)
	}
	if r := old.command("a2", "SELECT INBOX"); !strings.HasPrefix(r, "a2 OK") {
		t.Errorf("the old session after SIGHUP: %q", r)
	}

	// A bad certificate: the old one stays.
	if err := os.WriteFile(live, []byte("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Process.Signal(syscall.SIGHUP)
	waitLog(t, site, "keeping the old one")
	if c := dialTLSLine(t, tlsAddr, pool); c.cn != "second" {
		t.Errorf("after a bad certificate a new connection got %q, want second", c.cn)
	}
	if r := old.command("a3", "LOGOUT"); !strings.HasPrefix(r, "a3 OK") {
		t.Errorf("LOGOUT: %q", r)
	}
	select {
	case <-srv.exited:
		t.Fatalf("the daemon exited: %s", srv.stderr.String())
	default:
	}
}

// TestTLSCheck: imapd -check reads the certificate files and reports what
// is wrong with them as file:line errors.
func TestTLSCheck(t *testing.T) {
	dir := t.TempDir()
	cert1, key1 := makeCert(t, dir, "first")
	_, key2 := makeCert(t, dir, "second")
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("hello\n"), 0o600)
	for _, c := range []struct {
		name  string
		lines []string
		want  string // "" = no error
	}{
		{"good", []string{"imapd_tls_cert " + cert1, "imapd_tls_key " + key1}, ""},
		{"missing", []string{"imapd_tls_cert " + filepath.Join(dir, "nope.pem")}, ":9: error: imapd_tls_cert: " + filepath.Join(dir, "nope.pem") + ": file does not exist"},
		{"garbage", []string{"imapd_tls_cert " + garbage}, ":9: error: imapd_tls_cert: " + garbage + " with key " + garbage + ": tls: failed to find any PEM data in certificate input"},
		{"no key", []string{"imapd_tls_cert " + cert1}, ":9: error: imapd_tls_cert: " + cert1 + " with key " + cert1 + ": tls: found a certificate rather than a key"},
		{"mismatch", []string{"imapd_tls_cert " + cert1, "imapd_tls_key " + key2}, ":9: error: imapd_tls_cert: " + cert1 + " with key " + key2 + ": tls: private key does not match public key"},
		{"key missing", []string{"imapd_tls_cert " + cert1, "imapd_tls_key " + filepath.Join(dir, "nope.key")}, ":10: error: imapd_tls_key: "},
		{"required alone", []string{"imapd_tls_required true"}, ":9: error: imapd_tls_required true needs imapd_tls_cert"},
		{"bad version", []string{"imapd_tls_min_version 1.1"}, `:9: error: imapd_tls_min_version: "1.1" is not 1.2 or 1.3`},
	} {
		t.Run(c.name, func(t *testing.T) {
			site := newSite(t, c.lines...)
			out, err := exec.Command(bin("imapd"), "-i", site.Config, "-check").CombinedOutput()
			if c.want == "" {
				if err != nil {
					t.Errorf("-check: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Errorf("-check succeeded:\n%s", out)
			}
			if !strings.Contains(string(out), site.Config+c.want) {
				t.Errorf("-check does not say %q:\n%s", site.Config+c.want, out)
			}
		})
	}
}

var (
	demoListenRE = regexp.MustCompile(`(?m)^imapd: listening on (\S+)$`)
	demoTLSRE    = regexp.MustCompile(`(?m)^imapd: listening with TLS on (\S+)$`)
	demoCertRE   = regexp.MustCompile(`(?m)^  TLS:  a self-signed certificate for localhost in (\S+)$`)
)

// TestDemoTLS: `imapd -demo` (what make demo runs) serves STARTTLS and
// implicit TLS with the certificate it generates and names.
func TestDemoTLS(t *testing.T) {
	cmd := exec.Command(bin("imapd"), "-demo", "-listen", "127.0.0.1:0", "-listen-tls", "127.0.0.1:0")
	out := &syncbuf.Buffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-exited
	}()
	deadline := time.Now().Add(20 * time.Second)
	var addr, tlsAddr, cert string
	for time.Now().Before(deadline) {
		s := out.String()
		if m, n, c := demoListenRE.FindStringSubmatch(s), demoTLSRE.FindStringSubmatch(s), demoCertRE.FindStringSubmatch(s); m != nil && n != nil && c != nil {
			addr, tlsAddr, cert = m[1], n[1], c[1]
			break
		}
		select {
		case <-exited:
			t.Fatalf("demo exited:\n%s", s)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if cert == "" {
		t.Fatalf("the demo did not say where it listens and where its certificate is:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "openssl s_client -quiet -CAfile "+cert+" -starttls imap -connect") {
		t.Errorf("the demo does not say how to connect with openssl:\n%s", out.String())
	}
	host, port := hostPort(addr)
	_, tlsPort := hostPort(tlsAddr)
	for _, run := range [][]string{{"implicit", host, tlsPort, cert}, {"starttls", host, port, cert}} {
		if res := runPython(t, "tls_client.py", run...); strings.TrimSpace(res) != "ok" {
			t.Errorf("%s: %s", run[0], res)
		}
	}
}
