//go:build solaris || aix

package unix

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// These systems have no flock(2); UW emulates it with fcntl write locks on
// the whole file, and so do we. fcntl locks belong to the process and go
// away when any of its descriptors of the file is closed: platform never
// probes a lock this process holds.

func wholeFile(typ int16) *unix.Flock_t {
	return &unix.Flock_t{Type: typ, Whence: io.SeekStart}
}

func lockFile(f *os.File) (held bool, err error) {
	for {
		err = unix.FcntlFlock(f.Fd(), unix.F_SETLK, wholeFile(unix.F_WRLCK))
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return true, nil
	}
	return false, err
}

func probeLock(f *os.File) bool {
	lk := wholeFile(unix.F_WRLCK)
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, lk); err != nil {
		return false
	}
	return lk.Type != unix.F_UNLCK
}

func unlockClose(f *os.File) {
	unix.FcntlFlock(f.Fd(), unix.F_SETLK, wholeFile(unix.F_UNLCK))
	f.Close()
}

// verifyHolder: F_GETLK names the process holding the lock.
func verifyHolder(f *os.File, pid int) Verdict {
	lk := wholeFile(unix.F_WRLCK)
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, lk); err != nil {
		return Unverified
	}
	if lk.Type != unix.F_UNLCK && int(lk.Pid) == pid {
		return Holds
	}
	return DoesNotHold
}
