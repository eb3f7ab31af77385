package mbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"imapd/mailbox"
	"imapd/platform"
	"imapd/platform/dotlock"
	"imapd/platform/filelock"
)

// staleLock is the age after which any dot-lock is taken to be left over by
// a dead process and broken (UW LOCKTIMEOUT).
const staleLock = 5 * time.Minute

// poll is the pause between two looks at a file lock another process
// holds: a lock given up is taken within about that time. A lock this
// process gives up wakes its waiters at once (wakeup). The dot-lock's wait
// is package dotlock's.
const poll = time.Millisecond

// held is a mailbox locked for one operation: the dot-lock (if it could be
// made), the file opened for the operation and the file lock on it.
type held struct {
	path   string
	f      *os.File
	dot    *dotlock.Lock // the dot-lock we made; nil when none
	locked bool          // f holds the file lock
	write  bool
	// fi, when set (readers without the dot-lock, lockRead), is the file
	// as it was when the lock was taken: only [0, fi.Size()) may be read.
	fi os.FileInfo
}

// stat is the file as the operation must see it: for a reader without
// the dot-lock its size when locked (an appender that ignores the file
// lock may be writing after it), else the file now.
func (h *held) stat() (os.FileInfo, error) {
	if h.fi != nil {
		return h.fi, nil
	}
	return h.f.Stat()
}

// flockBefore takes the file lock on f (the mailbox at path), waiting
// until deadline at the latest: woken at once when this process lets go
// of it, else looking again every poll.
func flockBefore(f *os.File, path string, m filelock.Mode, deadline time.Time) error {
	key := "flock:" + path
	for {
		c := dotlock.Released(key)
		ok, err := filelock.TryLock(f, m)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return filelock.ErrTimeout
		}
		dotlock.Pause(c, min(poll, left))
	}
}

// lockMailbox takes <path>.lock, then opens path and locks it (shared to
// read, exclusive to write), waiting up to opt.LockTimeout for each. flags
// are extra os.OpenFile flags (os.O_CREATE).
func lockMailbox(path string, opt *Options, write bool, flags int) (*held, error) {
	deadline := time.Now().Add(opt.lockTimeout())
	dot, err := dotLock(path, opt.lockHost(), deadline)
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
		dot.Release()
		return nil, fmt.Errorf("open mailbox %s: %w", path, err)
	}
	h := &held{path: path, f: f, dot: dot, write: write}
	// The file lock (dmail.conf use_flock). Not on Windows: locks there are
	// mandatory and would shut the POP3/SMTP servers out of the file.
	if opt.useFlock() && filelock.Advisory {
		m := filelock.Shared
		if write {
			m = filelock.Exclusive
		}
		if err := flockBefore(f, path, m, deadline); err != nil {
			h.release()
			if errors.Is(err, filelock.ErrTimeout) {
				err = mailbox.ErrLocked
			}
			return nil, fmt.Errorf("lock mailbox %s: %w", path, err)
		}
		h.locked = true
	}
	return h, nil
}

// release drops the file lock, closes the file and removes the dot-lock.
func (h *held) release() error {
	var err error
	if h.locked {
		err = filelock.Unlock(h.f)
		h.locked = false
		defer dotlock.Wake("flock:" + h.path)
	}
	if cerr := h.f.Close(); err == nil {
		err = cerr
	}
	h.dot.Release()
	h.dot = nil
	return err
}

// lockRead locks the mailbox at path for reading. With the file lock
// (use_flock, and a system where it is advisory) a reader takes it shared
// and no dot-lock: readers never queue behind each other, and every writer
// that honours use_flock (imapd, UW, the DMail servers) waits for them, as
// they take the file lock exclusively to write. The dot-lock is looked at
// after the file lock is held and the file's size noted: when it exists
// (a writer, or a UW reader, is at work) the reader lets go and takes the
// dot-lock as a writer does. A writer that honours the dot-lock alone (an
// MTA appending) cannot start while no dot-lock exists; one that starts
// after the look writes after the noted size, which the reader never reads
// (held.fi). Without the file lock, or with lock_id (readsOnFileLock):
// lockMailbox (the dot-lock, then the file lock if any).
func lockRead(path string, opt *Options) (*held, error) {
	if !opt.useFlock() || !filelock.Advisory || !opt.readsOnFileLock() {
		return lockMailbox(path, opt, false, 0)
	}
	deadline := time.Now().Add(opt.lockTimeout())
	f, err := platform.OpenMailFile(path, os.O_RDONLY, 0600)
	if err != nil {
		return nil, fmt.Errorf("open mailbox %s: %w", path, err)
	}
	if err := flockBefore(f, path, filelock.Shared, deadline); err != nil {
		f.Close()
		if errors.Is(err, filelock.ErrTimeout) {
			err = mailbox.ErrLocked
		}
		return nil, fmt.Errorf("lock mailbox %s: %w", path, err)
	}
	h := &held{path: path, f: f, locked: true}
	fi, err := f.Stat()
	if err == nil {
		if _, lerr := os.Lstat(path + ".lock"); lerr != nil && errors.Is(lerr, fs.ErrNotExist) {
			h.fi = fi
			if testReadLocked != nil {
				testReadLocked(path)
			}
			return h, nil
		}
	}
	h.release()
	return lockMailbox(path, opt, false, 0)
}

// dotLock takes <path>.lock, the lock the SMTP and POP3 servers honour
// (package dotlock: "<pid> <host>\n", see doc.go), mode 0666 so that other
// users' servers may break it, made whole through a hitching post and
// link(2). A lock whose holder is provably gone (this host, no such
// process) is broken at once, any other one after staleLock; it is never
// refreshed (UW's rule). When the directory does not let us create files
// (a spool directory without the sticky 1777 mode), we go on without the
// dot-lock (nil): the file lock still guards us (UW warns "Mailbox
// vulnerable" in that case).
func dotLock(path, host string, deadline time.Time) (*dotlock.Lock, error) {
	l, err := dotlock.Take(path+".lock", deadline, dotlock.Options{
		Host:      host,
		Stale:     staleLock,
		Link:      true,
		Mode:      0o666,
		GoWithout: true,
		Gone:      platform.ProcessGone,
		Warnf:     platform.Warnf,
	})
	if errors.Is(err, dotlock.ErrTimeout) {
		err = fmt.Errorf("lock %s: %w", path+".lock", mailbox.ErrLocked)
	}
	return l, err
}

// testReadLocked, set by tests, is called while a reader holds the file
// lock without the dot-lock.
var testReadLocked func(path string)

// HoldLock locks the mailbox file at path as a write does (the dot-lock,
// then the file lock), waiting up to opt.LockTimeout, until release is
// called: for a program that must keep imapd, the legacy servers and the
// MTAs off the file for a while.
func HoldLock(path string, opt Options) (release func() error, err error) {
	h, err := lockMailbox(path, &opt, true, 0)
	if err != nil {
		return nil, err
	}
	return h.release, nil
}
