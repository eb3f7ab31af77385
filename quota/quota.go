// Package quota is user_quota: how much mail a user may keep, and how much
// they keep.
//
// The limit (Limit) is in kbytes (1024 bytes). user_quota false: none.
// user_quota true: the authenticator's answer gives it, as a word
// "quota=<kbytes>" in the info field of its +OK line (for example
// "+OK alice /var/spool/mail/alice 1001 quota=20000"); without one, DSMTP's
// drop_max when dmail.conf sets it, else none. user_quota <kbytes>: the
// authenticator's quota= word still wins, else that number. quota=0 means
// no limit for that user.
//
// The usage (Usage) is the size of the drop file plus the size of every
// file under the folder root (folders, subscription list, anything the user
// keeps there). Sizes come from stat(2), never from reading mail. The drop
// file, where the SMTP server delivers, is looked at for every question;
// the folder tree is walked at the first question and again when the last
// walk is older than Rescan, and the files the session itself wrote to
// (Wrote) are looked at again at once. So deliveries are seen at once, the
// session's own appends at once, and another session's changes to folders
// within Rescan.
package quota

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"imapd/config"
)

// Rescan is how old the folder tree's sizes may get before a walk.
const Rescan = 30 * time.Second

// Limit returns the user's limit in kbytes from cfg and the
// authenticator's info field; ok is false when there is none.
func Limit(cfg *config.Config, info string) (kb int64, ok bool) {
	if !cfg.UserQuota.Enabled {
		return 0, false
	}
	if n, found := fromInfo(info); found {
		return n, n > 0
	}
	if cfg.UserQuota.KBytes > 0 {
		return cfg.UserQuota.KBytes, true
	}
	for i := len(cfg.Others) - 1; i >= 0; i-- {
		if e := cfg.Others[i]; e.Name == "drop_max" {
			if n, err := strconv.ParseInt(strings.TrimSpace(e.Value), 10, 64); err == nil && n > 0 {
				return n, true
			}
		}
	}
	return 0, false
}

// fromInfo finds "quota=<kbytes>" (any case) among the info field's words.
func fromInfo(info string) (int64, bool) {
	for _, w := range strings.Fields(info) {
		name, v, ok := strings.Cut(w, "=")
		if !ok || !strings.EqualFold(name, "quota") {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > 1<<53 {
			continue
		}
		return n, true
	}
	return 0, false
}

// Usage measures one user's mail. Safe for concurrent use.
type Usage struct {
	drop, root string
	now        func() time.Time

	mu      sync.Mutex
	walked  time.Time
	files   map[string]int64 // sizes under root at the last walk
	total   int64            // sum of files
	touched map[string]bool  // files under root written since the walk
}

// NewUsage measures the drop file and the folder tree under root.
func NewUsage(drop, root string) *Usage {
	return &Usage{drop: drop, root: root, now: time.Now}
}

// Wrote tells that the session wrote to path (a folder file): its size is
// looked at again at the next question.
func (u *Usage) Wrote(path string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.touched == nil {
		u.touched = map[string]bool{}
	}
	u.touched[path] = true
}

// Bytes is the user's usage in bytes.
func (u *Usage) Bytes() (int64, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var used int64
	if fi, err := os.Stat(u.drop); err == nil && fi.Mode().IsRegular() {
		used = fi.Size()
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	// A maildir written to (its messages are files in it, the INBOX
	// maildir is the root) is counted again by a walk.
	rewalk := false
	for p := range u.touched {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			rewalk = true
		}
	}
	if rewalk || u.files == nil || u.now().Sub(u.walked) >= Rescan {
		if err := u.walk(); err != nil {
			return 0, err
		}
	}
	for p := range u.touched {
		if p == u.drop {
			continue
		}
		var size int64
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		u.total += size - u.files[p]
		u.files[p] = size
	}
	u.touched = nil
	return used + u.total, nil
}

func (u *Usage) walk() error {
	files := map[string]int64{}
	var total int64
	err := filepath.WalkDir(u.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == u.root && errors.Is(err, fs.ErrNotExist) {
				return nil // no folders yet
			}
			if d != nil && d.IsDir() && p != u.root {
				return fs.SkipDir // a directory the user cannot read counts 0
			}
			return err
		}
		if d.IsDir() && d.Name() == ".imapd-index" {
			return fs.SkipDir // the mbox index cache (mbox.IndexDirName) is not mail
		}
		if !d.Type().IsRegular() || p == u.drop {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // gone meanwhile
		}
		files[p] = fi.Size()
		total += fi.Size()
		return nil
	})
	if err != nil {
		return err
	}
	u.files, u.total, u.walked, u.touched = files, total, u.now(), nil
	return nil
}

// KB rounds bytes up to kbytes.
func KB(bytes int64) int64 { return (bytes + 1023) / 1024 }
