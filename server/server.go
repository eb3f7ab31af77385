// Package server owns everything between a socket and go-imap: serving one
// connection on stdin/stdout (inetd), or many from a listener (-listen), and
// what go-imap v2 (used unmodified) lacks, solved around it:
//
//   - The legacy greeting and goodbyes. go-imap's "* OK [CAPABILITY ...] IMAP
//     server ready" becomes "* OK <host> IMAP4rev1 v<version> server ready"
//     and its LOGOUT "* BYE Logging out" becomes "* BYE <host> IMAP4rev1
//     server terminating connection" (UW's; docs/compatibility.md). A
//     shutdown sends "* BYE <host> IMAP4rev1 server shutting down" (our text).
//   - session.Conn: notices ("* NO Trying to get mailbox lock from process
//     42") put just before the next tagged reply, a SELECT answered
//     "OK [READ-ONLY]", an unsolicited BYE from any goroutine.
//   - Timeouts (manual: 3 minutes idle before login, imapd_timeout, default
//     1800 s, after): go-imap's fixed 30 s / 35 min read deadlines are
//     ignored; when ours expire the client gets "* BYE Autologout; idle for
//     too long" and the connection closes the way a LOGOUT does, so the
//     session's Close runs (flags are written). Pipes, which have no
//     deadlines, are read by a goroutine that can be given up on.
//   - TLS (tls.go): STARTTLS and implicit TLS (port 993), placed under the
//     guard and the output rewriter, which go on parsing clear IMAP bytes;
//     capabilities adjusted per connection (STARTTLS, LOGINDISABLED), and
//     logins refused before TLS when imapd_tls_required says so.
//   - Limits (limits.go, throttle.go, docs/security.md): the 3 minutes
//     before login count from connect, not from the last byte ("* BYE
//     Autologout; no login in time"); failed logins (LOGIN and
//     AUTHENTICATE PLAIN both reach the session's Login) earn a doubling
//     delay per connection and per client address, and after
//     imapd_max_login_failures "* BYE Too many login failures"; a Limiter
//     caps a daemon's connections overall and per address ("* BYE Too
//     many connections") before anything else is done with them.
//
// All of that is done on the byte stream go-imap writes (output.go): it
// tracks response lines and literals, so bytes inside a literal are never
// rewritten and inserted lines only ever go between two responses.
//
// Input: the guard (guard.go, command.go, check.go) collects every command
// whole before go-imap sees it and answers itself what go-imap would
// mishandle: commands before login that need it, over-long lines (32 KiB),
// literals over 4 KiB outside APPEND's message, nesting past 16 levels or
// 64 NOT/OR operators, names that are not modified UTF-7, sequence sets
// with 0; it skips the literals of what it refuses, so no byte of a refused
// command ever runs as a command. APPEND is limited by the session's
// AppendLimit if it has one, else DefaultAppendLimit (go-imap's default).
// It also answers ID (RFC 2971) and STARTTLS. docs/security.md lists the
// limits for administrators.
//
// Decisions where the brief is silent: a session gets the preauth timeout
// until its Login succeeds (or it calls Authenticated); a BYE that cannot
// be placed between two lines (the connection is in the middle of a
// response when the idle limit strikes, which needs a response writer
// stalled longer than the limit) is dropped and the connection just closed;
// go-imap's own log messages go to the debug level, its recovered panics to
// error; DebugWriter is never set (it would log passwords).
package server

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/logging"
	"imapd/session"
)

// Defaults for Options.
const (
	DefaultPreAuthTimeout = 3 * time.Minute  // manual: "always 3 minutes"
	DefaultIdleTimeout    = 30 * time.Minute // imapd_timeout default 1800
	DefaultAppendLimit    = 100 << 20        // bytes; go-imap's own default
)

// ErrServerClosed is returned by Serve and ServeConn after Shutdown.
var ErrServerClosed = errors.New("server shut down")

// Options configure a Server.
type Options struct {
	// NewDeps is called once per connection, before the greeting, with the
	// connection (addresses only: do not read or write it). An error is
	// sent to the client as "* BYE <error>" and the connection closed.
	NewDeps func(conn net.Conn) (session.Deps, error)
	// NewSession makes the go-imap session (normally session.New). An
	// error is handled like NewDeps's.
	NewSession func(deps session.Deps, conn session.Conn) (imapserver.Session, error)
	// Log receives the server's own events; sessions log to Deps.Log.
	Log *logging.Logger
	// Caps advertised; nil means session.Caps().
	Caps imap.CapSet
	// PreAuthTimeout is the idle limit before login; 0 means
	// DefaultPreAuthTimeout.
	PreAuthTimeout time.Duration
	// IdleTimeout is the idle limit after login; 0 means the session's
	// Config.ImapdTimeout, or DefaultIdleTimeout.
	IdleTimeout time.Duration
	// TLS, when set, offers STARTTLS (tls.go). A connection given to
	// ServeConn, or accepted, as a *tls.Conn is implicit TLS: its handshake
	// runs before the greeting, with or without TLS here.
	TLS *TLS
	// TLSLater, when set and TLS is not, gives the TLS to offer, asked
	// after the greeting went out (in a goroutine of its own, started by
	// the connection's first read; the first CAPABILITY, STARTTLS or LOGIN
	// waits for it): a one-connection process (inetd) reads its
	// certificate while the client reads the greeting (issue 10). It is
	// called at most once per connection; nil from it: TLS not offered.
	TLSLater func() *TLS
	// PreAuthDeadline is the most time from connect to login, however
	// busy the client keeps the connection; 0 means
	// DefaultPreAuthDeadline.
	PreAuthDeadline time.Duration
	// Login throttling (throttle.go): the delay after the first failed
	// login, its most, and the failures after which a connection is cut.
	// 0 means the session's Config (imapd_login_delay,
	// imapd_login_delay_max, imapd_max_login_failures), or the defaults
	// without one; negative means none.
	LoginDelay       time.Duration
	LoginDelayMax    time.Duration
	MaxLoginFailures int
	// LoginFailed, if set, is called after each failed login with the
	// client's address, before the delay (a session process tells its
	// daemon; see LoginFailures). It returns the address's failures and
	// the delay earned as it knows them (0, 0 if it does not): the larger
	// count and delay apply. It runs in the connection's goroutine.
	LoginFailed func(client net.Addr) (failures int, delay time.Duration)
}

// Server serves IMAP connections with go-imap, one goroutine each.
type Server struct {
	opts Options
	imap *imapserver.Server

	mu        sync.Mutex
	stopping  bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	live      sync.WaitGroup // connections whose session is not closed yet
	logins    *loginTable    // failed logins per client address, for every connection
}

// NewServer returns a Server; NewDeps and NewSession must be set.
func NewServer(opts Options) *Server {
	s := &Server{
		opts:      opts,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		logins:    newLoginTable(),
	}
	caps := opts.Caps
	if caps == nil {
		caps = session.Caps()
	}
	s.imap = imapserver.New(&imapserver.Options{
		NewSession:   s.newSession,
		Caps:         caps,
		Logger:       imapLog{opts.Log},
		InsecureAuth: true, // plain LOGIN over TCP, as the legacy server
	})
	return s
}

// ServeConn serves one connection and returns once its session is closed
// (its flags are written). The error says why no session could be made,
// if none could.
func (s *Server) ServeConn(raw net.Conn) error {
	c, ok := s.track(raw)
	if !ok {
		raw.Close()
		return ErrServerClosed
	}
	ln := &oneShot{c: c, quit: make(chan struct{})}
	err := s.imap.Serve(ln)
	<-c.done
	if err != nil {
		return err
	}
	return c.startErr
}

// Serve accepts connections on ln until ln is closed or Shutdown is called,
// then returns nil; sessions may still be running (see Shutdown).
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	return s.imap.Serve(&listener{Listener: ln, s: s})
}

// SeedLoginFailures gives client's address the failures and owed wait
// another process knows of (see LoginFailures).
func (s *Server) SeedLoginFailures(client net.Addr, failures int, wait time.Duration) {
	s.logins.seed(ClientKey(client), time.Now(), failures, wait)
}

// ListenAndServe listens on the TCP address addr and calls Serve.
func (s *Server) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Shutdown stops accepting connections, says "* BYE <host> IMAP4rev1 server
// shutting down" to every client and waits until every session is closed
// (flags written). When ctx ends first it closes the remaining connections
// at once and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	var lns []net.Listener
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	conns := s.liveConns()
	s.mu.Unlock()

	for _, ln := range lns {
		ln.Close()
	}
	for _, c := range conns {
		go c.byeShutdown()
	}
	allDone := make(chan struct{})
	go func() {
		s.live.Wait()
		close(allDone)
	}()
	select {
	case <-allDone:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		conns = s.liveConns()
		s.mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
		return ctx.Err()
	}
}

func (s *Server) liveConns() []*conn {
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// track wraps a new connection and counts it live until its session closes.
func (s *Server) track(raw net.Conn) (*conn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, false
	}
	c := newConn(raw, &s.opts, s.logins)
	s.conns[c] = struct{}{}
	s.live.Add(1)
	c.onDone = func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.live.Done()
	}
	return c, true
}

// newSession is go-imap's NewSession: it runs in the connection's goroutine
// before the greeting.
func (s *Server) newSession(ic *imapserver.Conn) (_ imapserver.Session, _ *imapserver.GreetingData, err error) {
	c, ok := ic.NetConn().(*conn)
	if !ok {
		return nil, nil, byeError("internal error: connection not wrapped")
	}
	started := false
	defer func() {
		if !started {
			c.sessionDone() // go-imap will not call Close: there is no session
		}
	}()
	c.mu.Lock()
	c.ic = ic
	c.mu.Unlock()

	if err := c.handshake(); err != nil {
		c.startErr = err
		s.opts.Log.Infof("connection from %s: %v", c.RemoteAddr(), err)
		return nil, nil, byeError("TLS handshake failed")
	}
	deps, err := s.opts.NewDeps(c)
	if err != nil {
		c.startErr = err
		s.opts.Log.Errorf("connection from %s: %v", c.RemoteAddr(), err)
		return nil, nil, byeError(err.Error())
	}
	c.setDeps(deps, s.opts.IdleTimeout)
	inner, err := s.opts.NewSession(deps, c)
	if err != nil {
		c.startErr = err
		c.logger().Errorf("connection from %s: %v", c.RemoteAddr(), err)
		return nil, nil, byeError(err.Error())
	}
	if text := c.markReady(); text != "" {
		inner.Close()
		return nil, nil, byeError(text)
	}
	started = true
	gs := &guarded{Session: inner, c: c}
	c.guard.appendLimit = func() int64 { return int64(gs.AppendLimit()) }
	c.initSearchRes(inner)
	if q, ok := inner.(quotaSession); ok {
		c.guard.quotaRoot = q.QuotaRoot
	}
	if is, ok := inner.(idleSession); ok {
		c.guard.idleStart, c.guard.idleDone = is.IdleInput()
	}
	cs, _ := inner.(commandSession)
	c.guard.command = func(name string) {
		if batched[name] {
			c.out.startBatch()
		}
		if cs != nil {
			cs.Command(name)
		}
	}
	return gs, nil, nil
}

// quotaSession is a session that knows its user's quota (session.Session):
// the guard answers the QUOTA commands with it.
type quotaSession interface {
	QuotaRoot(mailbox string) (root string, usedKB, limitKB int64, ok bool, err error)
}

// batched are the commands whose responses are written in batches (see
// output): those that may write many lines and never wait for the client
// while they run.
var batched = map[string]bool{
	"FETCH": true, "UID FETCH": true, "STORE": true, "UID STORE": true,
	"EXPUNGE": true, "UID EXPUNGE": true, "MOVE": true, "UID MOVE": true,
	"SELECT": true, "EXAMINE": true, "LIST": true, "LSUB": true,
	"NOOP": true, "CHECK": true,
}

// idleSession is a session that waits for the end of IDLE without a
// goroutine when told when the IDLE is handed over and the moment the
// client's DONE arrives (session/idle.go).
type idleSession interface {
	IdleInput() (start, done func())
}

// commandSession is a session that wants to know each command's name
// before go-imap runs it (session.Session saves flags at CHECK, which
// go-imap runs as NOOP).
type commandSession interface {
	Command(name string)
}

func byeError(text string) error {
	return &imap.Error{Type: imap.StatusResponseTypeBye, Text: oneLine(text)}
}

// guarded wraps the session to learn when it is closed and when a login
// succeeded. It implements every optional go-imap interface our sessions
// use (NAMESPACE, MOVE, APPENDLIMIT; together they make SessionIMAP4rev2,
// which go-imap requires since IMAP4rev2 is advertised); an interface the inner
// session lacks answers NO. It implements SessionSASL itself (tls.go), to
// refuse AUTHENTICATE before TLS. Add forwarding here when the session
// grows another one (SessionUnauthenticate).
type guarded struct {
	imapserver.Session
	c *conn
}

func (g *guarded) Close() error {
	defer g.c.sessionDone()
	return g.Session.Close()
}

// Login sees every login attempt of the connection: LOGIN, and
// AUTHENTICATE PLAIN (go-imap calls Login for it when the session has no
// SASL of its own), so both are throttled alike.
func (g *guarded) Login(username, password string) error {
	if err := g.c.loginAllowed(); err != nil {
		return err
	}
	err := g.c.login(username, func() error { return g.Session.Login(username, password) })
	if err == nil {
		g.c.Authenticated()
	}
	return err
}

func (g *guarded) Namespace() (*imap.NamespaceData, error) {
	if ns, ok := g.Session.(imapserver.SessionNamespace); ok {
		return ns.Namespace()
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "NAMESPACE not supported"}
}

func (g *guarded) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if mv, ok := g.Session.(imapserver.SessionMove); ok {
		return mv.Move(w, numSet, dest)
	}
	return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "MOVE not supported"}
}

func (g *guarded) AppendLimit() uint32 {
	if al, ok := g.Session.(imapserver.SessionAppendLimit); ok {
		return al.AppendLimit()
	}
	return DefaultAppendLimit
}

// listener wraps accepted connections.
type listener struct {
	net.Listener
	s *Server
}

func (l *listener) Accept() (net.Conn, error) {
	raw, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c, ok := l.s.track(raw)
	if !ok {
		raw.Close()
		return nil, net.ErrClosed
	}
	return c, nil
}

// oneShot is a listener that yields one connection, then reports itself
// closed once that connection is closed: go-imap's Serve then returns.
type oneShot struct {
	c        *conn
	once     sync.Once
	quit     chan struct{}
	quitOnce sync.Once
}

func (l *oneShot) Accept() (net.Conn, error) {
	give := false
	l.once.Do(func() { give = true })
	if give {
		return l.c, nil
	}
	select {
	case <-l.c.closed:
	case <-l.quit:
	}
	return nil, net.ErrClosed
}

func (l *oneShot) Close() error {
	l.quitOnce.Do(func() { close(l.quit) })
	return nil
}

func (l *oneShot) Addr() net.Addr { return l.c.LocalAddr() }

// imapLog sends go-imap's messages to our log: recovered panics as errors,
// the rest (clients sending garbage, dropped connections) as debug.
type imapLog struct{ l *logging.Logger }

func (g imapLog) Printf(format string, args ...any) {
	if strings.HasPrefix(format, "panic") {
		g.l.Errorf("go-imap: "+format, args...)
		return
	}
	g.l.Debugf("go-imap: "+format, args...)
}

// offersBinary reports whether the capabilities advertised include BINARY,
// which lets APPEND's message come as a literal8.
func offersBinary(opts *Options) bool {
	caps := opts.Caps
	if caps == nil {
		caps = session.Caps()
	}
	return caps.Has(imap.CapBinary)
}
