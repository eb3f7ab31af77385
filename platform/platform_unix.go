//go:build unix

package platform

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"imapd/platform/unix"
)

// SecondSelectTakesOver: on unix the earlier session is disconnected when
// another selects its mailbox (the manual's user notes).
const SecondSelectTakesOver = true

// SubscriptionFile is the name of the subscription file in the folder root.
func SubscriptionFile() string { return unix.SubscriptionFile }

// DefaultConfigPath is where dmail.conf is looked for without -i or $DMAIL_CONF.
func DefaultConfigPath() string { return unix.DefaultConfigPath }

func fileID(fi os.FileInfo) (string, bool) { return unix.FileID(fi) }
func alreadyUser(uid int) bool             { return os.Getuid() == uid && os.Geteuid() == uid }

// StdinSocketAddrs: on unix a socket on stdin is found by net.FileConn
// (server.StdioConn); this finds nothing.
func StdinSocketAddrs() (local, remote net.Addr) { return nil, nil }

// Links is the number of hard links of a file (ok false when unknown).
func Links(fi os.FileInfo) (uint64, bool) { return unix.Links(fi) }

// Atime is the file's last access time (ok false when unknown).
func Atime(fi os.FileInfo) (time.Time, bool) { return unix.Atime(fi) }

// Privileged reports whether the process runs as root (and so can become
// a user).
func Privileged() bool { return os.Geteuid() == 0 }

func becomeUser(u *User) error {
	if u.GID < 0 {
		name, gid, err := unix.LookupUID(u.UID)
		if err != nil {
			return fmt.Errorf("become uid %d: no group known for it: %w", u.UID, err)
		}
		u.GID = gid
		if u.Name == "" {
			u.Name = name
		}
	}
	return unix.BecomeUser(u.Name, u.UID, u.GID)
}

// CheckUserAccess checks, as the process now is, that the user can reach
// their mail: enter the drop file's directory and read the drop file (when
// it exists), enter the folder root or the nearest existing directory above
// it. The error says what is missing (the manual's "Problems with
// unix-user Authentication").
func CheckUserAccess(dropFile, folderRoot string) error {
	if err := unix.CanEnter(filepath.Dir(dropFile)); errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("cannot enter the directory of the drop file: %w", err)
	}
	if _, err := os.Lstat(dropFile); err == nil {
		if err := unix.CanRead(dropFile); err != nil {
			return fmt.Errorf("cannot read the drop file: %w", err)
		}
	} else if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("cannot reach the drop file: %w", err)
	}
	if folderRoot == "" {
		return nil
	}
	dir := folderRoot
	for {
		err := unix.CanEnter(dir)
		if err == nil {
			return nil
		}
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("cannot enter the folder directory %s: %w", folderRoot, err)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return nil
		}
		dir = up
	}
}

// acrossLock is the session lock held between processes: UW's
// (*unix.SessionLock), or with lock_id the cluster lock
// (*unix.ClusterLock, cluster_unix.go).
type acrossLock interface{ Unlock() error }

// held are this process's claims with a session lock; SIGUSR2 picks from them.
var held = struct {
	mu     sync.Mutex
	claims map[*Claim]*unix.SessionLock
}{claims: map[*Claim]*unix.SessionLock{}}

var watchOnce sync.Once

// watchLetGo relays SIGUSR2 to the claim another process wants: the only
// one, or those whose lock file a waiter marked.
func watchLetGo() {
	watchOnce.Do(func() {
		ch := make(chan os.Signal, 4)
		unix.NotifyLetGo(ch)
		go func() {
			for range ch {
				held.mu.Lock()
				var pick []*Claim
				for c, l := range held.claims {
					if len(held.claims) == 1 || l.Wanted() {
						pick = append(pick, c)
					}
				}
				n := len(held.claims)
				held.mu.Unlock()
				if len(pick) == 0 && n > 0 {
					Warnf("SIGUSR2: none of the %d mailboxes held by this process was asked for; keeping them", n)
				}
				for _, c := range pick {
					go c.tellLetGo()
				}
			}
		}()
	})
}

func armLetGo() { watchLetGo() }

// unverifiedGrace is how long a new session keeps trying when the holder
// cannot be signalled (no PID, an unverifiable one, or a brief probe by
// another session) before it settles for read-only; UW gives up at once.
const unverifiedGrace = time.Second

// lockAcross takes the session lock for c, asking the holder to let go
// (SIGUSR2) and waiting until deadline. ok false: read-only. shared: a
// shared lock (imapd_shared_mailboxes), which only an exclusive holder
// (UW, or an imapd keeping the legacy rule) stands in the way of. With
// lock_id set the session lock is the cluster lock file, which has no
// shared form: the legacy rule applies there (docs/cluster.md).
func lockAcross(path string, fi os.FileInfo, c *Claim, deadline time.Time, shared bool) (notices []string, ok bool) {
	if id := clusterID(); id != "" {
		return lockCluster(path, fi, c, deadline, id)
	}
	try := unix.TryLock
	if shared {
		try = unix.TryLockShared
	}
	watchLetGo()
	start := time.Now()
	signalled := false
	// Why the holder could not be signalled, told only if we end up
	// read-only: during a hand-over the lock file may still name the
	// holder that has just let go ("does not hold the lock"), which the
	// next try resolves.
	var why error
	giveUp := func() ([]string, bool) {
		if why != nil {
			Warnf("session lock of %s: %v", fi.Name(), why)
		}
		return append(notices, noticeReadOnly), false
	}
	var lastSignal time.Time
	wait := 5 * time.Millisecond
	for {
		held.mu.Lock()
		l, h, err := try(fi, func(msg string) { Warnf("%s", msg) })
		if l != nil {
			c.across = l
			held.claims[c] = l
		}
		held.mu.Unlock()
		if errors.Is(err, unix.ErrForeignLock) {
			// Planted by another local user: it decides nothing. The
			// session has the mailbox read-write, without a session lock
			// (the mailbox file's own locks still guard every change).
			return notices, true
		}
		if err != nil {
			Warnf("%v", err)
			return append(notices, noticeReadOnly), false
		}
		if l != nil {
			return notices, true
		}
		// Signalled again and again (every resignal), not once as UW does:
		// a holder serving several sessions looks for the lock we marked,
		// and a mark made within its clock tick would go unseen.
		if h.PID > 0 && time.Since(lastSignal) >= resignal {
			lastSignal = time.Now()
			if err := unix.SignalLetGo(h); err != nil {
				why = err
			} else if why = nil; !signalled {
				notices = append(notices, fmt.Sprintf(noticeTryingProcess, h.PID))
				signalled = true
			}
		}
		now := time.Now()
		if now.After(deadline) || (!signalled && now.Sub(start) > unverifiedGrace) {
			return giveUp()
		}
		t := time.NewTimer(min(wait, time.Until(deadline)+time.Millisecond))
		<-t.C
		wait = min(2*wait, maxPoll)
	}
}

// maxPoll is the longest pause between two tries of the session lock: a
// lock given up is taken within that time. resignal is how often the
// holder is asked again.
const (
	maxPoll  = 20 * time.Millisecond
	resignal = 250 * time.Millisecond
)

func releaseAcross(c *Claim) {
	held.mu.Lock()
	delete(held.claims, c)
	held.mu.Unlock()
	c.across.Unlock()
	c.across = nil
}

// heldAcross: an exclusive holder (Held) or a shared one (HeldShared,
// probed only for servers sharing mailboxes: the probe takes the lock for
// an instant); with lock_id set, the cluster lock file.
func heldAcross(path string, fi os.FileInfo) bool {
	if id := clusterID(); id != "" {
		return heldCluster(path, fi, id)
	}
	return unix.Held(fi) || (sharingMailboxes() && unix.HeldShared(fi))
}

// SetuidStart reports whether the process was started through its set-uid
// (or set-gid) bit by another user: the manual's installation (root, 6755)
// started by an inetd running as someone else.
func SetuidStart() bool { return unix.SetuidStart() }

// TrustedConfig checks, for a set-uid start, that the configuration file
// cannot have been written by whoever started us, nor be a secret; it
// returns the path to read (links resolved).
func TrustedConfig(path string) (string, error) { return unix.TrustedConfig(path) }

// FileOwner is the owner (uid, gid) of a file; ok is false where the
// platform does not say.
func FileOwner(path string) (uid, gid int, ok bool) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return int(st.Uid), int(st.Gid), true
}

// ProcessGone reports whether no process pid exists on this host (a
// process of another user exists: kill answers EPERM).
func ProcessGone(pid int) bool {
	return pid > 0 && errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// sharingMailboxes reports whether this process serves shared claims.
func sharingMailboxes() bool {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return shared.on
}
