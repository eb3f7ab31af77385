//go:build unix

package unix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// LookupUID finds the password file entry of uid: its name and primary
// group (for external authentication, which gives only a uid).
func LookupUID(uid int) (name string, gid int, err error) {
	u, err := user.LookupId(strconv.Itoa(uid))
	if err != nil {
		return "", -1, fmt.Errorf("look up uid %d: %w", uid, err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return "", -1, fmt.Errorf("look up uid %d: group %q is not a number", uid, u.Gid)
	}
	return u.Username, gid, nil
}

// Groups is what initgroups(3) would set: gid and every group of the group
// file that lists name (none when name is "").
func Groups(name string, gid int) ([]int, error) {
	set := map[int]bool{gid: true}
	if name != "" {
		ids, err := (&user.User{Username: name, Gid: strconv.Itoa(gid)}).GroupIds()
		if err != nil {
			return nil, fmt.Errorf("supplementary groups of %s: %w", name, err)
		}
		for _, s := range ids {
			if g, err := strconv.Atoi(s); err == nil && g >= 0 {
				set[g] = true
			}
		}
	}
	groups := make([]int, 0, len(set))
	for g := range set {
		groups = append(groups, g)
	}
	sort.Ints(groups)
	return groups, nil
}

// BecomeUser makes the whole process uid (real, effective and saved), with
// primary group gid and the supplementary groups, and checks that it took.
// It needs root. name ("" for none) selects the supplementary groups.
func BecomeUser(name string, uid, gid int) error {
	if uid < 0 || gid < 0 {
		return fmt.Errorf("become user %q: no uid or gid (%d, %d)", name, uid, gid)
	}
	groups, err := Groups(name, gid)
	if err != nil {
		return err
	}
	if err := setIDs(groups, uid, gid); err != nil {
		return fmt.Errorf("become user %q (uid %d gid %d): %w", name, uid, gid, err)
	}
	if err := checkIDs(uid, gid); err != nil {
		return fmt.Errorf("become user %q (uid %d gid %d): %w", name, uid, gid, err)
	}
	return nil
}

// CanEnter reports whether this process (its real ids, as access(2) uses)
// may search the directory dir; a missing dir is reported as such.
func CanEnter(dir string) error {
	if _, err := os.Stat(dir); err != nil {
		return err
	}
	if err := unix.Access(dir, unix.X_OK); err != nil {
		return &fs.PathError{Op: "enter", Path: dir, Err: err}
	}
	return nil
}

// CanRead reports whether this process (its real ids) may read the file path.
func CanRead(path string) error {
	if err := unix.Access(path, unix.R_OK); err != nil {
		if errors.Is(err, unix.ENOENT) {
			return &fs.PathError{Op: "access", Path: path, Err: fs.ErrNotExist}
		}
		return &fs.PathError{Op: "read", Path: path, Err: err}
	}
	return nil
}
