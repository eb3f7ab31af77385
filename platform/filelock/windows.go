//go:build windows

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// Advisory is false: LockFileEx locks are mandatory, they stop other
// processes' reads and writes of the locked range. Lock files of their own
// only.
const Advisory = false

// TryLock takes the lock without waiting; false when another open file
// holds a lock that excludes it.
func TryLock(f *os.File, m Mode) (bool, error) {
	err := lockFileEx(f, flags(m)|windows.LOCKFILE_FAIL_IMMEDIATELY)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	}
	return false, &os.PathError{Op: "LockFileEx", Path: f.Name(), Err: err}
}

// Lock takes the lock, waiting as long as it takes.
func Lock(f *os.File, m Mode) error {
	if err := lockFileEx(f, flags(m)); err != nil {
		return &os.PathError{Op: "LockFileEx", Path: f.Name(), Err: err}
	}
	return nil
}

// Unlock releases the lock f holds (none: nothing happens).
func Unlock(f *os.File) error {
	ol := new(windows.Overlapped)
	err := windows.UnlockFileEx(windows.Handle(f.Fd()), 0, allBytes, allBytes, ol)
	if err != nil && !errors.Is(err, windows.ERROR_NOT_LOCKED) {
		return &os.PathError{Op: "UnlockFileEx", Path: f.Name(), Err: err}
	}
	return nil
}

// Probe reports whether another open file holds an exclusive lock on the
// file f is open on (pid 0: Windows does not tell who). f itself must hold
// no lock.
func Probe(f *os.File) (held bool, pid int) {
	ok, err := TryLock(f, Shared)
	if err != nil {
		return false, 0
	}
	if ok {
		Unlock(f)
		return false, 0
	}
	return true, 0
}

// allBytes: the lock covers offsets 0 to 2^64-2, the whole file whatever
// its size.
const allBytes = ^uint32(0)

func flags(m Mode) uint32 {
	if m == Exclusive {
		return windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	return 0
}

func lockFileEx(f *os.File, fl uint32) error {
	ol := new(windows.Overlapped)
	return windows.LockFileEx(windows.Handle(f.Fd()), fl, 0, allBytes, allBytes, ol)
}
