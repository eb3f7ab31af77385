// Package filelock is imapd's one advisory file-lock primitive, used by the
// mailbox store (the flock a drop file is locked with, beside its
// dot-lock), by UW's /tmp session lock (platform/unix) and by the log
// rotation (logging). It is a leaf package below platform so that
// platform/unix can use it too.
//
// One meaning on every system: a lock is held by an open file (an
// *os.File), shared or exclusive, and excludes the locks of every other
// open file of the same file, in other processes and in this one.
//
//   - Linux, FreeBSD, macOS and the other BSDs: flock(2) on the whole file,
//     the lock UW c-client and the DMail POP3/SMTP servers take
//     (dmail.conf use_flock).
//   - Solaris and illumos: fcntl(2) F_SETLK on the whole file, a read lock
//     for Shared and a write lock for Exclusive, as UW's flock emulation
//     there (flock(2) exists only from Solaris 11.4 and does not see fcntl
//     locks). fcntl locks belong to the process, not to the open file: so
//     that they exclude this process's other open files as flock does, one
//     open file at a time holds a lock on a given file in this process
//     (readers too: two readers sharing the process's lock would have the
//     first one's Unlock drop the second one's). POSIX also drops all of a
//     process's locks on a file when any descriptor of that file is closed:
//     callers never close another descriptor of a file they hold locked.
//   - Windows: LockFileEx on the whole range. These locks are mandatory
//     (they stop other processes' reads and writes of the locked range), so
//     they are only ever taken on a lock file of their own (Advisory is
//     false: the mailbox store does not lock the mail file itself there).
//
// A lock is released by Unlock, which must come before the file is closed.
package filelock

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Mode is the kind of lock: Shared (to read) or Exclusive (to write).
type Mode int

// Lock modes.
const (
	Shared Mode = iota
	Exclusive
)

// ErrTimeout is returned by LockBefore when the lock was still held by
// another open file at the deadline.
var ErrTimeout = errors.New("file lock held by another program")

// LockBefore takes the lock, waiting until deadline at the latest. The
// wait polls: first after a millisecond, then at most every
// maxPoll, so that a lock given up is taken within that time.
func LockBefore(f *os.File, m Mode, deadline time.Time) error {
	delay := time.Millisecond
	for {
		ok, err := TryLock(f, m)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		left := time.Until(deadline)
		if left <= 0 {
			return ErrTimeout
		}
		time.Sleep(min(delay, left))
		delay = min(2*delay, maxPoll)
	}
}

// maxPoll is the longest pause between two tries of LockBefore.
const maxPoll = 10 * time.Millisecond

// LockPath takes an exclusive lock on the lock file at path (created with
// perm when missing; its content is never used), for records that several
// imapd processes rewrite (the forward_user file, a user's bulletin state).
// It waits at most wait, then fails with an error wrapping ErrTimeout.
// unlock lets go of it.
func LockPath(path string, perm os.FileMode, wait time.Duration) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, perm)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := LockBefore(f, Exclusive, time.Now().Add(wait)); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			Unlock(f)
			f.Close()
		})
	}, nil
}
