package unix

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// setIDs uses the syscall package: since Go 1.16 its Set*id and Setgroups
// change every thread of the process (x/sys/unix's Setgroups would change
// only the calling one).
func setIDs(groups []int, uid, gid int) error {
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("setresgid: %w", err)
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("setresuid: %w", err)
	}
	return nil
}

func checkIDs(uid, gid int) error {
	r, e, s := unix.Getresuid()
	if r != uid || e != uid || s != uid {
		return fmt.Errorf("uids are %d/%d/%d after setresuid", r, e, s)
	}
	r, e, s = unix.Getresgid()
	if r != gid || e != gid || s != gid {
		return fmt.Errorf("gids are %d/%d/%d after setresgid", r, e, s)
	}
	return nil
}
