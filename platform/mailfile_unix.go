//go:build unix

package platform

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"imapd/platform/unix"
)

// OpenMailFile opens a mailbox file without following a symbolic link at
// its name, and refuses a file that is not a regular file or has more than
// one hard link: a link a user planted must never lead imapd (perhaps
// running as root) to another user's mail (the 4.4.3z fix). The check is
// made on the opened file, so swapping the name afterwards changes nothing.
func OpenMailFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("mailbox %s is not a regular file (refused)", path)
	}
	if n, ok := unix.Links(fi); ok && n > 1 {
		f.Close()
		return nil, fmt.Errorf("mailbox %s has %d hard links (refused)", path, n)
	}
	return f, nil
}

// OpenMailFileForWrite opens an existing mailbox file for a rewrite or an
// append. On unix the DMail servers and UW keep each other off a file with
// the dot-lock and flock, which the mailbox driver takes: a safe plain open.
func OpenMailFileForWrite(path string, wait time.Duration) (*os.File, error) {
	return OpenMailFile(path, os.O_RDWR, 0)
}
