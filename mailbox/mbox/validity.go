package mbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ValidityFileName is the per-user UIDVALIDITY high-water mark that
// Options.ValidityFile names, in the user's folder directory (hidden from
// LIST and refused as a mailbox name, as every ".imapd" file there).
const ValidityFileName = ".imapd-uidvalidity"

// validityLockWait bounds the wait for the high-water mark's dot-lock.
const validityLockWait = 2 * time.Second

// newValidity returns the UIDVALIDITY of a mailbox that starts a new UID
// epoch (stamped for the first time, created, renumbered): the current
// time as UW does, but always above floor (the mailbox's previous
// UIDVALIDITY, 0 if none) and above every UIDVALIDITY given before to a
// mailbox of this user (the high-water mark in o.ValidityFile), which is
// then raised to it. So a mailbox deleted and created again in the same
// second, or after the clock was set back, still gets a greater value
// (RFC 3501 2.3.1.1, RFC 9051 2.3.1.1), also across restarts.
//
// The mark is best effort: when it cannot be read or written (no folder
// directory yet, a read-only directory) the value is the larger of the
// time and floor+1.
func (o *Options) newValidity(floor uint32) uint32 {
	v := uint32(o.now().Unix())
	if v <= floor {
		v = floor + 1
	}
	if o.ValidityFile == "" {
		return v
	}
	if got, err := raiseValidityMark(o.ValidityFile, o.lockHost(), v); err == nil {
		v = got
	}
	return v
}

// raiseValidityMark takes the mark's dot-lock, reads the mark and returns
// max(v, mark+1), written back as the new mark: through a temporary file
// and a rename, so that a crash leaves the old mark or the new one.
func raiseValidityMark(path, host string, v uint32) (uint32, error) {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return 0, fmt.Errorf("uidvalidity mark %s: no folder directory", path)
	}
	dot, err := dotLock(path, host, time.Now().Add(validityLockWait))
	if err != nil {
		return 0, err
	}
	if dot == nil {
		return 0, fmt.Errorf("uidvalidity mark %s: cannot lock", path)
	}
	defer dot.Release()
	mark, err := readValidityMark(path)
	if err != nil {
		return 0, err
	}
	if mark != 0 && v <= mark {
		if mark == ^uint32(0) {
			return 0, fmt.Errorf("uidvalidity mark %s: exhausted", path)
		}
		v = mark + 1
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, fmt.Errorf("write uidvalidity mark %s: %w", tmp, err)
	}
	_, err = fmt.Fprintf(f, "%d\n", v)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("write uidvalidity mark %s: %w", path, err)
	}
	return v, nil
}

// readValidityMark reads the mark; a missing file is 0. A file that does
// not hold a number is an error (the mark is then not used, rather than
// lowered).
func readValidityMark(path string) (uint32, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read uidvalidity mark %s: %w", path, err)
	}
	if len(b) > 32 {
		return 0, fmt.Errorf("read uidvalidity mark %s: not a number", path)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0, fmt.Errorf("read uidvalidity mark %s: not a number", path)
	}
	return uint32(n), nil
}
