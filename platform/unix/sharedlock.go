//go:build unix

package unix

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"

	"imapd/platform/filelock"
)

// HeldShared reports whether another process holds the session lock of
// the mailbox fi describes in any mode, a shared holder
// (imapd_shared_mailboxes, TryLockShared) included: Held probes with a
// shared lock and so does not see those. Same rules as Held: an unsafe
// name counts as held, an untrusted lock file does not, and a process
// must not ask about a lock it holds itself.
func HeldShared(fi os.FileInfo) bool {
	name, ok := LockName(fi)
	if !ok {
		return false
	}
	lfi, err := os.Lstat(name)
	if err != nil {
		return false
	}
	if !safeLockFile(lfi) {
		return true
	}
	if owner, _ := ownerOf(fi); !trustedLock(lfi, owner) {
		return false
	}
	f, err := os.OpenFile(name, os.O_RDWR|unix.O_NOFOLLOW, 0)
	if err != nil {
		return errors.Is(err, unix.ELOOP)
	}
	defer f.Close()
	free, err := filelock.TryLock(f, filelock.Exclusive)
	if err != nil {
		return false
	}
	if free {
		filelock.Unlock(f)
	}
	return !free
}
