//go:build windows

package windows

import (
	"os"
	"path/filepath"
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
