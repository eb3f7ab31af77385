package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ValidityFileName is the per-user UIDVALIDITY high-water mark that
// Options.ValidityFile names, in the user's INBOX maildir (hidden from LIST
// and refused as a folder name, as every ".imapd" name).
const ValidityFileName = ".imapd-uidvalidity"

// newValidity is the UIDVALIDITY of a maildir that starts (created, or its
// uid list lost): the current time, but above every UIDVALIDITY given before
// to a mailbox of this user (the mark in o.ValidityFile, then raised), so a
// folder deleted and created again in the same second, or after the clock
// was set back, still gets a greater one (RFC 3501 2.3.1.1). The mark is
// best effort: when it cannot be used the value is the time.
func (o *Options) newValidity() uint32 {
	v := uint32(o.now().Unix())
	if o.ValidityFile == "" {
		return v
	}
	unlock, err := lockFile(o.ValidityFile+".lock", 2*time.Second)
	if err != nil {
		return v
	}
	defer unlock()
	if b, err := readShared(o.ValidityFile); err == nil {
		if mark, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32); err == nil && uint32(mark) >= v && mark < 1<<32-1 {
			v = uint32(mark) + 1
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return v
	}
	if err := replaceFile(filepath.Dir(o.ValidityFile), filepath.Base(o.ValidityFile), []byte(fmt.Sprintf("%d\n", v))); err != nil {
		return uint32(o.now().Unix())
	}
	return v
}
