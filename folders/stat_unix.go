//go:build unix

package folders

import (
	"io/fs"
	"syscall"
)

// links returns the hard link count of the file.
func links(fi fs.FileInfo) (n uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true
}
