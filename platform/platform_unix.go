//go:build !windows

package platform

import (
	"os"

	"imapd/platform/unix"
)

// SecondSelectTakesOver: on unix the earlier session is disconnected when
// another selects its mailbox (the manual's user notes).
const SecondSelectTakesOver = true

// SubscriptionFile is the name of the subscription file in the folder root.
func SubscriptionFile() string { return unix.SubscriptionFile }

// DefaultConfigPath is where dmail.conf is looked for without -i or $DMAIL_CONF.
func DefaultConfigPath() string { return unix.DefaultConfigPath }

func fileID(fi os.FileInfo) (string, bool) { return unix.FileID(fi) }

// holdMailbox: unix has no cross-process hold here (the earlier holder is
// told to let go instead).
func holdMailbox(path string) (release func(), heldElsewhere bool, err error) {
	return func() {}, false, nil
}

func mailboxHeld(path string) (bool, error) { return false, nil }
