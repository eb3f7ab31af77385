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
	pids, ok := flockHolders(f)
	if !ok {
		return Unverified
	}
	for _, p := range pids {
		if p == pid {
			return Holds
		}
	}
	return DoesNotHold
}

// holderUIDs are the effective uids of the processes holding a flock on
// the file f is open on (nil: unknown).
func holderUIDs(f *os.File) []uint32 {
	pids, ok := flockHolders(f)
	if !ok {
		return nil
	}
	var uids []uint32
	for _, pid := range pids {
		uid, ok := processUID(pid)
		if !ok {
			return nil // gone meanwhile, or hidden: unknown
		}
		uids = append(uids, uid)
	}
	return uids
}

// flockHolders are the PIDs /proc/locks shows holding a FLOCK on a file
// with f's inode number.
func flockHolders(f *os.File) ([]int, bool) {
	fi, err := f.Stat()
	if err != nil {
		return nil, false
	}
	_, ino, ok := inode(fi)
	if !ok {
		return nil, false
	}
	pl, err := os.Open(procLocks)
	if err != nil {
		return nil, false
	}
	defer pl.Close()
	var pids []int
	sc := bufio.NewScanner(pl)
	for sc.Scan() {
		// 1: FLOCK  ADVISORY  WRITE 4277 fe:00:9977891 0 EOF
		// 1: -> FLOCK ...  (a blocked waiter: skipped)
		fl := strings.Fields(sc.Text())
		if len(fl) < 6 || fl[1] != "FLOCK" {
			continue
		}
		p, err := strconv.Atoi(fl[4])
		if err != nil {
			continue
		}
		id := fl[5]
		i := strings.LastIndexByte(id, ':')
		if i < 0 {
			continue
		}
		if n, err := strconv.ParseUint(id[i+1:], 10, 64); err == nil && n == ino {
			pids = append(pids, p)
		}
	}
	if sc.Err() != nil {
		return nil, false
	}
	return pids, true
}

// processUID is the effective uid of process pid (/proc/<pid>/status,
// "Uid: real effective saved fs").
func processUID(pid int) (uint32, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(rest)
			if len(f) < 2 {
				return 0, false
			}
			n, err := strconv.ParseUint(f[1], 10, 32)
			return uint32(n), err == nil
		}
	}
	return 0, false
}
