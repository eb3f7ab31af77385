//go:build windows

package platform

import (
	"os"
	"time"

	"imapd/platform/windows"
)

// OpenMailFileForWrite opens an existing mailbox file for a rewrite or an
// append. On Windows the file is opened with share mode FILE_SHARE_READ, so
// the SMTP server cannot write it until the returned file is closed (the
// 4.4.3z2 fix); it waits up to wait for others to close theirs.
func OpenMailFileForWrite(path string, wait time.Duration) (*os.File, error) {
	return windows.LockDropFile(path, wait)
}
