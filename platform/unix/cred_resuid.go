//go:build freebsd || openbsd || dragonfly

package unix

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// setIDs: credentials are per process here.
func setIDs(groups []int, uid, gid int) error {
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("setresgid: %w", err)
	}
	if err := unix.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("setresuid: %w", err)
	}
	return nil
}

// checkIDs: the real and effective ids (setresuid set the saved one too).
func checkIDs(uid, gid int) error { return checkRealEffective(uid, gid) }
