package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
)

// TLS in this package sits under the guard and the output rewriter, between
// the socket and them: both keep parsing IMAP bytes, in clear, whatever the
// socket carries. go-imap never sees TLS (its own STARTTLS would put TLS
// above them), so what it would do is done here:
//
//   - Implicit TLS (port 993, imapd -tls): the connection given to the
//     server is already a *tls.Conn; its handshake runs before the greeting.
//   - STARTTLS: the guard recognises "<tag> STARTTLS" and calls startTLS
//     once go-imap has answered every command before it, after throwing
//     away whatever the client sent after that line (plain-text command
//     injection, CVE-2011-0411: such bytes must never be run).
//   - Capabilities depend on the connection: STARTTLS while it can be
//     used; with imapd_tls_required and no TLS yet, LOGINDISABLED and no
//     AUTH=; the output rewriter applies rewriteCaps to every CAPABILITY
//     list go-imap writes.
//   - LOGIN and AUTHENTICATE before TLS when it is required: NO
//     [PRIVACYREQUIRED], before any password is asked for.

// handshakeTimeout bounds a TLS handshake.
const handshakeTimeout = time.Minute

// TLS is what a Server needs to offer TLS: a certificate that can be
// replaced while connections run (SetCertificate, on SIGHUP) and the
// oldest version accepted. The cipher suites are Go's defaults.
type TLS struct {
	cert atomic.Pointer[tls.Certificate]
	conf *tls.Config
}

// NewTLS returns a TLS serving cert, accepting minVersion (tls.VersionTLS12
// when 0) and later.
func NewTLS(cert *tls.Certificate, minVersion uint16) *TLS {
	if minVersion == 0 {
		minVersion = tls.VersionTLS12
	}
	t := &TLS{}
	t.cert.Store(cert)
	t.conf = &tls.Config{
		MinVersion: minVersion,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return t.cert.Load(), nil
		},
	}
	return t
}

// SetCertificate makes new handshakes use cert; connections already
// encrypted go on with the one they have.
func (t *TLS) SetCertificate(cert *tls.Certificate) { t.cert.Store(cert) }

// Config is the configuration handshakes use (for a listener of one's own).
func (t *TLS) Config() *tls.Config { return t.conf }

// connTLS is the TLS state of one connection.
type connTLS struct {
	srv   *TLS        // nil: TLS not offered; read through server()
	later func() *TLS // Options.TLSLater: sets srv on first need
	once  sync.Once
	early sync.Once // prefetch

	mu       sync.Mutex
	conn     *tls.Conn // the encrypted transport, once there is one
	done     bool      // the handshake succeeded
	required bool      // imapd_tls_required: no login without TLS
}

// initTLS sets up the connection's TLS: raw may already be a *tls.Conn
// (implicit TLS), whose handshake runs in handshake.
func (c *conn) initTLS(raw net.Conn, srv *TLS, later func() *TLS) {
	c.tls = &connTLS{srv: srv}
	if srv == nil {
		c.tls.later = later
	}
	if tc, ok := raw.(*tls.Conn); ok {
		c.tls.conn = tc
	}
	c.out.caps = c.rewriteCaps
}

// server is the TLS offered, nil for none (Options.TLSLater's on first
// need).
func (t *connTLS) server() *TLS {
	t.once.Do(func() {
		if t.later != nil {
			t.srv = t.later()
		}
	})
	return t.srv
}

// prefetch starts Options.TLSLater in a goroutine of its own, so that it
// runs while the client reads the greeting (the connection's first read
// calls it).
func (t *connTLS) prefetch() {
	t.early.Do(func() {
		if t.later != nil {
			go t.server()
		}
	})
}

// setTLSRequired records imapd_tls_required for this connection.
func (c *conn) setTLSRequired(required bool) {
	c.tls.mu.Lock()
	c.tls.required = required
	c.tls.mu.Unlock()
}

// reader is the reader of client bytes (startTLS replaces it).
func (c *conn) reader() timedReader {
	c.tls.mu.Lock()
	defer c.tls.mu.Unlock()
	return c.in
}

// transport is what Close closes: the TLS connection once there is one
// (it says close_notify), else the socket.
func (c *conn) transport() net.Conn {
	c.tls.mu.Lock()
	defer c.tls.mu.Unlock()
	if c.tls.conn != nil {
		return c.tls.conn
	}
	return c.raw
}

// canStartTLS reports whether STARTTLS may be used now: TLS is configured,
// the connection is not encrypted yet and no one is logged in.
func (c *conn) canStartTLS() bool {
	if c.tls.server() == nil {
		return false
	}
	c.tls.mu.Lock()
	plain := c.tls.conn == nil
	c.tls.mu.Unlock()
	return plain && !c.isAuthed()
}

// loginClosed reports whether logins are refused for want of TLS.
func (c *conn) loginClosed() bool {
	c.tls.mu.Lock()
	closed := c.tls.required && !c.tls.done
	c.tls.mu.Unlock()
	return closed && !c.isAuthed()
}

// errPrivacyRequired answers LOGIN and AUTHENTICATE before TLS when
// imapd_tls_required is true.
var errPrivacyRequired = &imap.Error{
	Type: imap.StatusResponseTypeNo,
	Code: imap.ResponseCodePrivacyRequired,
	Text: "Encryption is required: use STARTTLS (or port 993) before logging in",
}

// loginAllowed refuses a login before TLS when TLS is required.
func (c *conn) loginAllowed() error {
	if c.loginClosed() {
		c.logger().Infof("login refused from %s: imapd_tls_required and no TLS yet", c.RemoteAddr())
		return errPrivacyRequired
	}
	return nil
}

// handshake runs the handshake of an implicit TLS connection (before the
// greeting); it does nothing on a plain one.
func (c *conn) handshake() error {
	c.tls.mu.Lock()
	tc, done := c.tls.conn, c.tls.done
	c.tls.mu.Unlock()
	if tc == nil || done {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("TLS handshake with %s: %w", c.RemoteAddr(), err)
	}
	c.tls.mu.Lock()
	c.tls.done = true
	c.tls.mu.Unlock()
	c.logTLS(tc)
	return nil
}

func (c *conn) logTLS(tc *tls.Conn) {
	st := tc.ConnectionState()
	c.logger().Debugf("TLS with %s: %s, %s", c.RemoteAddr(), tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
}

// startTLS answers "<tag> STARTTLS". The guard calls it from Read, when
// go-imap has answered every command before it (so it is not writing) and
// after dropping every byte the client sent after the command line. It
// says OK in clear, runs the handshake, and puts the TLS connection under
// the reader and the output. On an error the connection is closed (later
// reads fail too).
func (c *conn) startTLS(tag string) error {
	err := c.switchTLS(tag)
	if err != nil {
		c.Close()
	}
	return err
}

func (c *conn) switchTLS(tag string) error {
	if !c.canStartTLS() {
		c.out.reply(tag+" BAD STARTTLS not available", responseWrite)
		return nil
	}
	// The socket still has the write deadline of go-imap's last response,
	// past if the client paused since: the OK and the handshake get theirs.
	c.raw.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	defer func() {
		c.raw.SetWriteDeadline(time.Time{})
		c.out.deadlineTouched()
	}()
	old := c.reader()
	if p, ok := old.(*pumpReader); ok && p.busy() {
		// A read of the plain stream is under way: it could take the
		// client's first TLS bytes. (Only after a timeout, which closes
		// the connection anyway.)
		return errors.New("STARTTLS: a read is still pending")
	}
	tc := tls.Server(c.raw, c.tls.server().conf)
	if err := c.out.switchTo(tag+" OK Begin TLS negotiation now", tc); err != nil {
		return fmt.Errorf("STARTTLS: %w", err)
	}
	c.tls.mu.Lock()
	c.tls.conn = tc
	c.tls.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.logger().Infof("STARTTLS with %s: handshake failed: %v", c.RemoteAddr(), err)
		return fmt.Errorf("STARTTLS handshake: %w", err)
	}
	c.tls.mu.Lock()
	c.tls.done = true
	c.in = newTimedReader(tc)
	c.tls.mu.Unlock()
	old.stop()
	c.logTLS(tc)
	return nil
}

// busy reports whether the pump's goroutine is reading.
func (r *pumpReader) busy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.waiting
}

// rewriteCaps adjusts a capability list go-imap wrote (it advertises the
// same to everyone) to this connection.
func (c *conn) rewriteCaps(caps []string) []string {
	offer := c.canStartTLS()
	closed := c.loginClosed()
	out := make([]string, 0, len(caps)+2)
	for _, cp := range caps {
		switch u := strings.ToUpper(cp); {
		case u == "STARTTLS", u == "LOGINDISABLED", u == "ID", u == "QUOTA", u == "QUOTA=RES-STORAGE":
			continue // added below when they apply
		case notEnabled[u]:
			continue // not offered (enable.go)
		case closed && strings.HasPrefix(u, "AUTH="):
			continue
		}
		out = append(out, cp)
	}
	// go-imap lists IMAP4rev2 before IMAP4rev1; the legacy IMAPD (and UW)
	// list IMAP4rev1 first, and a client written against them may look
	// only there.
	if i := slices.IndexFunc(out, func(s string) bool { return strings.EqualFold(s, "IMAP4rev1") }); i > 0 {
		rev1 := out[i]
		copy(out[1:i+1], out[:i])
		out[0] = rev1
	}
	out = append(out, "ID") // answered by the guard, in any state
	if c.isAuthed() {
		out = append(out, "QUOTA", "QUOTA=RES-STORAGE") // answered by the guard
	}
	if offer {
		out = append(out, "STARTTLS")
	}
	if closed {
		out = append(out, "LOGINDISABLED")
	}
	return out
}

// capsLine rewrites the capabilities of a complete response line: an
// untagged "* CAPABILITY ..." or a "[CAPABILITY ...]" response code.
func capsLine(line []byte, rewrite func([]string) []string) []byte {
	var start, end int
	if bytes.HasPrefix(line, []byte(capResp)) {
		start = len(capResp)
		end = len(line) - len("\r\n")
	} else {
		i := bytes.Index(line, []byte("[CAPABILITY "))
		if i < 0 {
			return line
		}
		start = i + len("[CAPABILITY ")
		j := bytes.IndexByte(line[start:], ']')
		if j < 0 {
			return line
		}
		end = start + j
	}
	if end < start {
		return line
	}
	caps := rewrite(strings.Fields(string(line[start:end])))
	out := make([]byte, 0, len(line)+32)
	out = append(out, line[:start]...)
	out = append(out, strings.Join(caps, " ")...)
	return append(out, line[end:]...)
}

// capResp starts an untagged CAPABILITY response.
const capResp = "* CAPABILITY "

// AuthenticateMechanisms implements imapserver.SessionSASL: PLAIN, as
// go-imap offers without it.
func (g *guarded) AuthenticateMechanisms() []string { return []string{"PLAIN"} }

// Authenticate implements imapserver.SessionSASL: go-imap calls it before
// asking for credentials, so a login without TLS when TLS is required is
// refused before the password is sent. PLAIN goes to Login, as go-imap does
// by itself.
func (g *guarded) Authenticate(mech string) (sasl.Server, error) {
	if err := g.c.loginAllowed(); err != nil {
		return nil, err
	}
	if !strings.EqualFold(mech, "PLAIN") {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if identity != "" && identity != username {
			return &imap.Error{
				Type: imap.StatusResponseTypeNo,
				Code: imap.ResponseCodeAuthorizationFailed,
				Text: "SASL identity not supported",
			}
		}
		return g.Login(username, password)
	}), nil
}
