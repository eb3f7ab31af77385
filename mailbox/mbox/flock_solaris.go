//go:build solaris

package mbox

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

// On Solaris and illumos UW locks mailboxes with fcntl(2) (flock(2) only
// exists from Solaris 11.4 and does not see fcntl locks), so we do too:
// F_SETLK on the whole file, read lock to read, write lock to write.
//
// fcntl locks belong to the process, not the descriptor: they do not
// exclude our own sessions from each other, and closing a descriptor drops
// all of the process's locks on the file. So within this process one
// holder at a time locks a file (readers too: sharing would let the first
// reader's close drop the lock of the second), guarded by an in-process
// table keyed by fileID. (Closing another descriptor of the file, such as
// a session's read descriptor, still drops the holder's fcntl lock, a POSIX
// rule we cannot change; the dot-lock still guards against the other
// servers.)
const haveFlock = true

type fcntlState struct {
	readers int
	writer  bool
}

var (
	fcntlMu   sync.Mutex
	fcntlHeld = map[string]*fcntlState{}
	fcntlKeys = map[*os.File]string{}
)

// flockTry tries to take a shared or exclusive lock without waiting.
func flockTry(f *os.File, exclusive bool) (bool, error) {
	key := fileID(f)
	fcntlMu.Lock()
	defer fcntlMu.Unlock()
	st := fcntlHeld[key]
	if st == nil {
		st = &fcntlState{}
	}
	if st.writer || st.readers > 0 {
		return false, nil
	}
	{
		typ := int16(unix.F_RDLCK)
		if exclusive {
			typ = unix.F_WRLCK
		}
		lk := unix.Flock_t{Type: typ, Whence: 0, Start: 0, Len: 0}
		for {
			err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
			if err == nil {
				break
			}
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
				return false, nil
			}
			return false, err
		}
	}
	if exclusive {
		st.writer = true
	} else {
		st.readers++
	}
	fcntlHeld[key] = st
	fcntlKeys[f] = key
	return true, nil
}

func flockUnlock(f *os.File) error {
	fcntlMu.Lock()
	defer fcntlMu.Unlock()
	key, ok := fcntlKeys[f]
	if !ok {
		return nil
	}
	delete(fcntlKeys, f)
	st := fcntlHeld[key]
	if st == nil {
		return nil
	}
	if st.writer {
		st.writer = false
	} else if st.readers > 0 {
		st.readers--
	}
	delete(fcntlHeld, key)
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: 0, Start: 0, Len: 0}
	return unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk)
}
