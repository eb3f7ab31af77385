//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package mbox

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// haveFlock: BSD flock(2) on the mailbox file, as UW and the DMail servers use.
const haveFlock = true

// flockTry tries to take a shared or exclusive flock without waiting.
func flockTry(f *os.File, exclusive bool) (bool, error) {
	how := unix.LOCK_SH | unix.LOCK_NB
	if exclusive {
		how = unix.LOCK_EX | unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK), errors.Is(err, unix.EAGAIN):
			return false, nil
		default:
			return false, err
		}
	}
}

func flockUnlock(f *os.File) error {
	return unix.Flock(int(f.Fd()), unix.LOCK_UN)
}
