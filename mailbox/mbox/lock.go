package mbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"imapd/mailbox"
	"imapd/platform"
)

// staleLock is the age after which a dot-lock is taken to be left over by a
// dead process and seized (UW LOCKTIMEOUT).
const staleLock = 5 * time.Minute

// held is a mailbox locked for one operation: the dot-lock (if it could be
// made), the file opened for the operation and flock'ed on it.
type held struct {
	f       *os.File
	dot     *dotLockFile // the dot-lock we made; nil when none
	flocked bool
	write   bool
}

// lockMailbox takes <path>.lock, then opens path and flocks it (shared to
// read, exclusive to write), waiting up to opt.LockTimeout for each. flags
// are extra os.OpenFile flags (os.O_CREATE).
func lockMailbox(path string, opt *Options, write bool, flags int) (*held, error) {
	deadline := time.Now().Add(opt.lockTimeout())
	dot, err := dotLock(path, deadline)
	if err != nil {
		return nil, err
	}
	mode := os.O_RDONLY
	if write {
		mode = os.O_RDWR
	}
	var f *os.File
	if write {
		// Create it if asked, then open it as the platform wants a file
		// we write (on Windows: with other writers shut out).
		if flags&os.O_CREATE != 0 {
			if cf, cerr := platform.OpenMailFile(path, os.O_RDONLY|flags, 0600); cerr == nil {
				cf.Close()
			}
		}
		f, err = platform.OpenMailFileForWrite(path, time.Until(deadline))
	} else {
		f, err = platform.OpenMailFile(path, mode|flags, 0600)
	}
	if err != nil {
		removeDot(dot)
		return nil, fmt.Errorf("open mailbox %s: %w", path, err)
	}
	h := &held{f: f, dot: dot, write: write}
	if opt.useFlock() && haveFlock {
		delay := 5 * time.Millisecond
		for {
			ok, err := flockTry(f, write)
			if err != nil {
				h.release()
				return nil, fmt.Errorf("flock mailbox %s: %w", path, err)
			}
			if ok {
				h.flocked = true
				break
			}
			if time.Now().After(deadline) {
				h.release()
				return nil, fmt.Errorf("flock mailbox %s: %w", path, mailbox.ErrLocked)
			}
			time.Sleep(delay)
			delay = min(delay*2, 200*time.Millisecond)
		}
	}
	return h, nil
}

// release drops the flock, closes the file and removes the dot-lock.
func (h *held) release() error {
	var err error
	if h.flocked {
		err = flockUnlock(h.f)
		h.flocked = false
	}
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	removeDot(h.dot)
	h.dot = nil
	return err
}

// dotLockFile is a dot-lock we made: its name, and what it was when we made
// it, so that we never remove a lock that is no longer ours.
type dotLockFile struct {
	name string
	fi   os.FileInfo
}

// removeDot removes our dot-lock, unless someone replaced it meanwhile
// (seized it as stale after 5 minutes): that one is theirs.
func removeDot(dot *dotLockFile) {
	if dot == nil {
		return
	}
	if fi, err := os.Lstat(dot.name); err == nil && sameLock(fi, dot.fi) {
		os.Remove(dot.name)
	}
}

// dotLock makes <path>.lock with O_CREAT|O_EXCL (mode 0666 so that other
// users' servers may break it), the lock the SMTP and POP3 servers honour.
// A lock older than staleLock is seized (see seizeStale). A symbolic link
// in its place is refused. When the directory does not let us create files
// (a spool directory without the sticky 1777 mode), we go on without the
// dot-lock: the flock still guards us (UW warns "Mailbox vulnerable" in
// that case).
func dotLock(path string, deadline time.Time) (*dotLockFile, error) {
	name := path + ".lock"
	delay := 5 * time.Millisecond
	for {
		if fi, err := os.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("lock %s is a symbolic link, refused", name)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0666)
		if err == nil {
			f.Chmod(0666) // best effort, against the umask; on the file, not the name
			fi, serr := f.Stat()
			f.Close()
			if serr != nil {
				os.Remove(name)
				return nil, fmt.Errorf("stat lock %s: %w", name, serr)
			}
			return &dotLockFile{name: name, fi: fi}, nil
		}
		switch {
		case errors.Is(err, fs.ErrExist):
			fi, serr := os.Lstat(name)
			if serr != nil {
				if errors.Is(serr, fs.ErrNotExist) {
					continue // just released: try again at once
				}
				return nil, fmt.Errorf("stat lock %s: %w", name, serr)
			}
			if fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleLock {
				seizeStale(name, fi)
				continue
			}
		case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
			return nil, nil
		default:
			return nil, fmt.Errorf("create lock %s: %w", name, err)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock %s: %w", name, mailbox.ErrLocked)
		}
		time.Sleep(delay)
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// sameLock: the same lock file (inode numbers are reused at once, so the
// modification time must match too: nobody writes to a lock).
func sameLock(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.ModTime().Equal(b.ModTime())
}

// seizeStale removes the stale lock name (stale: what Lstat found). Another
// process may have seized it just before us and made a fresh lock: so the
// lock is first renamed to a name of ours (atomic), and if what we moved is
// not the stale file, it is put back (os.Link fails if yet another lock
// was made meanwhile, which then stands).
func seizeStale(name string, stale os.FileInfo) {
	mine := fmt.Sprintf("%s.%d.%d.seize", name, os.Getpid(), time.Now().UnixNano())
	if err := os.Rename(name, mine); err != nil {
		return // gone already: try again
	}
	if fi, err := os.Lstat(mine); err == nil && !sameLock(fi, stale) {
		// A fresh lock: put it back. If yet another lock stands there now,
		// that one holds and the moved one is dropped.
		if err := os.Link(mine, name); err != nil && !errors.Is(err, fs.ErrExist) {
			os.Rename(mine, name) // no hard links on this file system
			return
		}
	}
	os.Remove(mine)
}
