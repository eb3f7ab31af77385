//go:build linux || solaris || illumos || openbsd || dragonfly

package folders

import (
	"io/fs"
	"syscall"
	"time"
)

// atime returns the file's last access time, if the OS reports it.
func atime(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec)), true
}
