//go:build !windows

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
