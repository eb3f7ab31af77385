package session

import (
	"errors"
	"time"

	"imapd/mailbox"
)

// Flags are saved in batches, as UW and Dovecot do (issue 10): STORE, a
// FETCH that sets \Seen, and the like change memory only, and the mailbox
// file gets the session's unsaved flags
//   - at CHECK, LOGOUT, and IDLE before its "+ idling" (Command: the server
//     names each command before go-imap runs it; go-imap itself runs CHECK
//     as NOOP and LOGOUT without asking the session),
//   - at CLOSE, UNSELECT, EXPUNGE, MOVE and SELECT/EXAMINE of another
//     mailbox, which write the file anyway,
//   - when another session or process wants the mailbox (letGo, the "kiss
//     of death") and when the session ends for any reason (LOGOUT, a
//     dropped connection, the idle timeout, a server shutdown: Close),
//   - and at the latest FlushDelay after the first unsaved change: a timer
//     that takes the session's lock. It is armed only while something is
//     unsaved, so a session with nothing to save has no timer running and
//     no goroutine.
//
// A mailbox shared read-write with other sessions (imapd_shared_mailboxes,
// shared.go) is the exception: there the flags are saved at the end of
// every command that changed them, as before, since the other sessions
// learn of a change only once it is in the file.
//
// A command that changed nothing costs no lock and no write. A flag change
// can be lost only by a crash (of the process or the machine) inside that
// window; mail never (docs/compatibility.md, "Flags").

// DefaultFlushDelay is the longest a flag change stays in memory only.
const DefaultFlushDelay = 5 * time.Second

// flushState is the session's save timer.
type flushState struct {
	timer *time.Timer // made on the first unsaved change, reused after
	armed bool        // the timer will fire (or fired and waits for mu)
}

func (s *Session) flushDelay() time.Duration {
	if s.deps.FlushDelay > 0 {
		return s.deps.FlushDelay
	}
	return DefaultFlushDelay
}

// Command is told the name of each command (upper case, "UID FETCH" for
// UID commands) just before go-imap runs it; the server calls it from the
// connection's goroutine. CHECK, LOGOUT and IDLE save unsaved flags here,
// before their answer.
func (s *Session) Command(name string) {
	switch name {
	case "CHECK", "LOGOUT", "IDLE":
	default:
		return
	}
	if err := s.begin(name); err != nil {
		return
	}
	defer s.mu.Unlock()
	s.saveFlags()
}

// flushLater makes sure unsaved flags of the selected mailbox are saved
// within the flush delay. Caller holds mu.
func (s *Session) flushLater() {
	sel := s.sel
	if sel == nil || !sel.dirty || sel.mbox.ReadOnly() {
		return
	}
	if _, shared := sel.mbox.(*sharedView); shared {
		s.saveFlags()
		return
	}
	s.armFlush()
}

// armFlush starts the timer unless it runs. Caller holds mu.
func (s *Session) armFlush() {
	if s.flush.armed {
		return
	}
	s.flush.armed = true
	if s.flush.timer == nil {
		s.flush.timer = time.AfterFunc(s.flushDelay(), s.flushDue)
		return
	}
	s.flush.timer.Reset(s.flushDelay())
}

// flushDue is the timer's: the oldest unsaved change is FlushDelay old.
func (s *Session) flushDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flush.armed = false
	if s.ended {
		return
	}
	s.saveFlags()
}

// saveFlags writes the unsaved flags of the selected mailbox now. Caller
// holds mu. A failure is logged and told to the client (a notice before the
// next tagged reply), and the timer tries again. A mailbox changed behind
// the session's back refuses every later call: the next Poll ends the
// session.
func (s *Session) saveFlags() {
	sel := s.sel
	if sel == nil || !sel.dirty || sel.mbox.ReadOnly() {
		return
	}
	if err := sel.mbox.Checkpoint(); err != nil {
		s.deps.Log.Errorf("save flags of %s %s: %v", sel.path, s.who(), err)
		if errors.Is(err, mailbox.ErrChanged) {
			return
		}
		s.conn.Notice("* NO Unable to save flags now, will retry: " + shortErr(err))
		s.armFlush()
		return
	}
	sel.dirty = false
	if s.flush.armed && s.flush.timer.Stop() {
		s.flush.armed = false
	}
}
