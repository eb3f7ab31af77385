//go:build unix && !(linux || solaris || illumos || openbsd || dragonfly || aix || darwin || freebsd || netbsd || ios)

package unix

import (
	"os"
	"time"
)

// Atime is not known on this system.
func Atime(fi os.FileInfo) (time.Time, bool) { return time.Time{}, false }
