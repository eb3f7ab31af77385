//go:build windows

package platform

import (
	"os"
	"time"

	"imapd/platform/windows"
)

// OpenMailFile opens a mailbox file. (Windows has no user-planted links to
// fear in the mail directories: a plain open.)
func OpenMailFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}

// OpenMailFileForWrite opens an existing mailbox file for a rewrite or an
// append. On Windows the file is opened with share mode FILE_SHARE_READ, so
// the SMTP server cannot write it until the returned file is closed (the
// 4.4.3z2 fix); it waits up to wait for others to close theirs.
func OpenMailFileForWrite(path string, wait time.Duration) (*os.File, error) {
	return windows.LockDropFile(path, wait)
}
