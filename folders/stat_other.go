//go:build !(linux || solaris || illumos || openbsd || dragonfly || darwin || freebsd || netbsd || ios || windows)

package folders

import (
	"io/fs"
	"time"
)

// atime is not known on this OS: folders are listed \Unmarked.
func atime(fi fs.FileInfo) (time.Time, bool) { return time.Time{}, false }
