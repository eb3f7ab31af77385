//go:build unix

package unix

import (
	"os"

	"golang.org/x/sys/unix"
)

// markWanted sets the lock file's times to now (needs only write access).
func markWanted(f *os.File) { _ = unix.Futimes(int(f.Fd()), nil) }
