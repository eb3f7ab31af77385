package server

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/logging"
	"imapd/session"
)

// errClosed is what reads and writes return once the connection is closed;
// go-imap does not log it.
var errClosed = fmt.Errorf("connection closed: %w", net.ErrClosed)

// byeWait bounds how long Bye waits for go-imap to write the BYE (it waits
// for the response being written to end).
const byeWait = 10 * time.Second

// conn is the net.Conn go-imap is given, and the session.Conn the session
// is given. Reads time out on our limits (go-imap's own deadlines are
// ignored); writes go through output, which rewrites and inserts lines.
type conn struct {
	raw   net.Conn
	out   *output
	in    timedReader // replaced by startTLS: use reader()
	guard *guard
	tls   *connTLS // see tls.go

	tmu     sync.Mutex
	preAuth time.Duration
	idle    time.Duration
	authed  bool

	loginLimits // pre-login deadline, failed logins (throttle.go)

	closeOnce sync.Once
	closed    chan struct{} // closed by Close

	mu       sync.Mutex
	ic       *imapserver.Conn
	rev2     atomic.Bool // the client enabled IMAP4rev2 (rev2.go)
	log      *logging.Logger
	host     string
	ready    bool   // the session exists: Bye goes through go-imap
	byeText  string // Bye asked for before the session existed
	shutdown bool   // Shutdown asked before the session existed
	startErr error  // why no session could be made

	doneOnce sync.Once
	done     chan struct{} // closed when the session is closed, or will never exist
	onDone   func()
}

var _ session.Conn = (*conn)(nil)

func newConn(raw net.Conn, opts *Options, logins *loginTable) *conn {
	preAuth := opts.PreAuthTimeout
	if preAuth <= 0 {
		preAuth = DefaultPreAuthTimeout
	}
	c := &conn{
		raw:     raw,
		out:     newOutput(raw, raw.SetWriteDeadline),
		in:      newTimedReader(raw),
		preAuth: preAuth,
		idle:    DefaultIdleTimeout,
		log:     opts.Log,
		closed:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	c.initTLS(raw, opts.TLS, opts.TLSLater)
	c.guard = &guard{
		read:        c.readTimed,
		reply:       c.reply,
		authed:      c.isAuthed,
		answered:    c.out.answered,
		appendLimit: func() int64 { return DefaultAppendLimit },
		logf:        func(format string, args ...any) { c.logger().Debugf(format, args...) },
		canStartTLS: c.canStartTLS,
		startTLS:    c.startTLS,
		binary:      offersBinary(opts),
		enabled:     c.enabledCap,
	}
	c.initLimits(opts, logins)
	return c
}

// setDeps takes the greeting host, version, log and idle timeout from the
// session's dependencies. It runs before go-imap writes the greeting.
func (c *conn) setDeps(d session.Deps, idle time.Duration) {
	host := d.Hostname
	if host == "" {
		host = "localhost"
	}
	greeting := host + " IMAP4rev1 server ready"
	if v := strings.TrimPrefix(d.Version, "v"); v != "" {
		greeting = fmt.Sprintf("%s IMAP4rev1 v%s server ready", host, v)
	}
	c.out.setTexts(oneLine(greeting), oneLine(host+" IMAP4rev1 server terminating connection"))
	if idle <= 0 && d.Config != nil {
		idle = d.Config.ImapdTimeout
	}
	if d.Config != nil {
		c.setTLSRequired(d.Config.ImapdTLSRequired)
	}
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	c.tmu.Lock()
	c.idle = idle
	c.tmu.Unlock()
	c.guard.version = d.Version
	c.configure(d.Config)
	c.mu.Lock()
	c.host = host
	if d.Log != nil {
		c.log = d.Log
	}
	c.mu.Unlock()
}

func (c *conn) logger() *logging.Logger {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log
}

// isAuthed reports whether a login succeeded.
func (c *conn) isAuthed() bool {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	return c.authed
}

// limit is how long the next read may wait: the idle limit, and before
// login no longer than the pre-login deadline (absolute says that is what
// limits it; 0 then means it has passed).
func (c *conn) limit() (limit time.Duration, absolute bool) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if c.authed {
		return c.idle, false
	}
	if left := c.preAuthLeft(); left < c.preAuth {
		return max(left, 0), true
	}
	return c.preAuth, false
}

// Read reads client data; after our idle limit without any it says
// goodbye ("* BYE Autologout; idle for too long"), closes the connection and
// fails, which ends go-imap's loop so that the session's Close runs.
func (c *conn) Read(p []byte) (int, error) { return c.guard.Read(p) }

// readTimed reads what the client sends, ending the session with
// "* BYE Autologout" when the idle limit or the pre-login deadline passes,
// or with ByeLoginFailures after too many failed logins.
func (c *conn) readTimed(p []byte) (int, error) {
	c.tls.prefetch() // the greeting is out: time to read the certificate
	if c.cutNow() {
		return 0, c.end(ByeLoginFailures)
	}
	limit, absolute := c.limit()
	n, err := 0, errIdle
	if limit > 0 || !absolute {
		n, err = c.reader().read(p, limit)
	}
	if err == errIdle {
		select {
		case <-c.closed:
			return 0, errClosed
		default:
		}
		if absolute {
			c.logger().Infof("autologout: no login within %v, client %s", c.deadline, c.RemoteAddr())
			return 0, c.end("* BYE Autologout; no login in time")
		}
		c.logger().Infof("autologout: idle for %v, client %s", limit, c.RemoteAddr())
		return 0, c.end("* BYE Autologout; idle for too long")
	}
	if err != nil {
		select {
		case <-c.closed:
			return n, errClosed
		default:
		}
	}
	return n, err
}

// end says the BYE line, if it can go between two responses, and closes the
// connection; it returns the error the read ends with.
func (c *conn) end(bye string) error {
	c.raw.SetWriteDeadline(time.Now().Add(byeWait))
	c.out.insertAndClose(bye)
	c.Close()
	return errClosed
}

// reply writes a line of the guard's own (a refusal, an invitation). Its
// write is bounded like a read: go-imap clears its write deadline after
// each response, and a client that never reads what the guard answers
// would otherwise hold the connection for ever. On an error the
// connection is closed (the guard's next read fails).
func (c *conn) reply(line string) {
	limit, _ := c.limit()
	if limit <= 0 {
		limit = byeWait
	}
	if err := c.out.reply(line, limit); err != nil {
		c.logger().Infof("client %s does not read: %v", c.RemoteAddr(), err)
		c.Close()
	}
}

// Write passes go-imap's output through the rewriter.
func (c *conn) Write(p []byte) (int, error) { return c.out.Write(p) }

// Drain bounds: how long and how much Close reads of what the client still
// sends after the BYE.
const (
	drainWait = time.Second
	drainMax  = 256 << 10
)

// Close closes the connection. It may be called more than once.
//
// Closing a TCP socket that has unread input makes the kernel reset the
// connection, and a client that gets the reset may lose the BYE it has not
// read yet (a session told to let go while the client pipelines commands).
// So on a connection that can half-close, the write side is shut down
// first (the BYE goes out followed by FIN; a write stuck on a client that
// does not read fails at once), then what the client still sends is read
// and dropped, bounded by drainWait and drainMax, until the client closes
// its side; only then is the socket closed.
func (c *conn) Close() error {
	err := errClosed
	c.closeOnce.Do(func() {
		t := c.transport()
		// Only a socket half-closes (pipes do not, and have no deadlines
		// to bound the drain).
		rc, half := c.raw.(interface{ CloseWrite() error })
		if half && t != c.raw {
			// TLS says close_notify first. Its CloseWrite waits for a
			// write in progress: one stuck on a client that does not read
			// must fail soon. Before the handshake: no half-close.
			c.raw.SetWriteDeadline(time.Now().Add(drainWait))
			tc, ok := t.(interface{ CloseWrite() error })
			half = ok && tc.CloseWrite() == nil
		}
		if half && rc.CloseWrite() == nil {
			c.out.close()
			c.reader().stop() // go-imap's reads end; only drain reads now
			drain(t)
		}
		err = t.Close() // (without the half-close: first, as it unblocks a write stuck holding out's lock)
		c.reader().stop()
		c.out.close()
		close(c.closed) // last: in inetd mode the process ends when it is closed
	})
	return err
}

// drain reads and drops the client's input until it closes its side,
// drainWait passes or drainMax bytes came.
func drain(raw net.Conn) {
	deadline := time.Now().Add(drainWait)
	buf := make([]byte, 4096)
	for n := 0; n < drainMax; {
		raw.SetReadDeadline(deadline)
		m, err := raw.Read(buf)
		n += m
		if err != nil {
			return
		}
	}
}

func (c *conn) LocalAddr() net.Addr  { return c.raw.LocalAddr() }
func (c *conn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline and SetReadDeadline ignore go-imap's fixed read timeouts: Read
// applies ours.
func (c *conn) SetDeadline(t time.Time) error {
	c.out.wantDeadline(t)
	return nil
}

func (c *conn) SetReadDeadline(time.Time) error { return nil }

// SetWriteDeadline passes go-imap's write timeouts on, to the socket's
// next write (output.applyDeadline).
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.out.wantDeadline(t)
	return nil
}

// responseWrite bounds the write of the lines Responses is given, as
// go-imap bounds each of its responses (its respWriteTimeout).
const responseWrite = 30 * time.Second

// Responses implements session.Conn: b goes out as go-imap's own responses
// do, through the rewriter's line tracking, in the command's batch, its
// write bounded by responseWrite.
func (c *conn) Responses(b []byte) error {
	c.out.wantDeadline(time.Now().Add(responseWrite))
	err := c.out.lines(b)
	c.out.wantDeadline(time.Time{})
	return err
}

// Notice implements session.Conn.
func (c *conn) Notice(line string) {
	line = oneLine(line)
	if !strings.HasPrefix(line, "* ") {
		line = "* " + line
	}
	c.out.notice(line)
}

// Untagged implements session.Conn. Its write is bounded as a response's
// (responseWrite): the socket's deadline is still the one of go-imap's
// last response, long past after a client's pause.
func (c *conn) Untagged(line string) {
	line = oneLine(line)
	if !strings.HasPrefix(line, "* ") {
		line = "* " + line
	}
	c.out.reply(line, responseWrite)
}

// SelectReadOnly implements session.Conn.
func (c *conn) SelectReadOnly() { c.out.selectReadOnly() }

// Authenticated implements session.Conn.
func (c *conn) Authenticated() {
	c.tmu.Lock()
	first := !c.authed
	c.authed = true
	c.tmu.Unlock()
	if first {
		c.out.loginDone()
	}
}

// Bye implements session.Conn: go-imap writes "* BYE text" between two
// responses and closes the connection; the session's Close follows. Bye
// returns once the line is written, or after byeWait if go-imap is busy
// writing a response (the BYE then follows that response). It must not be
// called while the caller holds a go-imap response writer open (between
// FetchWriter.CreateMessage and Close): it would wait byeWait for nothing.
func (c *conn) Bye(text string) {
	text = oneLine(text)
	c.mu.Lock()
	if !c.ready {
		// The session is being made: the greeting becomes this BYE.
		if c.byeText == "" {
			c.byeText = text
		}
		c.mu.Unlock()
		return
	}
	ic := c.ic
	c.mu.Unlock()
	c.out.endBatches() // the BYE and everything before it go out now
	written := make(chan struct{})
	go func() {
		ic.Bye(text)
		close(written)
	}()
	timer := time.NewTimer(byeWait)
	defer timer.Stop()
	select {
	case <-written:
	case <-timer.C:
	}
}

// byeShutdown says goodbye for a server shutdown.
func (c *conn) byeShutdown() {
	c.stopPausing()
	c.mu.Lock()
	if !c.ready {
		c.shutdown = true
		c.mu.Unlock()
		return
	}
	host := c.host
	c.mu.Unlock()
	c.Bye(shutdownText(host))
}

func shutdownText(host string) string {
	return host + " IMAP4rev1 server shutting down"
}

// markReady records that the session exists, unless a Bye or a shutdown came
// first: then it returns the BYE text to send instead of the greeting.
func (c *conn) markReady() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byeText != "" {
		return c.byeText
	}
	if c.shutdown {
		return shutdownText(c.host)
	}
	c.ready = true
	return ""
}

// sessionDone records that the session is closed (or was never made).
func (c *conn) sessionDone() {
	c.doneOnce.Do(func() {
		close(c.done)
		if c.onDone != nil {
			c.onDone()
		}
	})
}

// oneLine makes text safe to send as the rest of a response line.
func oneLine(text string) string {
	if !strings.ContainsAny(text, "\r\n") {
		return text
	}
	return strings.Join(strings.FieldsFunc(text, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}
