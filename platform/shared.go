package platform

import (
	"sync"
	"time"
)

// Shared claims (imapd_shared_mailboxes): sessions of this server may hold
// one mailbox read-write together. Within a process they meet in the
// shared registry below; between processes (unix) they all hold UW's
// session lock /tmp/.<dev>.<ino> shared. A UW server (or an imapd keeping
// the legacy rule) takes that lock exclusive, so toward it the legacy rule
// still applies both ways: a sharing session asks it to let go (SIGUSR2)
// and waits, or settles for read-only; when it asks, the sessions of the
// process it signals let go. On Windows sessions share within one process;
// between processes the legacy rule (read-only) stays.

// sharedHold is one process's hold on a mailbox its sessions share: one
// session lock (anchor's) for all of them.
type sharedHold struct {
	key    string
	claims map[*Claim]bool
	ready  chan struct{} // closed once the first claim decided ok
	ok     bool          // read-write: the session lock was had
	anchor *Claim        // carries the session lock; letGo tells every claim
}

var shared = struct {
	mu    sync.Mutex
	holds map[string]*sharedHold
	on    bool // some session asked for a shared claim: probe shared holders too
}{holds: map[string]*sharedHold{}}

// ShareMailboxes says that this process's sessions share mailboxes
// (imapd_shared_mailboxes): InUse then also sees sessions of other
// processes sharing a mailbox (a probe that takes their session lock for
// an instant, which a server keeping the legacy rule does not need).
func ShareMailboxes() {
	shared.mu.Lock()
	shared.on = true
	shared.mu.Unlock()
}

// sharedHeld reports whether sessions of this process share the mailbox key.
// Called with registry.mu held.
func sharedHeld(key string) bool {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return shared.holds[key] != nil
}

// ClaimShared is ClaimMailbox for a server that lets its sessions share
// mailboxes (imapd_shared_mailboxes): the claim is read-write alongside
// the other sessions of this server holding the mailbox, of this process
// or (unix) of another. Only a holder keeping the legacy rule (UW, or
// imapd without the setting) is asked to let go, as ClaimMailbox does; if
// it does not, the claim is read-only. letGo is called when such a server
// takes the mailbox over.
func ClaimShared(path string, letGo func()) (c *Claim, notices []string, err error) {
	fi, k, err := identify(path)
	if err != nil {
		return nil, nil, err
	}
	c = &Claim{key: k, letGo: letGo, released: make(chan struct{})}
	shared.mu.Lock()
	shared.on = true
	h := shared.holds[k]
	first := h == nil
	if first {
		h = &sharedHold{key: k, claims: map[*Claim]bool{}, ready: make(chan struct{})}
		shared.holds[k] = h
	}
	h.claims[c] = true
	shared.mu.Unlock()
	if first {
		anchor := &Claim{key: k, released: make(chan struct{})}
		anchor.letGo = h.tellAll
		var ok bool
		notices, ok = lockAcross(path, fi, anchor, time.Now().Add(LetGoTimeout), true)
		shared.mu.Lock()
		h.anchor, h.ok = anchor, ok
		if !ok && shared.holds[k] == h {
			delete(shared.holds, k)
		}
		close(h.ready)
		shared.mu.Unlock()
	} else {
		<-h.ready
	}
	if !h.ok {
		shared.mu.Lock()
		delete(h.claims, c)
		shared.mu.Unlock()
		c.readOnly = true
		if first {
			return c, notices, nil
		}
		return c, []string{noticeReadOnly}, nil
	}
	c.share = h
	return c, notices, nil
}

// tellAll asks every claim of the hold to let go (a legacy server wants
// the mailbox).
func (h *sharedHold) tellAll() {
	shared.mu.Lock()
	cs := make([]*Claim, 0, len(h.claims))
	for c := range h.claims {
		cs = append(cs, c)
	}
	shared.mu.Unlock()
	for _, c := range cs {
		go c.tellLetGo()
	}
}

// leave takes c out of the hold; the last one out lets go of the session
// lock.
func (h *sharedHold) leave(c *Claim) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	delete(h.claims, c)
	if len(h.claims) > 0 {
		return
	}
	if shared.holds[h.key] == h {
		delete(shared.holds, h.key)
	}
	// Under shared.mu: a session of this process claiming the mailbox
	// meanwhile waits, so two locks of this process on one file never
	// overlap (fcntl would drop both at the first close).
	if h.anchor != nil && h.anchor.across != nil {
		releaseAcross(h.anchor)
	}
}
