//go:build unix

package platform

import (
	"fmt"
	"os"
	"syscall"
)

// OpenFileID names the file f is open on: on unix device and inode in
// decimal ("2049.1234"), on Windows volume serial number and file index in
// hex; "" when unknown. It survives in-place rewrites and renames and
// differs for a new file of the same name. mbox journals record it, so its
// form must not change.
func OpenFileID(f *os.File) string {
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
