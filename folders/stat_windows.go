//go:build windows

package folders

import (
	"io/fs"
	"syscall"
	"time"
)

// atime returns the file's last access time, if the OS reports it.
func atime(fi fs.FileInfo) (time.Time, bool) {
	d, ok := fi.Sys().(*syscall.Win32FileAttributeData)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, d.LastAccessTime.Nanoseconds()), true
}

// links returns the hard link count; Windows does not report it through
// Lstat, so the check is skipped there (ok false).
func links(fi fs.FileInfo) (n uint64, ok bool) { return 0, false }
