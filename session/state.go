package session

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/account"
	"imapd/auth"
	"imapd/folders"
	"imapd/mailbox"
	"imapd/platform"
)

// Session is one connection's IMAP backend.
type Session struct {
	deps Deps
	conn Conn

	// mu serialises the session's own commands with letGo, which another
	// session calls from its goroutine.
	mu sync.Mutex

	acct    *account.Account
	authn   auth.Authenticator
	tree    *folders.Tree
	storage mailbox.Store // the user's storage format, set at login
	quota   *quotaState   // nil: no quota

	sel       *selected
	flush     flushState // saves unsaved flags in time (flush.go)
	endReason string     // why the session ended, for the log
	// ended: the session was told to let go of its mailbox and said BYE;
	// every later command is refused without an answer (the connection is
	// closed), so a client never sees its mailbox silently deselected.
	ended bool

	searchRes searchResult // SEARCHRES's "$" (searchres.go)

	idle      *idling // the IDLE in progress (idle.go)
	idleInput bool    // the server calls IdleInput's start and done
	idleOpen  bool    // an IDLE was handed to go-imap, its DONE not yet seen
}

// errEnded is what a command gets once the session has ended: go-imap's
// answer to it cannot reach the client (the BYE was the last line).
var errEnded = &imap.Error{Type: imap.StatusResponseTypeBye, Text: "Killed (lost mailbox lock)"}

// testHooks let tests stop a session at the points where it races with a
// mailbox hand-over (export_test.go); nil in production.
type testHooks struct {
	lock  func(what string) // a command is about to take the session's lock
	letGo func()            // letGo let the mailbox go and is about to say BYE
}

var hooks atomic.Pointer[testHooks]

// begin takes the session's lock for a command (what: its name). It
// refuses once the session has ended.
func (s *Session) begin(what string) error {
	if h := hooks.Load(); h != nil && h.lock != nil {
		h.lock(what)
	}
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return errEnded
	}
	return nil
}

// selected is the mailbox a session has selected.
type selected struct {
	name     string // as the client named it
	path     string
	mbox     mailbox.Mailbox
	claim    *platform.Claim
	told     int      // messages the client knows of (EXISTS)
	keywords []string // keywords the client was told in FLAGS
	lost     bool     // taken over by another session
	dirty    bool     // flags changed since the last checkpoint

	// Shared mailboxes (imapd_shared_mailboxes, shared.go); nil otherwise.
	shared *sharedView            // the same as mbox
	wake   chan struct{}          // another session of this process wrote the mailbox
	idle   atomic.Pointer[idling] // the IDLE to wake then (idle.go)
}

// setFlags changes a message's flags in memory; flush.go saves them.
func (sel *selected) setFlags(i int, flags mailbox.Flags, keywords []string) error {
	sel.dirty = true
	if err := sel.mbox.SetFlags(i, flags, keywords); err != nil {
		return err
	}
	if sel.shared != nil {
		// The command shows the client the new flags itself.
		sel.shared.showed(i)
	}
	return nil
}

// grow records that the client now knows of n messages (EXISTS).
func (sel *selected) grow(n int) {
	if sel.shared != nil {
		sel.shared.grow(n)
	}
	sel.told = n
}

// forget records that the client was told EXPUNGE for the messages at
// these indexes (ascending, each as numbered before any of them went);
// those at or beyond told it never knew.
func (sel *selected) forget(gone []int) {
	for k := len(gone) - 1; k >= 0; k-- {
		i := gone[k]
		if i >= sel.told {
			continue
		}
		sel.told--
		if sel.shared != nil {
			sel.shared.forget(i)
		}
	}
}

// sharing reports whether sessions may hold a mailbox read-write together
// (imapd_shared_mailboxes).
func (s *Session) sharing() bool {
	return s.deps.Config != nil && s.deps.Config.ImapdSharedMailboxes
}

// New makes the session of one connection.
func New(deps Deps, conn Conn) *Session {
	if deps.IdlePoll <= 0 {
		deps.IdlePoll = 10 * time.Second
		if deps.Config != nil && deps.Config.ImapdSharedMailboxes {
			// Another process's changes are seen only by looking (a
			// stat): IDLE looks more often.
			deps.IdlePoll = 2 * time.Second
		}
	}
	if deps.Config != nil && deps.Config.ImapdSharedMailboxes {
		platform.ShareMailboxes()
	}
	return &Session{deps: deps, conn: conn}
}

var (
	_ imapserver.Session          = (*Session)(nil)
	_ imapserver.SessionNamespace = (*Session)(nil)
	_ imapserver.SessionMove      = (*Session)(nil)
)

// ipOf returns the IP part of an address, or "" for pipes.
func ipOf(a net.Addr) string {
	if a == nil {
		return ""
	}
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	return host
}

func (s *Session) clientIP() string { return ipOf(s.conn.RemoteAddr()) }

func (s *Session) who() string {
	user := "?"
	if s.acct != nil {
		user = s.acct.User
	}
	host := s.clientIP()
	if host == "" {
		host = "local"
	}
	return fmt.Sprintf("user=%s host=%s", user, host)
}

// Close ends the session: changes reach the file, locks are let go.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endIdle()
	err := s.closeSelected()
	if s.authn != nil {
		s.authn.Close()
		s.authn = nil
	}
	if s.acct != nil {
		reason := s.endReason
		if reason == "" {
			reason = "connection closed"
		}
		s.deps.Log.Infof("session end %s: %s", s.who(), reason)
	}
	return err
}

// closeSelected saves and closes the selected mailbox. Caller holds mu.
func (s *Session) closeSelected() error {
	sel := s.sel
	if sel == nil {
		return nil
	}
	s.endIdle()
	s.sel = nil
	if sel.shared != nil {
		unwatch(sel.path, sel)
	}
	err := sel.mbox.Close()
	sel.claim.Release()
	if err != nil {
		s.deps.Log.Errorf("close mailbox %s %s: %v", sel.path, s.who(), err)
		return fmt.Errorf("close mailbox %s: %w", sel.name, err)
	}
	return nil
}

// letGo is called, from another goroutine, by a later session that wants
// the mailbox claim holds (unix; another process's SIGUSR2 comes here
// too): save, say goodbye, go (UW's "kiss of death"). A session that has
// let go of that mailbox already (it selected another one, or the same one
// again under a new claim) is left alone.
//
// Everything happens under the session's lock, the BYE included: a
// command waiting for the lock then finds the session ended and gets no
// answer, instead of "NO No mailbox selected" before the BYE (the race of
// issue 9 item 8). Bye waits for a response being written to end; a
// response is only ever written by a command holding the lock or by
// go-imap itself, which never waits for this lock, so this cannot
// deadlock.
func (s *Session) letGo(claim *platform.Claim) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.sel == nil || s.sel.claim != claim {
		return
	}
	s.sel.lost = true
	s.closeSelected()
	s.ended = true
	s.endReason = "Killed (lost mailbox lock)"
	if h := hooks.Load(); h != nil && h.letGo != nil {
		h.letGo()
	}
	s.conn.Bye("Killed (lost mailbox lock)")
}

// fatal ends a session whose mailbox went bad under it. It is called
// between responses (from Poll, Idle, Expunge, Move), never with a
// response writer open, so the BYE is written here, before go-imap closes
// the connection on the error returned (a BYE sent from another goroutine
// could lose that race).
func (s *Session) fatal(reason string) error {
	s.endReason = reason
	s.deps.Log.Errorf("%s %s", reason, s.who())
	s.conn.Bye(reason)
	return &imap.Error{Type: imap.StatusResponseTypeBye, Text: reason}
}

func no(code imap.ResponseCode, format string, args ...any) *imap.Error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: fmt.Sprintf(format, args...)}
}

// storageErr turns an error from folders or mailbox into a tagged NO.
func (s *Session) storageErr(what string, err error) error {
	var ferr *folders.Error
	switch {
	case errors.As(err, &ferr):
		return &imap.Error{Type: imap.StatusResponseTypeNo, Code: ferr.Code, Text: ferr.Text}
	case errors.Is(err, mailbox.ErrLocked):
		return no(imap.ResponseCodeInUse, "%s: mailbox is locked by another program, try again", what)
	case errors.Is(err, mailbox.ErrReadOnly):
		return no(imap.ResponseCodeCannot, "%s: mailbox is read-only", what)
	case errors.Is(err, mailbox.ErrNotMailbox):
		return no(imap.ResponseCodeCannot, "%s: not a mailbox imapd can read", what)
	case errors.Is(err, mailbox.ErrTooManyKeywords):
		return no(imap.ResponseCodeLimit, "%s: too many keywords in this mailbox", what)
	case errors.Is(err, errGone):
		// RFC 2180 4.1.3, RFC 5530: the client is told EXPUNGE at its
		// next command that allows it.
		return no(imap.ResponseCode("EXPUNGEISSUED"), "%s: some of the messages were expunged by another session", what)
	case isNoSpace(err):
		// The store left the files as they were (mailbox/mbox cuts a
		// partial append back, and a rewrite does not start without room
		// for its journal). Dovecot answers the same.
		s.deps.Log.Errorf("%s %s: %v", what, s.who(), err)
		return no(imap.ResponseCodeOverQuota, "%s: not enough disk space, nothing was changed", what)
	}
	s.deps.Log.Errorf("%s %s: %v", what, s.who(), err)
	return no(imap.ResponseCodeServerBug, "%s failed: %s", what, shortErr(err))
}

// isNoSpace reports whether err is a full file system or disk quota.
func isNoSpace(err error) bool {
	for _, e := range noSpace {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// shortErr keeps the client's view of an internal error short and free of
// paths outside the user's area.
func shortErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return msg
}

func (s *Session) needSelected() (*selected, error) {
	if s.sel == nil {
		return nil, no("", "No mailbox selected")
	}
	return s.sel, nil
}
