package maildir

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"imapd/mailbox"
	"imapd/platform"
	"imapd/platform/dotlock"
)

// The lock files (imapd-uidlist.lock, the user's .imapd-uidvalidity.lock)
// are dot-locks of package dotlock, as the mbox dot-lock is: "<pid>
// <host>\n", a lock of this host whose process is gone broken at once, any
// other one older than staleLock broken, breaking never taking a live lock,
// a holder removing only its own. The maildir policy: the lock is made
// with O_EXCL (mode 0600, the user's own files), and a holder keeps it
// young by touching it every refreshEvery while it holds it, so that a
// live holder that runs long (the first open of a big maildir another
// program wrote, every file read once) is never taken for dead and the
// stale age can be short. On Windows a waiter judges a lock by its age
// alone (readLocks).
var (
	staleLock    = 2 * time.Minute
	refreshEvery = staleLock / 4
)

// readLocks: a waiter reads a lock's "<pid> <host>" to break the lock of a
// dead process at once. Not on Windows: a lock file open for reading
// cannot be removed by its holder (with FILE_SHARE_DELETE it would stay
// "delete pending", and under Wine be unlinked by name when the reader
// closes it, taking a new lock made meanwhile with it), and waiters
// polling it kept its holder from removing it. There the age rule alone
// breaks a crashed holder's lock, after staleLock.
const readLocks = runtime.GOOS != "windows"

// lockList takes dir's uid list lock, waiting up to timeout.
func lockList(dir string, timeout time.Duration) (func(), error) {
	return lockFile(filepath.Join(dir, lockName), timeout)
}

// lockFile takes the lock file path, waiting up to timeout; the returned
// function releases it. While held it is refreshed every refreshEvery.
func lockFile(path string, timeout time.Duration) (func(), error) {
	l, err := dotlock.Take(path, time.Now().Add(timeout), dotlock.Options{
		Stale:   staleLock,
		Refresh: refreshEvery,
		Mode:    0o600,
		AgeOnly: !readLocks,
		Busy:    busy,
		Retry:   retryBusy,
		Gone:    platform.ProcessGone,
		Warnf:   platform.Warnf,
	})
	if errors.Is(err, dotlock.ErrTimeout) {
		return nil, fmt.Errorf("lock %s: %w", path, mailbox.ErrLocked)
	}
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}
