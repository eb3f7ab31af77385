package session

import "sync"

// tracker lets the sessions of one process that share a mailbox
// (imapd_shared_mailboxes) wake each other: a session that wrote the
// mailbox tells the others at once, so an IDLE elsewhere reports the
// change now instead of at its next poll tick. It carries no state of its
// own: each session reads the change from the mailbox itself (see
// shared.go), as a session of another process does. Keyed by path.
var tracker = struct {
	mu   sync.Mutex
	subs map[string]map[*selected]chan struct{}
}{subs: map[string]map[*selected]chan struct{}{}}

// watch registers sel for the mailbox at path; the channel receives a
// value (never blocking the sender) when another session wrote it.
func watch(path string, sel *selected) chan struct{} {
	ch := make(chan struct{}, 1)
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	m := tracker.subs[path]
	if m == nil {
		m = map[*selected]chan struct{}{}
		tracker.subs[path] = m
	}
	m[sel] = ch
	return ch
}

// unwatch takes sel out.
func unwatch(path string, sel *selected) {
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	m := tracker.subs[path]
	delete(m, sel)
	if len(m) == 0 {
		delete(tracker.subs, path)
	}
}

// tell wakes every session watching path but from (nil: all).
func tell(path string, from *selected) {
	tracker.mu.Lock()
	defer tracker.mu.Unlock()
	for sel, ch := range tracker.subs[path] {
		if sel == from {
			continue
		}
		select {
		case ch <- struct{}{}:
		default:
		}
		if it := sel.idle.Load(); it != nil {
			it.wake() // an IDLE with no goroutine waiting on ch (idle.go)
		}
	}
}
