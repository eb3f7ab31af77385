//go:build windows

package windows

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// ErrDropFileBusy is wrapped by LockDropFile's error when another handle
// with write access (DSMTP appending, another imapd rewriting) has the drop
// file open.
var ErrDropFileBusy = errors.New("drop file is in use by another process")

// dropRetry is how often LockDropFile tries again while the drop file is busy.
const dropRetry = 50 * time.Millisecond

// LockDropFile opens the existing drop file at path for reading and writing
// with share mode FILE_SHARE_READ: until the returned file is closed nobody
// else can open it for writing, delete or rename it (DSMTP meets a sharing
// violation and retries). Readers may still open it. The caller does its
// rewrite through the returned file; closing it is the unlock. While the
// file is busy it tries again every 50ms for up to wait (0: once); then the
// error wraps ErrDropFileBusy. A missing file gives an error for which
// errors.Is(err, fs.ErrNotExist) holds.
func LockDropFile(path string, wait time.Duration) (*os.File, error) {
	deadline := time.Now().Add(wait)
	for {
		h, err := createFile(path, windows.GENERIC_READ|windows.GENERIC_WRITE, windows.FILE_SHARE_READ, windows.OPEN_EXISTING)
		if err == nil {
			return os.NewFile(uintptr(h), path), nil
		}
		if !errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
			return nil, fmt.Errorf("lock drop file %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("lock drop file %s: %w (%w)", path, ErrDropFileBusy, err)
		}
		time.Sleep(dropRetry)
	}
}
