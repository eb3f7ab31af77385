//go:build unix

package unix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"imapd/platform/filelock"
)

// LockDir is where session locks live (UW: /tmp, which must be mode 1777).
const LockDir = "/tmp"

// ErrUnsafeLock is a session lock name that is a symbolic link, a hard
// link or not a regular file: it is never opened.
var ErrUnsafeLock = errors.New("session lock name is a symbolic link, a hard link or not a regular file (refused)")

// ErrForeignLock is a session lock file owned by another user than the
// mailbox's owner (and not by root, nor by us) that could not be removed:
// it is ignored, the session goes on without a session lock.
var ErrForeignLock = errors.New("session lock file owned by another user (ignored)")

// LockName is the session lock of the file fi describes: /tmp/.<dev>.<ino>.
func LockName(fi os.FileInfo) (string, bool) {
	id, ok := FileID(fi)
	if !ok {
		return "", false
	}
	return filepath.Join(LockDir, "."+id), true
}

// Verdict says whether a PID read from a lock file is known to hold it.
type Verdict int

const (
	Unverified  Verdict = iota // the OS cannot tell
	Holds                      // the OS says this process holds the lock
	DoesNotHold                // the OS says it does not (stale or planted PID)
)

// Holder is who holds a session lock someone else has.
type Holder struct {
	PID     int // from the lock file; 0 when it holds none (UW's silent streams)
	Verdict Verdict
}

// SessionLock is a held session lock.
type SessionLock struct {
	f        *os.File
	name     string
	dev, ino uint64
	mtime    time.Time
	size     int64
	shared   bool // TryLockShared: other processes may hold it too
}

// Name is the lock file's path.
func (l *SessionLock) Name() string { return l.name }

// TryLock takes the session lock of the mailbox fi describes without
// waiting and writes our PID into it. When another process holds it, the
// lock is nil and holder says who; the lock file is then marked as wanted
// (see Wanted). An error means no lock can be had at all (unsafe name, /tmp
// not writable, or ErrForeignLock).
//
// Only a lock file owned by the mailbox's owner, by root or by the user we
// run as counts: anybody can create a file in /tmp, and a lock planted by
// another local user would make the owner's sessions read-only. Such a
// file is removed when we may (root, a /tmp without the sticky bit), and
// else ignored (ErrForeignLock); warn is told either way.
func TryLock(fi os.FileInfo, warn func(string)) (*SessionLock, Holder, error) {
	return tryLock(fi, warn, filelock.Exclusive)
}

// TryLockShared is TryLock with a shared lock: sessions of servers that
// share mailboxes (imapd_shared_mailboxes) hold it together, while a UW
// server's exclusive lock still excludes them and they it.
func TryLockShared(fi os.FileInfo, warn func(string)) (*SessionLock, Holder, error) {
	return tryLock(fi, warn, filelock.Shared)
}

func tryLock(fi os.FileInfo, warn func(string), mode filelock.Mode) (*SessionLock, Holder, error) {
	name, ok := LockName(fi)
	if !ok {
		return nil, Holder{}, fmt.Errorf("session lock: no device and inode for %s", fi.Name())
	}
	owner, _ := ownerOf(fi)
	// A few rounds: the holder may unlink the name between our open and
	// our lock; then the locked file is not the named one and we go again.
	for round := 0; round < 20; round++ {
		if lfi, err := os.Lstat(name); err == nil && !trustedLock(lfi, owner) {
			uid, _ := ownerOf(lfi)
			if err := foreignLock(name, lfi, uid, owner, "owned by uid", warn); err != nil {
				return nil, Holder{}, err
			}
			continue
		}
		f, err := openLock(name)
		if err != nil {
			return nil, Holder{}, err
		}
		if ffi, err := f.Stat(); err == nil && !trustedLock(ffi, owner) {
			f.Close()
			continue // replaced since we looked: look again
		}
		ok, err := filelock.TryLock(f, mode)
		if err != nil {
			f.Close()
			return nil, Holder{}, fmt.Errorf("lock %s: %w", name, err)
		}
		if !ok {
			// The file is trusted, but who holds it? A lock file left by
			// a crashed session is mode 0666: another user could lock it.
			if uid, known := untrustedHolder(f, owner); known {
				lfi, serr := f.Stat()
				f.Close()
				if serr != nil {
					return nil, Holder{}, fmt.Errorf("session lock %s: %w", name, serr)
				}
				if err := foreignLock(name, lfi, uid, owner, "locked by a process of uid", warn); err != nil {
					return nil, Holder{}, err
				}
				continue
			}
			h := holderOf(f)
			// Mark it wanted: a holder serving several sessions learns
			// which lock to give up. Needs only write access.
			markWanted(f)
			f.Close()
			return nil, h, nil
		}
		ffi, err := f.Stat()
		if err != nil {
			unlockClose(f)
			return nil, Holder{}, fmt.Errorf("session lock %s: %w", name, err)
		}
		if !sameNamed(name, ffi) {
			unlockClose(f)
			continue
		}
		l, err := own(f, name, ffi)
		if l != nil {
			l.shared = mode == filelock.Shared
		}
		if err != nil {
			os.Remove(name)
			unlockClose(f)
			return nil, Holder{}, err
		}
		return l, Holder{}, nil
	}
	return nil, Holder{}, fmt.Errorf("session lock %s: keeps changing under us", name)
}

// ownerOf is the uid owning the file fi describes.
func ownerOf(fi os.FileInfo) (uint32, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Uid, true
}

// trustedLock: a lock file owned by the mailbox's owner, root or us.
func trustedLock(fi os.FileInfo, mailboxOwner uint32) bool {
	uid, ok := ownerOf(fi)
	return !ok || trustedUID(uid, mailboxOwner)
}

// trustedUID: the mailbox's owner, root or us.
func trustedUID(uid, mailboxOwner uint32) bool {
	return uid == 0 || uid == mailboxOwner || int(uid) == os.Geteuid()
}

// untrustedHolder reports the uid of the process holding the lock f when
// the OS names it (Linux) and it is not trusted (trustedUID); every
// holder must be untrusted.
func untrustedHolder(f *os.File, mailboxOwner uint32) (uid uint32, ok bool) {
	uids := holderUIDs(f)
	if len(uids) == 0 {
		return 0, false
	}
	for _, u := range uids {
		if trustedUID(u, mailboxOwner) {
			return 0, false
		}
	}
	return uids[0], true
}

// foreignLock removes the untrusted lock file name (what fi describes;
// why: "owned by uid" or "locked by a process of uid", of uid) when we may,
// and tells warn; nil means "look again".
func foreignLock(name string, fi os.FileInfo, uid, mailboxOwner uint32, why string, warn func(string)) error {
	if lfi, err := os.Lstat(name); err != nil || !os.SameFile(lfi, fi) {
		return nil // gone or replaced meanwhile
	}
	err := os.Remove(name)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		if warn != nil {
			warn(fmt.Sprintf("removed session lock %s: %s %d, not by the mailbox's owner (uid %d) nor root", name, why, uid, mailboxOwner))
		}
		return nil
	}
	if warn != nil {
		warn(fmt.Sprintf("ignored session lock %s: %s %d, not by the mailbox's owner (uid %d) nor root, and cannot be removed (%v); the session goes on without a session lock", name, why, uid, mailboxOwner, err))
	}
	return fmt.Errorf("session lock %s: %w", name, ErrForeignLock)
}

// openLock opens the lock file, creating it when absent, never following a
// link.
func openLock(name string) (*os.File, error) {
	for round := 0; round < 20; round++ {
		lfi, err := os.Lstat(name)
		switch {
		case err == nil:
			if !safeLockFile(lfi) {
				return nil, fmt.Errorf("session lock %s: %w", name, ErrUnsafeLock)
			}
			f, err := os.OpenFile(name, os.O_RDWR|unix.O_NOFOLLOW, 0)
			if err == nil {
				return f, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return nil, lockOpenError(name, err)
			}
		case errors.Is(err, fs.ErrNotExist):
			f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o666)
			if err == nil {
				return f, nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return nil, lockOpenError(name, err)
			}
		default:
			return nil, lockOpenError(name, err)
		}
	}
	return nil, fmt.Errorf("session lock %s: keeps appearing and vanishing", name)
}

func lockOpenError(name string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("session lock %s: %w", name, ErrUnsafeLock)
	}
	if fi, serr := os.Stat(LockDir); serr == nil && fi.Mode()&(fs.ModePerm|fs.ModeSticky) != fs.ModePerm|fs.ModeSticky {
		return fmt.Errorf("can't lock for write: %s must have 1777 protection: open %s: %w", LockDir, name, err)
	}
	return fmt.Errorf("open session lock: %w", err)
}

// safeLockFile: a regular file with one name.
func safeLockFile(fi os.FileInfo) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	n, ok := Links(fi)
	return !ok || n == 1
}

// sameNamed reports whether name still is the file ffi describes (one
// link, not a symbolic link).
func sameNamed(name string, ffi os.FileInfo) bool {
	lfi, err := os.Lstat(name)
	return err == nil && safeLockFile(lfi) && os.SameFile(lfi, ffi) && safeLockFile(ffi)
}

// own finishes taking a lock: mode 0666, our PID as the content.
func own(f *os.File, name string, ffi os.FileInfo) (*SessionLock, error) {
	// UW chmods and ignores a failure: a stale lock file left by another
	// user (mode 0666 already) cannot be chmod'ed by us.
	_ = f.Chmod(0o666)
	pid := []byte(strconv.Itoa(os.Getpid()))
	if _, err := f.WriteAt(pid, 0); err != nil {
		return nil, fmt.Errorf("session lock %s: %w", name, err)
	}
	if err := f.Truncate(int64(len(pid))); err != nil {
		return nil, fmt.Errorf("session lock %s: %w", name, err)
	}
	// No fsync (UW does one): the processes that read the PID read it
	// through the same page cache, and after a crash no PID in it means
	// anything. It cost a journal commit at every SELECT.
	l := &SessionLock{f: f, name: name}
	l.dev, l.ino, _ = inode(ffi)
	if fi, err := f.Stat(); err == nil {
		l.mtime, l.size = fi.ModTime(), fi.Size()
	}
	return l, nil
}

// Wanted reports whether another process asked for the lock since we took
// it (it touched the file).
func (l *SessionLock) Wanted() bool {
	fi, err := l.f.Stat()
	if err != nil {
		return false
	}
	return !fi.ModTime().Equal(l.mtime) || fi.Size() != l.size
}

// Unlock unlinks the lock file (when the name is still ours) and lets go.
func (l *SessionLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	var err error
	if l.shared {
		// Others may share it: the name goes only with the last holder
		// (else a UW server would lock a new file while they hold the old).
		if ok, lerr := filelock.TryLock(l.f, filelock.Exclusive); lerr != nil || !ok {
			unlockClose(l.f)
			l.f = nil
			return nil
		}
	}
	if lfi, lerr := os.Lstat(l.name); lerr == nil {
		if dev, ino, ok := inode(lfi); ok && dev == l.dev && ino == l.ino {
			if rerr := os.Remove(l.name); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = fmt.Errorf("remove session lock: %w", rerr)
			}
		}
	}
	unlockClose(l.f)
	l.f = nil
	return err
}

func unlockClose(f *os.File) {
	filelock.Unlock(f)
	f.Close()
}

// Held reports whether another process holds the session lock of the
// mailbox fi describes. An unsafe lock name counts as held; a lock file
// TryLock would not trust does not. Callers must not ask about a lock this
// process holds: on fcntl systems closing the probe would release it.
func Held(fi os.FileInfo) bool {
	return heldBy(fi, os.O_RDONLY, func(f *os.File) bool {
		held, _ := filelock.Probe(f)
		return held
	})
}

// heldBy is Held and HeldShared but for the probe: the lock file of the
// mailbox fi describes, when it is safe and trusted, is opened with mode
// (O_NOFOLLOW) and probe says whether another process holds it.
func heldBy(fi os.FileInfo, mode int, probe func(f *os.File) bool) bool {
	name, ok := LockName(fi)
	if !ok {
		return false
	}
	lfi, err := os.Lstat(name)
	if err != nil {
		return false
	}
	if !safeLockFile(lfi) {
		return true
	}
	if owner, _ := ownerOf(fi); !trustedLock(lfi, owner) {
		return false
	}
	f, err := os.OpenFile(name, mode|unix.O_NOFOLLOW, 0)
	if err != nil {
		return errors.Is(err, unix.ELOOP)
	}
	defer f.Close()
	return probe(f)
}

// holderOf reads the holder's PID from a lock file someone else holds and
// asks the OS whether that PID really holds it.
func holderOf(f *os.File) Holder {
	buf := make([]byte, 64)
	n, _ := f.ReadAt(buf, 0)
	pid := 0
	i := 0
	for i < n && (buf[i] == ' ' || buf[i] == '\t') {
		i++
	}
	for ; i < n && buf[i] >= '0' && buf[i] <= '9' && pid < 1<<30; i++ {
		pid = pid*10 + int(buf[i]-'0')
	}
	if pid <= 0 {
		return Holder{}
	}
	return Holder{PID: pid, Verdict: verifyHolder(f, pid)}
}
