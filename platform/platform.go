// Package platform owns the seams where unix and Windows behave differently:
// default paths, the subscription file name, and what happens when a second
// session selects a mailbox another session holds read-write. The per-OS
// code lives in platform/unix and platform/windows and is reached only
// through this package.
package platform

import (
	"fmt"
	"os"
	"sync"
	"time"
)

// Claim is a session's hold on a mailbox file. A read-write claim must be
// released when the session closes the mailbox.
type Claim struct {
	key      string
	readOnly bool
	letGo    func()
	hold     func() // releases the cross-process hold (Windows); nil elsewhere
	released chan struct{}
	once     sync.Once
}

// ReadOnly reports whether the session got the mailbox read-only.
func (c *Claim) ReadOnly() bool { return c.readOnly }

// Release gives the mailbox up. Safe to call more than once and on nil.
func (c *Claim) Release() {
	if c == nil || c.readOnly {
		return
	}
	c.once.Do(func() {
		registry.mu.Lock()
		if registry.holders[c.key] == c {
			delete(registry.holders, c.key)
		}
		registry.mu.Unlock()
		if c.hold != nil {
			c.hold()
		}
		close(c.released)
	})
}

var registry = struct {
	mu      sync.Mutex
	holders map[string]*Claim
}{holders: map[string]*Claim{}}

// LetGoTimeout is how long a new session waits for the earlier holder to
// let go before it settles for read-only access (UW waits 15 seconds).
var LetGoTimeout = 15 * time.Second

// key identifies a file by device and inode where the OS has them, so two
// names of one file are one mailbox.
func key(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("stat mailbox %s: %w", path, err)
	}
	if id, ok := fileID(fi); ok {
		return id, nil
	}
	return path, nil
}

// ClaimMailbox asks for read-write access to the mailbox file at path for a
// session. letGo is called, from another goroutine, when a later session
// takes the mailbox over: the session must save its changes, say BYE, close
// the mailbox and Release. notices are untagged lines for the client.
// With readOnly the caller only wants to look: nobody is disturbed.
func ClaimMailbox(path string, readOnly bool, letGo func()) (c *Claim, notices []string, err error) {
	k, err := key(path)
	if err != nil {
		return nil, nil, err
	}
	if readOnly {
		return &Claim{key: k, readOnly: true}, nil, nil
	}
	c = &Claim{key: k, letGo: letGo, released: make(chan struct{})}
	if !SecondSelectTakesOver {
		// Windows: the hold is a sharing-mode lock file, seen by every
		// imapd process (imapdsvc runs one per connection).
		release, elsewhere, err := holdMailbox(path)
		if err != nil || elsewhere {
			c.readOnly = true
			return c, []string{"* NO Mailbox is open by another session, access is readonly"}, nil
		}
		c.hold = release
	}
	registry.mu.Lock()
	prev := registry.holders[k]
	if prev == nil {
		registry.holders[k] = c
		registry.mu.Unlock()
		return c, nil, nil
	}
	registry.mu.Unlock()
	if !SecondSelectTakesOver {
		c.readOnly = true
		return c, []string{"* NO Mailbox is open by another session, access is readonly"}, nil
	}
	notices = append(notices, "* NO Trying to get mailbox lock from another session")
	go prev.letGo()
	select {
	case <-prev.released:
	case <-time.After(LetGoTimeout):
		c.readOnly = true
		return c, append(notices, "* NO Mailbox is open by another process, access is readonly"), nil
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.holders[k] != nil {
		c.readOnly = true
		return c, append(notices, "* NO Mailbox is open by another process, access is readonly"), nil
	}
	registry.holders[k] = c
	return c, notices, nil
}

// InUse reports whether a session holds the mailbox file at path read-write
// (DELETE refuses such a mailbox).
func InUse(path string) bool {
	k, err := key(path)
	if err != nil {
		return false
	}
	if !SecondSelectTakesOver {
		if held, err := mailboxHeld(path); err == nil && held {
			return true
		}
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	return registry.holders[k] != nil
}
