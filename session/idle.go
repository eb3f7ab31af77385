package session

import (
	"sync"
	"time"

	"github.com/emersion/go-imap/v2/imapserver"
)

// IDLE without a goroutine of its own.
//
// go-imap runs Session.Idle in a goroutine and, in the connection's
// goroutine, waits for the client's DONE; when it comes it closes stop and
// waits for Idle to return. A goroutine parked for every idling client
// costs a stack (4-8 KiB each, issue 10). So when the server tells the
// session when it hands go-imap the IDLE and the moment the line ending it
// arrives (IdleInput: the guard sees every line before go-imap does), Idle
// only arms a timer and
// returns at once: each tick, and each wake from a session of this
// process that wrote the mailbox (tracker.go), runs one poll in a
// short-lived goroutine of the timer, under the session's lock. The
// ending line makes the server call the returned done function, which
// waits for a poll in progress and stops the timer before go-imap reads
// the line and answers the IDLE: nothing is written after the tagged
// answer (and an Idle that go-imap's goroutine calls only after the line
// came arms nothing). Without IdleInput (no server told us), Idle waits on stop as
// go-imap expects.

// idling is an IDLE in progress (s.idle), driven by its timer.
type idling struct {
	w     *imapserver.UpdateWriter
	timer *time.Timer

	mu      sync.Mutex // a leaf: taken under s.mu and under tracker.mu
	over    bool       // ended: the timer is stopped for good
	pending bool       // woken since the poll in progress began
}

// wake makes the next poll run now (tracker.go calls it, holding the
// tracker's lock).
func (it *idling) wake() {
	it.mu.Lock()
	defer it.mu.Unlock()
	if !it.over {
		it.pending = true
		it.timer.Reset(0)
	}
}

// stop ends it; a tick already started finds it is no longer s.idle.
func (it *idling) stop() {
	it.mu.Lock()
	defer it.mu.Unlock()
	it.over = true
	it.timer.Stop()
}

// IdleInput tells the session that the caller will call start when it
// hands go-imap an IDLE command, and done when the client's line ending it
// (DONE) arrives, before go-imap reads that line; Idle then needs no
// goroutine while it waits. Neither may be called with the session's lock
// held, nor while a command holds it.
func (s *Session) IdleInput() (start, done func()) {
	s.mu.Lock()
	s.idleInput = true
	s.mu.Unlock()
	return s.idleStart, s.idleDone
}

// idleStart records that an IDLE was handed to go-imap: its Idle may run
// only until the line ending it arrives.
func (s *Session) idleStart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idleOpen = true
}

// Idle reports new mail while the client idles, and saves flags. With
// shared mailboxes a session of this process that wrote the mailbox wakes
// it at once (tracker.go); other programs' changes are seen at the tick.
func (s *Session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	s.mu.Lock()
	if !s.idleInput {
		s.mu.Unlock()
		return s.idleWait(w, stop)
	}
	defer s.mu.Unlock()
	if s.ended {
		return errEnded
	}
	select {
	case <-stop:
		// A late goroutine of an IDLE go-imap already ended (a line
		// other than DONE is answered BAD without waiting for Idle): the
		// IDLE open now, if any, is another one; leave it be.
		return nil
	default:
	}
	s.endIdle()
	if !s.idleOpen || s.sel == nil {
		// DONE came before go-imap's goroutine called Idle, or there is
		// nothing to look at until it comes.
		return nil
	}
	it := &idling{w: w}
	first := s.deps.IdlePoll
	if sel := s.sel; sel != nil && sel.wake != nil {
		select {
		case <-sel.wake: // woken before the IDLE: look now
			first = 0
		default:
		}
	}
	it.timer = time.AfterFunc(first, func() { s.idleTick(it) })
	s.idle = it
	if sel := s.sel; sel != nil && sel.wake != nil {
		sel.idle.Store(it)
	}
	return nil
}

// idleTick polls for an IDLE in progress and arms the next tick.
func (s *Session) idleTick(it *idling) {
	if err := s.begin("IDLE"); err != nil {
		return
	}
	defer s.mu.Unlock()
	if s.idle != it {
		return // ended while this tick waited for the lock
	}
	it.mu.Lock()
	it.pending = false
	it.mu.Unlock()
	if sel := s.sel; sel != nil && sel.wake != nil {
		select {
		case <-sel.wake:
		default:
		}
	}
	if err := s.poll(it.w, true); err != nil {
		// A fatal error said BYE and closed the connection; a write
		// error means the client is gone. Either way the read that waits
		// for DONE ends the session, as it did when Idle returned the
		// error to go-imap.
		s.endIdle()
		return
	}
	it.mu.Lock()
	defer it.mu.Unlock()
	next := s.deps.IdlePoll
	if it.pending {
		next = 0
	}
	if !it.over {
		it.timer.Reset(next)
	}
}

// idleDone ends the IDLE in progress, after the poll that may be running.
func (s *Session) idleDone() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.idleOpen = false
	s.endIdle()
}

// endIdle stops the IDLE in progress, if any. Caller holds mu.
func (s *Session) endIdle() {
	it := s.idle
	if it == nil {
		return
	}
	s.idle = nil
	it.stop()
	if sel := s.sel; sel != nil {
		sel.idle.CompareAndSwap(it, nil)
	}
}

// idleWait is Idle in a goroutine of go-imap's that waits for stop.
func (s *Session) idleWait(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	t := time.NewTicker(s.deps.IdlePoll)
	defer t.Stop()
	var wake chan struct{}
	s.mu.Lock()
	if s.sel != nil {
		wake = s.sel.wake
	}
	s.mu.Unlock()
	for {
		select {
		case <-stop:
			return nil
		case <-wake:
		case <-t.C:
		}
		if err := s.begin("IDLE"); err != nil {
			return err
		}
		err := s.poll(w, true)
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
}
