//go:build windows

package platform

import (
	"fmt"
	"os"
	"syscall"
	"time"

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

// Links is the number of hard links of a file: Lstat does not report it on
// Windows (ok false).
func Links(fi os.FileInfo) (uint64, bool) { return 0, false }

// Atime is the file's last access time (ok false when unknown).
func Atime(fi os.FileInfo) (time.Time, bool) {
	d, ok := fi.Sys().(*syscall.Win32FileAttributeData)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(0, d.LastAccessTime.Nanoseconds()), true
}

// Privileged: sessions never change identity on Windows (the service
// account serves everyone).
func Privileged() bool { return false }

func alreadyUser(uid int) bool { return false }

func becomeUser(u *User) error {
	return fmt.Errorf("become uid %d: not supported on windows", u.UID)
}

// CheckUserAccess: nothing to check on Windows (no change of identity).
func CheckUserAccess(dropFile, folderRoot string) error { return nil }

// armLetGo: no kiss of death on Windows.
func armLetGo() {}

// acrossLock releases the cross-process hold.
type acrossLock = func()

// lockAcross takes the sharing-mode hold, seen by every imapd process
// (imapdsvc runs one per connection); held elsewhere means read-only.
// shared changes nothing: sessions share a mailbox within one process
// (ClaimShared), not across processes.
func lockAcross(path string, fi os.FileInfo, c *Claim, deadline time.Time, shared bool) ([]string, bool) {
	release, elsewhere, err := holdMailbox(path)
	if err != nil || elsewhere {
		return []string{noticeReadOnlyWin}, false
	}
	c.across = release
	return nil, true
}

func releaseAcross(c *Claim) {
	c.across()
	c.across = nil
}

func heldAcross(path string, fi os.FileInfo) bool {
	held, err := mailboxHeld(path)
	return err == nil && held
}

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

// SetuidStart: Windows has no set-uid bit.
func SetuidStart() bool { return false }

// TrustedConfig: nothing to check on Windows.
func TrustedConfig(path string) (string, error) { return path, nil }

// FileOwner: files have no numeric owner on Windows.
func FileOwner(string) (uid, gid int, ok bool) { return 0, 0, false }

// ProcessGone reports whether no process pid runs on this host.
func ProcessGone(pid int) bool { return windows.ProcessGone(pid) }
