//go:build windows

package windows

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// SubscriptionFile is the legacy NT subscription file name.
const SubscriptionFile = "MAILBOX.LST"

// DefaultConfigPath is %SystemRoot%\system32\dmail.conf.
func DefaultConfigPath() string {
	root := os.Getenv("SystemRoot")
	if root == "" {
		root = `C:\Windows`
	}
	return filepath.Join(root, "system32", "dmail.conf")
}

// ProcessGone reports whether no process pid runs on this machine: none
// has that id, or the one that has it has exited (its handle is still held
// by someone).
func ProcessGone(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_INVALID_PARAMETER)
	}
	defer windows.CloseHandle(h)
	var code uint32
	if err := windows.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code != stillActive
}

// stillActive is the exit code of a process still running (STILL_ACTIVE).
const stillActive = 259
