//go:build solaris

package filelock

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Advisory: fcntl(2) locks only exclude other locks.
const Advisory = true

// inProcess is this process's table of locked files (see the package
// comment): which file (device and inode) an open file holds locked.
var inProcess = struct {
	mu     sync.Mutex
	cond   *sync.Cond
	busy   map[string]bool
	holder map[*os.File]string
}{busy: map[string]bool{}, holder: map[*os.File]string{}}

func init() { inProcess.cond = sync.NewCond(&inProcess.mu) }

// key names the file f is open on by device and inode.
func key(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", fmt.Errorf("lock %s: no device and inode", f.Name())
	}
	return fmt.Sprintf("%d.%d", uint64(st.Dev), uint64(st.Ino)), nil
}

// TryLock takes the lock without waiting; false when another open file,
// of this process or another, holds a lock that excludes it.
func TryLock(f *os.File, m Mode) (bool, error) {
	k, err := key(f)
	if err != nil {
		return false, err
	}
	inProcess.mu.Lock()
	defer inProcess.mu.Unlock()
	if inProcess.busy[k] {
		return false, nil
	}
	err = setlk(f, unix.F_SETLK, lockType(m))
	switch {
	case err == nil:
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
		return false, nil
	default:
		return false, &os.PathError{Op: "fcntl", Path: f.Name(), Err: err}
	}
	inProcess.busy[k] = true
	inProcess.holder[f] = k
	return true, nil
}

// Lock takes the lock, waiting as long as it takes.
func Lock(f *os.File, m Mode) error {
	k, err := key(f)
	if err != nil {
		return err
	}
	inProcess.mu.Lock()
	for inProcess.busy[k] {
		inProcess.cond.Wait()
	}
	inProcess.busy[k] = true // ours while we wait for the other processes
	inProcess.mu.Unlock()
	err = setlk(f, unix.F_SETLKW, lockType(m))
	inProcess.mu.Lock()
	defer inProcess.mu.Unlock()
	if err != nil {
		delete(inProcess.busy, k)
		inProcess.cond.Broadcast()
		return &os.PathError{Op: "fcntl", Path: f.Name(), Err: err}
	}
	inProcess.holder[f] = k
	return nil
}

// Unlock releases the lock f holds (none: nothing happens).
func Unlock(f *os.File) error {
	inProcess.mu.Lock()
	defer inProcess.mu.Unlock()
	k, ok := inProcess.holder[f]
	if !ok {
		return nil
	}
	delete(inProcess.holder, f)
	delete(inProcess.busy, k)
	inProcess.cond.Broadcast()
	if err := setlk(f, unix.F_SETLK, unix.F_UNLCK); err != nil {
		return &os.PathError{Op: "fcntl", Path: f.Name(), Err: err}
	}
	return nil
}

// Probe reports whether another process holds a write lock on the file f
// is open on, and which process (F_GETLK tells). Locks of this process are
// not seen; f must be open for writing.
func Probe(f *os.File) (held bool, pid int) {
	lk := &unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, lk); err != nil {
		return false, 0
	}
	if lk.Type == unix.F_UNLCK {
		return false, 0
	}
	return true, int(lk.Pid)
}

func lockType(m Mode) int16 {
	if m == Exclusive {
		return unix.F_WRLCK
	}
	return unix.F_RDLCK
}

// setlk sets a lock of typ on the whole file, retrying when a signal
// interrupts the call.
func setlk(f *os.File, cmd int, typ int16) error {
	lk := &unix.Flock_t{Type: typ, Whence: io.SeekStart}
	for {
		err := unix.FcntlFlock(f.Fd(), cmd, lk)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
