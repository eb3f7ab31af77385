//go:build darwin || netbsd || solaris

package unix

import (
	"fmt"

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

// checkIDs: without getresuid the saved uid cannot be read; that root
// cannot be regained shows it was set too.
func checkIDs(uid, gid int) error {
	if err := checkRealEffective(uid, gid); err != nil {
		return err
	}
	if uid != 0 && unix.Setuid(0) == nil {
		return fmt.Errorf("root could be regained after setuid")
	}
	return nil
}
