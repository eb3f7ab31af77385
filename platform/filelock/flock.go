//go:build unix && !solaris

package filelock

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Advisory: flock(2) locks only exclude other locks.
const Advisory = true

// TryLock takes the lock without waiting; false when another open file
// holds a lock that excludes it.
func TryLock(f *os.File, m Mode) (bool, error) {
	err := flock(f, how(m)|unix.LOCK_NB)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, unix.EWOULDBLOCK), errors.Is(err, unix.EAGAIN):
		return false, nil
	}
	return false, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
}

// Lock takes the lock, waiting as long as it takes.
func Lock(f *os.File, m Mode) error {
	if err := flock(f, how(m)); err != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return nil
}

// Unlock releases the lock f holds (none: nothing happens).
func Unlock(f *os.File) error {
	if err := flock(f, unix.LOCK_UN); err != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return nil
}

// Probe reports whether another open file holds an exclusive lock on the
// file f is open on. pid is 0: flock(2) does not tell who holds a lock.
// f itself must hold no lock.
func Probe(f *os.File) (held bool, pid int) {
	err := flock(f, unix.LOCK_SH|unix.LOCK_NB)
	if err != nil {
		return errors.Is(err, unix.EWOULDBLOCK) || errors.Is(err, unix.EAGAIN), 0
	}
	flock(f, unix.LOCK_UN)
	return false, 0
}

func how(m Mode) int {
	if m == Exclusive {
		return unix.LOCK_EX
	}
	return unix.LOCK_SH
}

// flock retries when a signal interrupts the call.
func flock(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
