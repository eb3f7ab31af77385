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
	dot     string // the dot-lock we made; "" when none
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
	h.dot = ""
	return err
}

func removeDot(dot string) {
	if dot != "" {
		os.Remove(dot)
	}
}

// dotLock makes <path>.lock with O_CREAT|O_EXCL (mode 0666 so that other
// users' servers may break it), the lock the SMTP and POP3 servers honour.
// A lock older than staleLock is seized. A symbolic link in its place is
// refused. When the directory does not let us create files (a spool
// directory without the sticky 1777 mode), we go on without the dot-lock:
// the flock still guards us (UW warns "Mailbox vulnerable" in that case).
func dotLock(path string, deadline time.Time) (string, error) {
	name := path + ".lock"
	delay := 5 * time.Millisecond
	for {
		if fi, err := os.Lstat(name); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return "", fmt.Errorf("lock %s is a symbolic link, refused", name)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0666)
		if err == nil {
			f.Close()
			os.Chmod(name, 0666) // best effort, against the umask
			return name, nil
		}
		switch {
		case errors.Is(err, fs.ErrExist):
			fi, serr := os.Lstat(name)
			if serr != nil {
				if errors.Is(serr, fs.ErrNotExist) {
					continue // just released: try again at once
				}
				return "", fmt.Errorf("stat lock %s: %w", name, serr)
			}
			if fi.Mode().IsRegular() && time.Since(fi.ModTime()) > staleLock {
				os.Remove(name) // seize the stale lock
				continue
			}
		case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
			return "", nil
		default:
			return "", fmt.Errorf("create lock %s: %w", name, err)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("lock %s: %w", name, mailbox.ErrLocked)
		}
		time.Sleep(delay)
		delay = min(delay*2, 200*time.Millisecond)
	}
}
