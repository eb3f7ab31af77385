package platform

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrLockTimeout: LockFile could not get the lock within its wait.
var ErrLockTimeout = errors.New("lock file held by another process")

// fileLocks serialise this process's holders of one lock file: fcntl locks
// (Solaris, illumos, AIX) belong to the process and would not exclude two
// sessions of one daemon from each other.
var (
	fileLocksMu sync.Mutex
	fileLocks   = map[string]*sync.Mutex{}
)

// LockFile takes an exclusive lock on the lock file path (created with
// perm when missing; its content is never used), for records that several
// imapd processes rewrite (the forward_user file, a user's bulletin state).
// It waits at most wait, then fails with ErrLockTimeout. unlock lets go of
// it. The lock is advisory: only the programs that take it are excluded.
// On unix it is flock(2) (fcntl(2) where there is no flock), on Windows
// LockFileEx.
func LockFile(path string, perm os.FileMode, wait time.Duration) (unlock func(), err error) {
	fileLocksMu.Lock()
	mu := fileLocks[path]
	if mu == nil {
		mu = &sync.Mutex{}
		fileLocks[path] = mu
	}
	fileLocksMu.Unlock()
	deadline := time.Now().Add(wait)
	delay := time.Millisecond
	for !mu.TryLock() {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("lock %s: %w (this process)", path, ErrLockTimeout)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, perm)
	if err != nil {
		mu.Unlock()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	delay = time.Millisecond
	for {
		ok, err := tryLockFile(f)
		if err != nil {
			f.Close()
			mu.Unlock()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			f.Close()
			mu.Unlock()
			return nil, fmt.Errorf("lock %s: %w", path, ErrLockTimeout)
		}
		time.Sleep(delay)
		delay = min(2*delay, 50*time.Millisecond)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			unlockFile(f)
			f.Close()
			mu.Unlock()
		})
	}, nil
}
