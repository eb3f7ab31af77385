//go:build unix

package mbox

import (
	"fmt"
	"os"
	"syscall"
)

// fileID identifies the file f is open on: device and inode. It survives
// in-place rewrites and renames, and differs for a new file of the same name.
func fileID(f *os.File) string {
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d.%d", uint64(st.Dev), uint64(st.Ino))
}
