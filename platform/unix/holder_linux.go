package unix

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// procLocks is the kernel's table of file locks.
const procLocks = "/proc/locks"

// verifyHolder looks pid up in /proc/locks: it must hold a FLOCK on a file
// with f's inode number. (The device is not compared: /proc/locks shows the
// superblock's device, which differs from st_dev on btrfs subvolumes and
// overlays. A process holding a flock on another file with the same inode
// number on another file system cannot be arranged by a user.)
func verifyHolder(f *os.File, pid int) Verdict {
	fi, err := f.Stat()
	if err != nil {
		return Unverified
	}
	_, ino, ok := inode(fi)
	if !ok {
		return Unverified
	}
	pl, err := os.Open(procLocks)
	if err != nil {
		return Unverified
	}
	defer pl.Close()
	sc := bufio.NewScanner(pl)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 4277 fe:00:9977891 0 EOF
		// 1: -> FLOCK ...  (a blocked waiter: skipped)
		fl := strings.Fields(sc.Text())
		if len(fl) < 6 || fl[1] != "FLOCK" {
			continue
		}
		p, err := strconv.Atoi(fl[4])
		if err != nil || p != pid {
			continue
		}
		id := fl[5]
		i := strings.LastIndexByte(id, ':')
		if i < 0 {
			continue
		}
		if n, err := strconv.ParseUint(id[i+1:], 10, 64); err == nil && n == ino {
			return Holds
		}
	}
	if sc.Err() != nil {
		return Unverified
	}
	return DoesNotHold
}
