// Package platform owns the seams where unix and Windows behave differently:
// default paths, the subscription file name, who a session runs as after
// login, and what happens when a second session selects a mailbox another
// session holds read-write; also the small file and process facts other
// packages need (Links, Atime, OpenFileID, OpenMailFile, OwnProcessGroup,
// KillProcessGroup, StdinSocketAddrs). Per-OS code for every OS is in this
// package's _unix and _windows files; what one family alone has lives in
// platform/unix and platform/windows and is reached only through this
// package. docs/architecture.md states the rule for per-OS code.
//
// # A mailbox selected twice
//
// ClaimMailbox is called by SELECT (and EXAMINE, which disturbs nobody).
// Sessions of one process meet in an in-process registry keyed by device
// and inode. On unix the claim also takes UW's session lock
// /tmp/.<dev>.<ino> (see platform/unix), so separate processes (inetd
// sessions, -listen children, a legacy UW-derived imapd on the same spool)
// respect each other the way UW does:
//
//   - the holder in this process is told to let go (its letGo callback:
//     save, close, "* BYE Killed (lost mailbox lock)"); the new session
//     says "* NO Trying to get mailbox lock from another session";
//   - a holder in another process gets SIGUSR2 ("* NO Trying to get mailbox
//     lock from process <pid>"); this process relays SIGUSR2 to the letGo
//     of the claim it concerns;
//   - the new session polls (UW: once a second; here at most every 20 ms,
//     asking again every 250 ms) for LetGoTimeout (UW: 15 s). When the holder did not let go, or
//     cannot be signalled, it gets the mailbox read-only with "* NO Mailbox
//     is open by another process, access is readonly".
//
// On Windows (SecondSelectTakesOver false) the second session gets the
// mailbox read-only at once and the first is not disturbed; between
// processes the hold is platform/windows's sharing-mode lock file.
//
// With imapd_shared_mailboxes sessions call ClaimShared instead (shared.go):
// our own sessions hold the mailbox together, and only a holder keeping
// the legacy rule is told to let go.
//
// Mailbox files reached through a symbolic link or having more than one
// hard link are refused by ClaimMailbox (the 4.4.3z security fix): a user
// could plant such links to reach files they cannot read.
//
// # Identity
//
// On unix, after a unix_user login (or an external one giving a uid), a
// process running as root becomes the user (BecomeUser: groups, gid, uid;
// real, effective and saved) before it touches any of the user's files,
// when imapd_become_user is true. A process can be only one user, so only a
// process serving one session (SetOneSessionProcess: inetd mode, the
// per-connection children of -listen) may do it.
package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Notices of ClaimMailbox (UW's texts for the process case).
const (
	noticeTryingSession = "* NO Trying to get mailbox lock from another session"
	noticeTryingProcess = "* NO Trying to get mailbox lock from process %d"
	noticeReadOnly      = "* NO Mailbox is open by another process, access is readonly"
	noticeReadOnlyWin   = "* NO Mailbox is open by another session, access is readonly"
)

// Warnf receives problems the client is not told in detail (a planted
// session lock, a holder that cannot be signalled). cmd/imapd points it at
// the log.
var Warnf = func(format string, args ...any) {}

// Claim is a session's hold on a mailbox file. A read-write claim must be
// released when the session closes the mailbox.
type Claim struct {
	key       string
	readOnly  bool
	letGo     func()
	letGoOnce sync.Once
	released  chan struct{} // closed when the claim leaves the registry
	once      sync.Once
	across    acrossLock  // held between processes; nil when none
	share     *sharedHold // ClaimShared: the hold it is one of; nil otherwise
}

// ReadOnly reports whether the session got the mailbox read-only.
func (c *Claim) ReadOnly() bool { return c.readOnly }

// Release gives the mailbox up. Safe to call more than once and on nil.
func (c *Claim) Release() {
	if c == nil || c.released == nil {
		return
	}
	c.once.Do(func() {
		if c.share != nil {
			c.share.leave(c)
		}
		if c.across != nil {
			releaseAcross(c)
		}
		registry.mu.Lock()
		if registry.holders[c.key] == c {
			delete(registry.holders, c.key)
		}
		registry.mu.Unlock()
		close(c.released)
	})
}

// tellLetGo asks the claim's session, once, to let go.
func (c *Claim) tellLetGo() {
	if c.letGo != nil {
		c.letGoOnce.Do(c.letGo)
	}
}

var registry = struct {
	mu      sync.Mutex
	holders map[string]*Claim
}{holders: map[string]*Claim{}}

// LetGoTimeout is how long a new session waits for the earlier holder to
// let go before it settles for read-only access (UW waits 15 seconds).
var LetGoTimeout = 15 * time.Second

// identify stats a mailbox file without following a link and names it by
// device and inode where the OS has them, so two names of one file are one
// mailbox. Symbolic links and files with several hard links are refused.
func identify(path string) (os.FileInfo, string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, "", fmt.Errorf("stat mailbox %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, "", fmt.Errorf("mailbox %s is a symbolic link (refused)", path)
	}
	if n, ok := Links(fi); ok && n > 1 && fi.Mode().IsRegular() {
		return nil, "", fmt.Errorf("mailbox %s has %d hard links (refused)", path, n)
	}
	if id, ok := fileID(fi); ok {
		return fi, id, nil
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return fi, abs, nil
}

// ClaimMailbox asks for read-write access to the mailbox file at path for a
// session. letGo is called, from another goroutine, when a later session
// (of this process or another) takes the mailbox over: the session must
// save its changes, say BYE, close the mailbox and Release. notices are
// untagged lines for the client, to be sent after the SELECT data. With
// readOnly the caller only wants to look: nobody is disturbed.
func ClaimMailbox(path string, readOnly bool, letGo func()) (c *Claim, notices []string, err error) {
	fi, k, err := identify(path)
	if err != nil {
		return nil, nil, err
	}
	if readOnly {
		return &Claim{key: k, readOnly: true}, nil, nil
	}
	c = &Claim{key: k, letGo: letGo, released: make(chan struct{})}
	deadline := time.Now().Add(LetGoTimeout)
	for {
		registry.mu.Lock()
		prev := registry.holders[k]
		if prev == nil {
			registry.holders[k] = c
			registry.mu.Unlock()
			break
		}
		registry.mu.Unlock()
		if !SecondSelectTakesOver {
			c.readOnly = true
			return c, []string{noticeReadOnlyWin}, nil
		}
		if len(notices) == 0 {
			notices = append(notices, noticeTryingSession)
		}
		go prev.tellLetGo()
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-prev.released:
			t.Stop()
		case <-t.C:
			c.readOnly = true
			return c, append(notices, noticeReadOnly), nil
		}
	}
	more, ok := lockAcross(path, fi, c, deadline, false)
	notices = append(notices, more...)
	if !ok {
		c.readOnly = true
		c.Release()
	}
	return c, notices, nil
}

// InUse reports whether a session, of this process or another, holds the
// mailbox file at path read-write (DELETE refuses such a mailbox).
func InUse(path string) bool {
	fi, k, err := identify(path)
	if err != nil {
		return false
	}
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.holders[k] != nil || sharedHeld(k) {
		return true
	}
	// Probed under the registry's lock: no session of this process can be
	// taking the lock meanwhile (on fcntl systems closing the probe would
	// drop it).
	return heldAcross(path, fi)
}

// User is the system identity a session takes after login.
type User struct {
	Name string // password file name: selects supplementary groups; "" = GID only
	UID  int
	GID  int // -1: the primary group of UID's password file entry
}

var proc struct {
	mu         sync.Mutex
	oneSession bool
	became     *User
}

// SetOneSessionProcess declares that this process serves exactly one
// session (inetd mode, a child of -listen): it may become that session's
// user. On unix it also arms SIGUSR2 at once (UW does at server start), so
// a stray one never kills the session unsaved.
func SetOneSessionProcess() {
	proc.mu.Lock()
	proc.oneSession = true
	proc.mu.Unlock()
	armLetGo()
}

// ErrSharedProcess: a process serving several sessions cannot become one
// session's user.
var ErrSharedProcess = errors.New("this process serves several sessions and cannot become one user (run imapd from inetd, or set imapd_become_user false)")

// BecomeUser makes the process u for good (unix, as root): supplementary
// groups, gid, uid, real, effective and saved. Becoming the user the
// process already is does nothing; a process that became one user cannot
// become another.
func BecomeUser(u User) error {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	if proc.became != nil {
		if proc.became.UID == u.UID {
			return nil
		}
		return fmt.Errorf("become uid %d: this process already became uid %d", u.UID, proc.became.UID)
	}
	if u.UID < 0 {
		return fmt.Errorf("become user %q: no uid", u.Name)
	}
	if alreadyUser(u.UID) {
		return nil
	}
	if !Privileged() {
		return fmt.Errorf("become uid %d: not running as root", u.UID)
	}
	if !proc.oneSession {
		return ErrSharedProcess
	}
	if err := becomeUser(&u); err != nil {
		return err
	}
	proc.became = &u
	return nil
}

// BecameUser reports whether BecomeUser changed this process's identity.
func BecameUser() bool {
	proc.mu.Lock()
	defer proc.mu.Unlock()
	return proc.became != nil
}

// CheckMailFile refuses a mailbox file (the drop file) that is a symbolic
// link or a regular file with more than one hard link: a user could plant
// either to reach a file they cannot read (the 4.4.3z fix). A missing file
// is fine (it is created when first used).
func CheckMailFile(path string) error {
	_, _, err := identify(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
