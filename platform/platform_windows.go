//go:build windows

package platform

import (
	"os"

	"imapd/platform/windows"
)

// SecondSelectTakesOver: on Windows a second session gets the mailbox
// read-only and the first is not disturbed (the manual's user notes).
const SecondSelectTakesOver = false

// SubscriptionFile is the name of the subscription file in the folder root.
func SubscriptionFile() string { return windows.SubscriptionFile }

// DefaultConfigPath is where dmail.conf is looked for without -i or $DMAIL_CONF.
func DefaultConfigPath() string { return windows.DefaultConfigPath() }

func fileID(fi os.FileInfo) (string, bool) { return "", false }
