//go:build unix

package unix

import (
	"fmt"
	"os"
	"syscall"
)

// SubscriptionFile is UW's subscription file name.
const SubscriptionFile = ".mailboxlist"

// DefaultConfigPath is the legacy location of dmail.conf.
const DefaultConfigPath = "/etc/dmail.conf"

// FileID names a file by device and inode in lower-case hex, as UW names
// its session lock /tmp/.<dev>.<ino>.
func FileID(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%x.%x", uint64(st.Dev), uint64(st.Ino)), true
}

// Links is the number of hard links of a file (ok false when unknown).
func Links(fi os.FileInfo) (n uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true
}

func inode(fi os.FileInfo) (dev, ino uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, 0, false
	}
	return uint64(st.Dev), uint64(st.Ino), true
}
