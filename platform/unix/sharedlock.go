//go:build unix

package unix

import (
	"os"

	"imapd/platform/filelock"
)

// HeldShared reports whether another process holds the session lock of
// the mailbox fi describes in any mode, a shared holder
// (imapd_shared_mailboxes, TryLockShared) included: Held probes with a
// shared lock and so does not see those. Same rules as Held: an unsafe
// name counts as held, an untrusted lock file does not, and a process
// must not ask about a lock it holds itself.
func HeldShared(fi os.FileInfo) bool {
	return heldBy(fi, os.O_RDWR, func(f *os.File) bool {
		free, err := filelock.TryLock(f, filelock.Exclusive)
		if err != nil {
			return false
		}
		if free {
			filelock.Unlock(f)
		}
		return !free
	})
}
