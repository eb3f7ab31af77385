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

// holdMailbox takes the cross-process read-write hold on a mailbox file.
func holdMailbox(path string) (release func(), heldElsewhere bool, err error) {
	return windows.HoldMailbox(path)
}

// mailboxHeld reports whether any process holds the mailbox file.
func mailboxHeld(path string) (bool, error) { return windows.MailboxHeld(path) }

// ErrLogonRejected is wrapped by CheckWindowsPassword's error when Windows
// refused the name and password.
var ErrLogonRejected = windows.ErrLogonRejected

// CheckWindowsPassword checks a Windows account password (nt_user):
// "DOMAIN\user", "user@domain" or a local user name.
func CheckWindowsPassword(user, password string) error { return windows.LogonUser(user, "", password) }
