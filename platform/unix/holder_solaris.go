package unix

import (
	"os"

	"imapd/platform/filelock"
)

// verifyHolder: on Solaris and illumos the lock is an fcntl lock, and
// F_GETLK names the process holding it.
func verifyHolder(f *os.File, pid int) Verdict {
	held, holder := filelock.Probe(f)
	switch {
	case !held:
		return DoesNotHold
	case holder == pid:
		return Holds
	}
	return DoesNotHold
}

// holderUIDs: not looked up here (the owner of a process is in the binary
// /proc/<pid>/psinfo); a planted holder is only caught by its file's owner.
func holderUIDs(f *os.File) []uint32 { return nil }
