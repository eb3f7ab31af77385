//go:build unix

package unix

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// SetuidStart reports whether the process was started through its set-uid
// or set-gid bit by someone else (real and effective ids differ).
func SetuidStart() bool {
	return os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid()
}

// TrustedConfig checks a configuration file before a set-uid start reads
// it: whoever started us could otherwise name a file of their own (with an
// authent_process they wrote, run as root) or a secret file root can read
// (its lines would come back in error messages). The file, after symbolic
// links are resolved, must be a regular file owned by root, readable by
// everybody and writable by nobody else; every directory above it must be
// owned by root and writable by nobody else unless sticky. It returns the
// resolved path, which is the one to read.
func TrustedConfig(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("configuration %s: %w", path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("configuration %s: %w", path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("configuration %s: %w", path, err)
	}
	switch {
	case !fi.Mode().IsRegular():
		return "", fmt.Errorf("configuration %s is not a regular file", real)
	case owner(fi) != 0:
		return "", fmt.Errorf("configuration %s is not owned by root", real)
	case fi.Mode().Perm()&0o022 != 0:
		return "", fmt.Errorf("configuration %s is writable by group or others", real)
	case fi.Mode().Perm()&0o004 == 0:
		return "", fmt.Errorf("configuration %s is not readable by everybody", real)
	}
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		di, err := os.Stat(dir)
		if err != nil {
			return "", fmt.Errorf("configuration directory %s: %w", dir, err)
		}
		if owner(di) != 0 {
			return "", fmt.Errorf("configuration directory %s is not owned by root", dir)
		}
		if di.Mode().Perm()&0o022 != 0 && di.Mode()&fs.ModeSticky == 0 {
			return "", fmt.Errorf("configuration directory %s is writable by group or others", dir)
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	return real, nil
}

func owner(fi os.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}
