//go:build linux || solaris || illumos || openbsd || dragonfly

package unix

import (
	"os"
	"syscall"
	"time"
)

// Atime is the file's last access time (ok false when unknown).
func Atime(fi os.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(st.Atim.Sec), int64(st.Atim.Nsec)), true
}
