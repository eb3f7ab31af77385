//go:build unix && !linux

package unix

import (
	"fmt"
	"os"
)

// checkRealEffective checks the real and effective uid and gid after an
// identity change.
func checkRealEffective(uid, gid int) error {
	if os.Getuid() != uid || os.Geteuid() != uid {
		return fmt.Errorf("uid %d euid %d after the identity change", os.Getuid(), os.Geteuid())
	}
	if os.Getgid() != gid || os.Getegid() != gid {
		return fmt.Errorf("gid %d egid %d after the identity change", os.Getgid(), os.Getegid())
	}
	return nil
}
