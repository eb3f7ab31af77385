package server

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"

	"imapd/config"
)

// Login throttling defaults (imapd_login_delay, imapd_login_delay_max,
// imapd_max_login_failures) and the pre-login deadline. See
// docs/security.md.
const (
	DefaultPreAuthDeadline  = 3 * time.Minute // manual: 3 minutes before login
	DefaultLoginDelay       = 2 * time.Second
	DefaultLoginDelayMax    = 30 * time.Second
	DefaultMaxLoginFailures = 5
)

// ByeLoginFailures is what a connection is told when it is cut after too
// many failed logins.
const ByeLoginFailures = "* BYE Too many login failures"

// The per-address failure table: bounded, forgetting.
const (
	loginTableSize = 10000            // addresses remembered at most
	loginForget    = 15 * time.Minute // an address without a failure for this long starts afresh
)

// LoginDelay is the delay schedule: how long a login attempt waits after
// the failures-th failure (counted on the connection or from its address,
// whichever is more): first, doubled at every further failure, at most max.
// No failure, or first <= 0, means no delay.
func LoginDelay(failures int, first, max time.Duration) time.Duration {
	if failures <= 0 || first <= 0 {
		return 0
	}
	d := first
	for i := 1; i < failures; i++ {
		if max > 0 && d >= max {
			break
		}
		if d > 1<<61 {
			return 1 << 62 // no overflow whatever max is
		}
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	return d
}

// loginTable remembers failed logins per client address (ClientKey) for all
// the sessions of one process: in -listen mode every connection shares it,
// in inetd mode the process has one connection. It holds at most
// loginTableSize addresses; an address without a failure for loginForget
// is forgotten, and when the table is full the address whose last failure
// is oldest goes.
type loginTable struct {
	mu      sync.Mutex
	entries map[string]*loginEntry
	size    int
	forget  time.Duration
}

type loginEntry struct {
	failures int
	last     time.Time // last failure
	until    time.Time // no attempt from this address is checked before
}

func newLoginTable() *loginTable {
	return &loginTable{entries: make(map[string]*loginEntry), size: loginTableSize, forget: loginForget}
}

// get returns the live entry of key, or nil (forgetting a stale one).
func (t *loginTable) get(key string, now time.Time) *loginEntry {
	e := t.entries[key]
	if e != nil && now.Sub(e.last) >= t.forget {
		delete(t.entries, key)
		return nil
	}
	return e
}

// wait is how long an attempt from key must wait before its password is
// checked: until the delay earned by the address's last failure is over,
// whichever connection it came from. Closing a connection early to skip
// the delay therefore gains nothing.
func (t *loginTable) wait(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(key, now)
	if e == nil || !e.until.After(now) {
		return 0
	}
	return e.until.Sub(now)
}

// fail records a failure from key whose connection has had connFailures
// (this one included) and returns the address's count and the delay
// earned, by the schedule delay.
func (t *loginTable) fail(key string, now time.Time, connFailures int, delay func(int) time.Duration) (failures int, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(key, now)
	if e == nil {
		t.makeRoom(now)
		e = &loginEntry{}
		t.entries[key] = e
	}
	e.failures++
	e.last = now
	d = delay(max(e.failures, connFailures))
	if u := now.Add(d); u.After(e.until) {
		e.until = u
	}
	return e.failures, d
}

// owed returns the address's failure count and the wait it owes now.
func (t *loginTable) owed(key string, now time.Time) (failures int, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(key, now)
	if e == nil {
		return 0, 0
	}
	return e.failures, max(e.until.Sub(now), 0)
}

// seed takes an address's count and owed wait from another process's
// table (a daemon's, for the session process it starts).
func (t *loginTable) seed(key string, now time.Time, failures int, wait time.Duration) {
	if failures <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(key, now)
	if e == nil {
		t.makeRoom(now)
		e = &loginEntry{}
		t.entries[key] = e
	}
	e.failures = max(e.failures, failures)
	e.last = now
	if u := now.Add(max(wait, 0)); u.After(e.until) {
		e.until = u
	}
}

// LoginFailures is a table of failed logins per client address, like the
// one a Server keeps for its own connections (bounded, forgetting). A
// -listen daemon that starts a session process per connection keeps one
// for them: each process reports its failures to the daemon
// (Options.LoginFailed), learning the address's count in return, and is
// told at start what its client's address owes (Server.SeedLoginFailures),
// so the delays grow across connections there too.
type LoginFailures struct{ t *loginTable }

// NewLoginFailures returns an empty table.
func NewLoginFailures() *LoginFailures { return &LoginFailures{t: newLoginTable()} }

// Owed returns the failures of client's address and the wait it owes now.
func (f *LoginFailures) Owed(client net.Addr) (failures int, wait time.Duration) {
	return f.t.owed(ClientKey(client), time.Now())
}

// Fail records a failed login from client's address, earning the delay of
// the schedule (LoginDelay with first and max); it returns the address's
// failures and that delay.
func (f *LoginFailures) Fail(client net.Addr, first, max time.Duration) (failures int, delay time.Duration) {
	return f.t.fail(ClientKey(client), time.Now(), 0, func(n int) time.Duration { return LoginDelay(n, first, max) })
}

// makeRoom drops stale entries, then the oldest one, until one more fits.
func (t *loginTable) makeRoom(now time.Time) {
	if len(t.entries) < t.size {
		return
	}
	var oldest string
	var oldestAt time.Time
	for k, e := range t.entries {
		if now.Sub(e.last) >= t.forget {
			delete(t.entries, k)
			continue
		}
		if oldest == "" || e.last.Before(oldestAt) {
			oldest, oldestAt = k, e.last
		}
	}
	if len(t.entries) >= t.size && oldest != "" {
		delete(t.entries, oldest)
	}
}

// loginLimits is the per-connection part: the pre-login deadline and the
// failed login count. It is embedded in conn.
type loginLimits struct {
	start    time.Time     // connected
	deadline time.Duration // from start to login at most
	table    *loginTable   // shared by the process's connections

	// From Options, else the session's Config, else the defaults.
	optDelay, optDelayMax time.Duration
	optMaxFailures        int

	lmu         sync.Mutex
	delay       time.Duration
	delayMax    time.Duration
	maxFailures int
	failures    int
	cut         bool // too many failures: BYE at the next read

	quit     chan struct{} // closed on shutdown: a pause ends
	quitOnce sync.Once

	onFailure func(net.Addr) (int, time.Duration) // Options.LoginFailed
}

func (l *loginLimits) initLimits(opts *Options, table *loginTable) {
	l.start = time.Now()
	l.quit = make(chan struct{})
	l.deadline = opts.PreAuthDeadline
	if l.deadline <= 0 {
		l.deadline = DefaultPreAuthDeadline
	}
	l.table = table
	if l.table == nil {
		l.table = newLoginTable()
	}
	l.optDelay, l.optDelayMax, l.optMaxFailures = opts.LoginDelay, opts.LoginDelayMax, opts.MaxLoginFailures
	l.onFailure = opts.LoginFailed
	l.configure(nil)
}

// configure takes the throttling settings from the session's
// configuration; Options fields that are set win (negative: none).
func (l *loginLimits) configure(cfg *config.Config) {
	delay, delayMax, maxFailures := DefaultLoginDelay, DefaultLoginDelayMax, DefaultMaxLoginFailures
	if cfg != nil {
		delay, delayMax, maxFailures = cfg.ImapdLoginDelay, cfg.ImapdLoginDelayMax, cfg.ImapdMaxLoginFailures
	}
	if l.optDelay != 0 {
		delay = max(l.optDelay, 0)
	}
	if l.optDelayMax != 0 {
		delayMax = max(l.optDelayMax, 0)
	}
	if l.optMaxFailures != 0 {
		maxFailures = max(l.optMaxFailures, 0)
	}
	l.lmu.Lock()
	l.delay, l.delayMax, l.maxFailures = delay, delayMax, maxFailures
	l.lmu.Unlock()
}

// stopPausing ends a pause now and makes later ones return at once: the
// server is shutting down, and a session in a pause (AUTHENTICATE holds
// go-imap's writer meanwhile) would keep the BYE from being written.
func (l *loginLimits) stopPausing() {
	l.quitOnce.Do(func() { close(l.quit) })
}

// preAuthLeft is the time left before the pre-login deadline.
func (l *loginLimits) preAuthLeft() time.Duration {
	return l.deadline - time.Since(l.start)
}

// cutNow reports whether the connection must be cut for its failures.
func (l *loginLimits) cutNow() bool {
	l.lmu.Lock()
	defer l.lmu.Unlock()
	return l.cut
}

// pause waits d, or less: until the connection is closed, the server shuts
// down or the pre-login deadline passes (the next read then ends the
// connection). It blocks only the connection's own goroutine.
func (c *conn) pause(d time.Duration) {
	if left := c.preAuthLeft(); left < d {
		d = left
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.closed:
	case <-c.quit:
	}
}

// login runs check (the session's Login, reached by LOGIN and AUTHENTICATE
// PLAIN alike) with the throttling around it: it waits first while the
// client's address is paying for an earlier failure; after a failure it
// logs the documented line, waits the delay the failure earned, and after
// maxFailures on this connection marks it to be cut with ByeLoginFailures.
// The log lines (docs/security.md, stable for fail2ban):
//
//	login failure: client=<ip> user="<name>" failures=<n on this connection> address_failures=<n from the address>
//	login failures: client=<ip> user="<name>" too many (<n>), disconnecting
func (c *conn) login(username string, check func() error) error {
	key, ip := ClientKey(c.RemoteAddr()), ClientIP(c.RemoteAddr())
	if c.cutNow() {
		return loginRefused
	}
	if len(username) > maxLoggedUser {
		username = username[:maxLoggedUser] + "..."
	}
	c.pause(c.table.wait(key, time.Now()))
	select {
	case <-c.closed:
		return loginRefused
	case <-c.quit:
		return loginRefused
	default:
	}
	if c.preAuthLeft() <= 0 {
		return loginRefused // the next read says BYE
	}
	err := check()
	if err == nil || !isLoginFailure(err) {
		return err
	}
	c.lmu.Lock()
	c.failures++
	n := c.failures
	delay, delayMax, maxFailures := c.delay, c.delayMax, c.maxFailures
	cut := maxFailures > 0 && n >= maxFailures
	c.cut = c.cut || cut
	c.lmu.Unlock()
	ipN, d := c.table.fail(key, time.Now(), n, func(k int) time.Duration { return LoginDelay(k, delay, delayMax) })
	if c.onFailure != nil {
		if n2, d2 := c.onFailure(c.RemoteAddr()); n2 > ipN || d2 > d {
			ipN, d = max(ipN, n2), max(d, d2)
			c.table.seed(key, time.Now(), ipN, d)
		}
	}
	log := c.logger()
	log.Infof("login failure: client=%s user=%q failures=%d address_failures=%d", ip, username, n, ipN)
	if cut {
		log.Infof("login failures: client=%s user=%q too many (%d), disconnecting", ip, username, n)
	}
	c.pause(d)
	return err
}

// maxLoggedUser bounds the user name in the failure lines: a client can
// send kilobytes of it, and every failure is logged.
const maxLoggedUser = 64

// loginRefused answers an attempt on a connection being cut.
var loginRefused = &imap.Error{Type: imap.StatusResponseTypeNo, Text: "LOGIN failed"}

// isLoginFailure reports whether Login's error is a refused login (wrong
// name or password), not the authentication being unavailable.
func isLoginFailure(err error) bool {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return false
	}
	return ie.Type == imap.StatusResponseTypeNo && ie.Code != imap.ResponseCodeUnavailable
}
