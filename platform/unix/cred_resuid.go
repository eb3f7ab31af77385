//go:build freebsd || openbsd || dragonfly

package unix

import (
	"fmt"
	"os"

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

func checkIDs(uid, gid int) error {
	if os.Getuid() != uid || os.Geteuid() != uid {
		return fmt.Errorf("uid %d euid %d after setresuid", os.Getuid(), os.Geteuid())
	}
	if os.Getgid() != gid || os.Getegid() != gid {
		return fmt.Errorf("gid %d egid %d after setresgid", os.Getgid(), os.Getegid())
	}
	return nil
}
