//go:build !windows

package platform

import (
	"os"
	"time"
)

// OpenMailFileForWrite opens an existing mailbox file for a rewrite or an
// append. On unix the DMail servers and UW keep each other off a file with
// the dot-lock and flock, which the mailbox driver takes: a plain open.
func OpenMailFileForWrite(path string, wait time.Duration) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR, 0)
}
