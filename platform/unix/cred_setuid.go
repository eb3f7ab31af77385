//go:build darwin || netbsd || solaris || aix

package unix

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// setIDs: no setresuid here; setgid/setuid by root set the real, effective
// and saved ids together.
func setIDs(groups []int, uid, gid int) error {
	if err := unix.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := unix.Setgid(gid); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := unix.Setuid(uid); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return nil
}

func checkIDs(uid, gid int) error {
	if os.Getuid() != uid || os.Geteuid() != uid {
		return fmt.Errorf("uid %d euid %d after setuid", os.Getuid(), os.Geteuid())
	}
	if os.Getgid() != gid || os.Getegid() != gid {
		return fmt.Errorf("gid %d egid %d after setgid", os.Getgid(), os.Getegid())
	}
	if uid != 0 && unix.Setuid(0) == nil {
		return fmt.Errorf("root could be regained after setuid")
	}
	return nil
}
