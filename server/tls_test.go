package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"imapd/internal/selfsigned"

	"imapd/config"
	"imapd/internal/imaptest"
)

// testCert makes a self-signed certificate for 127.0.0.1 named cn.
func testCert(t *testing.T, cn string) (*tls.Certificate, *x509.CertPool) {
	t.Helper()
	c, err := selfsigned.New(cn, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), "127.0.0.1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{c.DER}, PrivateKey: c.Key, Leaf: c.Leaf}, c.Pool()
}

// tlsEnv is a server offering TLS with a fresh certificate.
func tlsEnv(t *testing.T, required bool) (*env, Options, *x509.CertPool) {
	t.Helper()
	e := newEnv(t)
	if required {
		e.deps.Config = &config.Config{ImapdTLSRequired: true}
	}
	cert, pool := testCert(t, "first")
	opts := e.options()
	opts.TLS = NewTLS(cert, 0)
	return e, opts, pool
}

// upgrade runs the client side of TLS on c's connection; the returned
// client speaks through it.
func upgrade(t *testing.T, c *client, pool *x509.CertPool) (*client, *tls.Conn) {
	t.Helper()
	if n := c.Buffered(); n != 0 {
		t.Fatalf("%d bytes in clear after the OK to STARTTLS", n)
	}
	tc := tls.Client(c.NetConn(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	tc.SetDeadline(time.Now().Add(clientLimit))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("client handshake: %v", err)
	}
	tc.SetDeadline(time.Time{})
	return imaptest.New(t, tc), tc
}

// capsOf returns the capabilities of a CAPABILITY command's answer.
func capsOf(t *testing.T, c *client, tag string) map[string]bool {
	t.Helper()
	resps := c.Tagged(tag, "CAPABILITY").Lines()
	if len(resps) != 2 || !strings.HasPrefix(resps[0], "* CAPABILITY ") || resps[1] != tag+" OK CAPABILITY completed" {
		t.Fatalf("CAPABILITY: %q", resps)
	}
	caps := map[string]bool{}
	for _, f := range strings.Fields(strings.TrimPrefix(resps[0], "* CAPABILITY ")) {
		caps[f] = true
	}
	return caps
}

func wantCaps(t *testing.T, when string, caps map[string]bool, has, hasNot []string) {
	t.Helper()
	for _, c := range has {
		if !caps[c] {
			t.Errorf("%s: no %s in %v", when, c, caps)
		}
	}
	for _, c := range hasNot {
		if caps[c] {
			t.Errorf("%s: %s in %v", when, c, caps)
		}
	}
}

// afterTLS is the rest of a session once TLS runs.
func afterTLS(t *testing.T, e *env, c *client) {
	t.Helper()
	wantCaps(t, "after STARTTLS", capsOf(t, c, "t1"), []string{"IMAP4rev1", "AUTH=PLAIN"}, []string{"STARTTLS", "LOGINDISABLED"})
	if resps := c.Tagged("t2", "STARTTLS").Lines(); !equal(resps, []string{"t2 BAD STARTTLS not available"}) {
		t.Errorf("second STARTTLS: %q", resps)
	}
	login(t, c)
	resps := c.Tagged("a2", "SELECT INBOX").Lines()
	if last := resps[len(resps)-1]; last != "a2 OK [READ-WRITE] SELECT completed" {
		t.Errorf("SELECT INBOX ended with %q", last)
	}
	c.Send("a6 LOGOUT")
	c.Expect("* BYE " + host + " IMAP4rev1 server terminating connection")
	c.Expect("a6 OK LOGOUT completed")
	c.ExpectEOF()
	e.waitClosed(t)
}

func TestSTARTTLS(t *testing.T) {
	for _, transport := range []string{"tcp", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			e, opts, pool := tlsEnv(t, false)
			c, served := connect(t, transport, opts)
			c.Expect(greeting)
			wantCaps(t, "before STARTTLS", capsOf(t, c, "c0"), []string{"IMAP4rev1", "STARTTLS", "AUTH=PLAIN"}, []string{"LOGINDISABLED"})
			if resps := c.Tagged("s1", "starttls").Lines(); !equal(resps, []string{"s1 OK Begin TLS negotiation now"}) {
				t.Fatalf("STARTTLS: %q", resps)
			}
			c, _ = upgrade(t, c, pool)
			afterTLS(t, e, c)
			if served != nil {
				if err := waitServed(t, served); err != nil {
					t.Errorf("ServeConn: %v", err)
				}
			}
		})
	}
}

// Commands pipelined after STARTTLS in clear are thrown away, never run:
// neither answered in clear nor after the handshake (CVE-2011-0411).
func TestSTARTTLSInjection(t *testing.T) {
	e, opts, pool := tlsEnv(t, false)
	_, addr, _ := serveTCP(t, opts)
	c := dial(t, addr)
	c.Expect(greeting)
	c.Send("a STARTTLS\r\nb CAPABILITY\r\nc LOGIN alice pw")
	c.Expect("a OK Begin TLS negotiation now")
	c, _ = upgrade(t, c, pool)
	// The first answer over TLS must be to d: b and c never ran.
	if resps := c.Tagged("d", "NOOP").Lines(); !equal(resps, []string{"d OK NOOP completed"}) {
		t.Fatalf("after STARTTLS: %q (injected commands answered?)", resps)
	}
	afterTLS(t, e, c)
}

// Commands before STARTTLS in the same packet are answered first, in clear.
func TestSTARTTLSAfterPipelined(t *testing.T) {
	e, opts, pool := tlsEnv(t, false)
	_, addr, _ := serveTCP(t, opts)
	c := dial(t, addr)
	c.Expect(greeting)
	c.Send("a NOOP\r\nb STARTTLS")
	c.Expect("a OK NOOP completed")
	c.Expect("b OK Begin TLS negotiation now")
	c, _ = upgrade(t, c, pool)
	afterTLS(t, e, c)
}

func TestSTARTTLSNotConfigured(t *testing.T) {
	e := newEnv(t)
	_, addr, _ := serveTCP(t, e.options())
	c := dial(t, addr)
	c.Expect(greeting)
	wantCaps(t, "no TLS", capsOf(t, c, "c0"), []string{"AUTH=PLAIN"}, []string{"STARTTLS", "LOGINDISABLED"})
	if resps := c.Tagged("s1", "STARTTLS").Lines(); !equal(resps, []string{"s1 BAD STARTTLS not available"}) {
		t.Errorf("STARTTLS: %q", resps)
	}
	login(t, c)
}

// With imapd_tls_required: LOGINDISABLED and no AUTH= before TLS, LOGIN and
// AUTHENTICATE refused with PRIVACYREQUIRED (AUTHENTICATE before asking for
// credentials); after STARTTLS both work.
func TestTLSRequired(t *testing.T) {
	e, opts, pool := tlsEnv(t, true)
	_, addr, _ := serveTCP(t, opts)
	c := dial(t, addr)
	c.Expect(greeting)
	wantCaps(t, "before TLS", capsOf(t, c, "c0"), []string{"IMAP4rev1", "STARTTLS", "LOGINDISABLED"}, []string{"AUTH=PLAIN"})
	resps := c.Tagged("l1", "LOGIN alice pw").Lines()
	if len(resps) != 1 || !strings.HasPrefix(resps[0], "l1 NO [PRIVACYREQUIRED] ") {
		t.Errorf("LOGIN before TLS: %q", resps)
	}
	resps = c.Tagged("l2", "AUTHENTICATE PLAIN").Lines()
	if len(resps) != 1 || !strings.HasPrefix(resps[0], "l2 NO [PRIVACYREQUIRED] ") {
		t.Errorf("AUTHENTICATE before TLS: %q (must be refused before the '+')", resps)
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00pw"))
	resps = c.Tagged("l3", "AUTHENTICATE PLAIN "+plain).Lines()
	if len(resps) != 1 || !strings.HasPrefix(resps[0], "l3 NO [PRIVACYREQUIRED] ") {
		t.Errorf("AUTHENTICATE with initial response before TLS: %q", resps)
	}
	c.Tagged("s1", "STARTTLS").Lines()
	c, _ = upgrade(t, c, pool)
	wantCaps(t, "after TLS", capsOf(t, c, "c1"), []string{"AUTH=PLAIN"}, []string{"STARTTLS", "LOGINDISABLED"})
	c.Send("l4 AUTHENTICATE PLAIN")
	if r := c.Response(); !strings.HasPrefix(r, "+") {
		t.Fatalf("AUTHENTICATE PLAIN: %q, want a continuation request", r)
	}
	c.Send(plain)
	resps = nil
	for {
		r := c.Response()
		resps = append(resps, r)
		if strings.HasPrefix(r, "l4 ") {
			break
		}
	}
	if last := resps[len(resps)-1]; !strings.HasPrefix(last, "l4 OK [CAPABILITY ") || strings.Contains(last, "STARTTLS") {
		t.Errorf("AUTHENTICATE after TLS: %q", resps)
	}
	c.Send("a6 LOGOUT")
	c.Expect("* BYE " + host + " IMAP4rev1 server terminating connection")
	c.Expect("a6 OK LOGOUT completed")
	c.ExpectEOF()
	e.waitClosed(t)
	if !strings.Contains(e.logBuf.String(), "login refused from 127.0.0.1") {
		t.Errorf("refused login not logged")
	}
}

// serveImplicit runs a Server behind a TLS listener (port 993).
func serveImplicit(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(opts)
	go srv.Serve(tls.NewListener(ln, opts.TLS.Config()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), clientLimit)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv, ln.Addr().String()
}

func dialTLS(t *testing.T, addr string, pool *x509.CertPool) (*client, *tls.Conn) {
	t.Helper()
	tc, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("dial TLS: %v", err)
	}
	return imaptest.New(t, tc), tc
}

func TestImplicitTLS(t *testing.T) {
	e, opts, pool := tlsEnv(t, true)
	_, addr := serveImplicit(t, opts)
	c, tc := dialTLS(t, addr, pool)
	if v := tc.ConnectionState().Version; v < tls.VersionTLS12 {
		t.Errorf("TLS version %x", v)
	}
	c.Expect(greeting)
	afterTLS(t, e, c)

	// A client speaking plain IMAP to the TLS port gets nothing usable,
	// and the server goes on.
	plain := dial(t, addr)
	plain.Send("a LOGIN alice pw")
	plain.NetConn().SetReadDeadline(time.Now().Add(clientLimit))
	buf := make([]byte, 512)
	n, _ := plain.NetConn().Read(buf)
	if strings.Contains(string(buf[:n]), "OK") {
		t.Errorf("plain text on the TLS port answered %q", buf[:n])
	}
	c, _ = dialTLS(t, addr, pool)
	c.Expect(greeting)
}

// Old TLS versions are refused.
func TestTLSMinVersion(t *testing.T) {
	_, opts, pool := tlsEnv(t, false)
	_, addr := serveImplicit(t, opts)
	_, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS11})
	if err == nil {
		t.Fatal("TLS 1.1 accepted")
	}
}

// A new certificate is served to new connections; a session already
// encrypted goes on.
func TestCertificateSwap(t *testing.T) {
	e, opts, pool := tlsEnv(t, false)
	_, addr := serveImplicit(t, opts)
	old, oldTC := dialTLS(t, addr, pool)
	old.Expect(greeting)
	login(t, old)

	cert2, pool2 := testCert(t, "second")
	opts.TLS.SetCertificate(cert2)
	c, tc := dialTLS(t, addr, pool2)
	if cn := tc.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "second" {
		t.Errorf("new connection got certificate %q", cn)
	}
	c.Expect(greeting)
	if cn := oldTC.ConnectionState().PeerCertificates[0].Subject.CommonName; cn != "first" {
		t.Errorf("old connection: %q", cn)
	}
	resps := old.Tagged("a2", "SELECT INBOX").Lines()
	if last := resps[len(resps)-1]; last != "a2 OK [READ-WRITE] SELECT completed" {
		t.Errorf("old session after the swap: %q", resps)
	}
	old.Send("a3 LOGOUT")
	old.Expect("* BYE " + host + " IMAP4rev1 server terminating connection")
	old.Expect("a3 OK LOGOUT completed")
	old.ExpectEOF()
	e.waitClosed(t)
}

func TestCapsLine(t *testing.T) {
	drop := func(caps []string) []string {
		var out []string
		for _, c := range caps {
			if !strings.HasPrefix(c, "AUTH=") {
				out = append(out, c)
			}
		}
		return append(out, "LOGINDISABLED")
	}
	for in, want := range map[string]string{
		"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n":           "* CAPABILITY IMAP4rev1 LOGINDISABLED\r\n",
		"a OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] done\r\n": "a OK [CAPABILITY IMAP4rev1 LOGINDISABLED] done\r\n",
		"a OK [CAPABILITY IMAP4rev1 AUTH=PLAIN done\r\n":  "a OK [CAPABILITY IMAP4rev1 AUTH=PLAIN done\r\n",
		"a OK done\r\n":     "a OK done\r\n",
		"* CAPABILITY \r\n": "* CAPABILITY LOGINDISABLED\r\n",
	} {
		if got := string(capsLine([]byte(in), drop)); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}

// A client that sends no TLS after the OK to STARTTLS is disconnected; the
// session closes and the server goes on.
func TestSTARTTLSHandshakeFails(t *testing.T) {
	e, opts, pool := tlsEnv(t, false)
	_, addr, _ := serveTCP(t, opts)
	c := dial(t, addr)
	c.Expect(greeting)
	c.Tagged("s1", "STARTTLS").Lines()
	c.Send("a LOGIN alice pw") // not a ClientHello
	c.ExpectEOF()
	e.waitClosed(t)
	if !strings.Contains(e.logBuf.String(), "STARTTLS with 127.0.0.1") {
		t.Errorf("failed handshake not logged")
	}
	c = dial(t, addr)
	c.Expect(greeting)
	c.Tagged("s1", "STARTTLS").Lines()
	c, _ = upgrade(t, c, pool)
	afterTLS(t, e, c)
}

// TLSLater (a one-connection process reads its certificate after the
// greeting): STARTTLS is offered and works as with TLS; a nil from it
// offers none. It is asked once.
func TestTLSLater(t *testing.T) {
	for _, offered := range []bool{true, false} {
		t.Run(fmt.Sprint(offered), func(t *testing.T) {
			e, opts, pool := tlsEnv(t, false)
			srv := opts.TLS
			opts.TLS = nil
			var calls atomic.Int32
			opts.TLSLater = func() *TLS {
				calls.Add(1)
				if !offered {
					return nil
				}
				return srv
			}
			c, _ := connect(t, "tcp", opts)
			c.Expect(greeting)
			if !offered {
				wantCaps(t, "TLSLater nil", capsOf(t, c, "c0"), []string{"AUTH=PLAIN"}, []string{"STARTTLS", "LOGINDISABLED"})
				if resps := c.Tagged("s1", "STARTTLS").Lines(); !equal(resps, []string{"s1 BAD STARTTLS not available"}) {
					t.Errorf("STARTTLS: %q", resps)
				}
				login(t, c)
			} else {
				wantCaps(t, "before STARTTLS", capsOf(t, c, "c0"), []string{"STARTTLS"}, []string{"LOGINDISABLED"})
				if resps := c.Tagged("s1", "STARTTLS").Lines(); !equal(resps, []string{"s1 OK Begin TLS negotiation now"}) {
					t.Fatalf("STARTTLS: %q", resps)
				}
				c, _ = upgrade(t, c, pool)
				afterTLS(t, e, c)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("TLSLater called %d times", n)
			}
		})
	}
}
