//go:build windows

package windows

import (
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/windows"
)

// LockDir is the directory of the mailbox lock files: %windir%\TEMP, else
// os.TempDir() when that does not exist.
func LockDir() string {
	if dir, err := windows.GetSystemWindowsDirectory(); err == nil && dir != "" {
		tmp := filepath.Join(dir, "TEMP")
		if fi, err := os.Stat(tmp); err == nil && fi.IsDir() {
			return tmp
		}
	}
	return os.TempDir()
}

// maxLockName is the longest lock file name used as is; longer names are
// hashed (NTFS allows 255 characters per name).
const maxLockName = 200

// LockFilePath is the lock file HoldMailbox uses for the mailbox at path:
// the absolute mailbox path with '/', '\' and ':' turned into '!', in
// LockDir (UW's NT c-client naming).
func LockFilePath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("mailbox lock name for %s: %w", path, err)
	}
	name := strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':':
			return '!'
		}
		return r
	}, abs)
	if len(name) > maxLockName {
		h := fnv.New64a()
		h.Write([]byte(strings.ToUpper(name)))
		name = fmt.Sprintf("%016x~%s", h.Sum64(), name[len(name)-180:])
	}
	return filepath.Join(LockDir(), name), nil
}

// HoldMailbox takes the read-write hold on the mailbox file at path for a
// session. heldElsewhere is true when another session (in this process or
// any other) holds it: the caller then gets the mailbox read-only and must
// not write it. Otherwise the caller holds it until it calls release, which
// is safe to call more than once. release is never nil. An error means the
// lock file could not be opened at all (no write access to LockDir...): the
// caller should then open the mailbox read-only too.
func HoldMailbox(path string) (release func(), heldElsewhere bool, err error) {
	noop := func() {}
	lock, err := LockFilePath(path)
	if err != nil {
		return noop, false, err
	}
	h, err := createFile(lock, windows.GENERIC_READ|windows.GENERIC_WRITE, windows.FILE_SHARE_READ, windows.OPEN_ALWAYS)
	if errors.Is(err, windows.ERROR_SHARING_VIOLATION) {
		return noop, true, nil
	}
	if err != nil {
		return noop, false, fmt.Errorf("hold mailbox %s: open lock file %s: %w", path, lock, err)
	}
	// The holder's pid, for an administrator wondering who has it. Best
	// effort: the sharing mode is the lock, not the content.
	pid := []byte(strconv.Itoa(os.Getpid()))
	var n uint32
	if windows.WriteFile(h, pid, &n, nil) == nil {
		windows.SetEndOfFile(h)
	}
	var once sync.Once
	return func() { once.Do(func() { windows.CloseHandle(h) }) }, false, nil
}

// createFile is CreateFileW with a long-path prefix when needed.
func createFile(path string, access, share, disposition uint32) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(longPath(path))
	if err != nil {
		return windows.InvalidHandle, err
	}
	return windows.CreateFile(p, access, share, nil, disposition, windows.FILE_ATTRIBUTE_NORMAL, 0)
}

// longPath adds the \\?\ prefix to an absolute path too long for the
// classic Win32 limit (MAX_PATH, 260, less room for a file name).
func longPath(path string) string {
	if len(path) < 248 || strings.HasPrefix(path, `\\`) || !filepath.IsAbs(path) {
		return path
	}
	return `\\?\` + filepath.Clean(path)
}

// MailboxHeld reports whether a session holds the mailbox at path
// read-write (DELETE refuses such a mailbox). It probes the lock file with
// read access and share mode FILE_SHARE_READ: a holder (which has write
// access) makes that fail with a sharing violation. The probe holds the
// lock file for an instant; a session taking the hold in that instant gets
// the mailbox read-only, as if it had been held.
func MailboxHeld(path string) (bool, error) {
	lock, err := LockFilePath(path)
	if err != nil {
		return false, err
	}
	h, err := createFile(lock, windows.GENERIC_READ, windows.FILE_SHARE_READ, windows.OPEN_EXISTING)
	switch {
	case err == nil:
		windows.CloseHandle(h)
		return false, nil
	case errors.Is(err, windows.ERROR_SHARING_VIOLATION):
		return true, nil
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return false, nil
	}
	return false, fmt.Errorf("probe mailbox lock file %s: %w", lock, err)
}
