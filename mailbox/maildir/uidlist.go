package maildir

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"imapd/mailbox"
)

const (
	uidlistName  = "imapd-uidlist"
	keywordsName = "imapd-keywords"
	lockName     = "imapd-uidlist.lock"
)

// known is what the uid list says of one base.
type known struct {
	uid   uint32
	size  int64 // W: RFC822.SIZE
	mtime int64 // T: internal date, Unix seconds
	// missing: not found by a directory read since this Unix time (0:
	// found); the base is dropped only when still not found forgetMissing
	// later (a read can miss a file renamed at that moment, and under Wine
	// several reads in a row can).
	missing int64
}

// forgetMissing is how long a listed base must stay unfound before it is
// taken as removed.
const forgetMissing = 10 * time.Second

// uidlist is the parsed imapd-uidlist.
type uidlist struct {
	validity uint32
	next     uint32
	byBase   map[string]known
	order    []string // bases in UID order
}

// readUIDList reads dir's uid list; a missing one is empty (validity 0).
func readUIDList(dir string) (*uidlist, error) {
	l := &uidlist{next: 1, byBase: map[string]known{}}
	b, err := readShared(filepath.Join(dir, uidlistName))
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read uid list of %s: %w", dir, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 1<<20)
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if first {
			first = false
			if len(f) != 4 || f[0] != uidlistName || f[1] != "1" {
				return nil, fmt.Errorf("uid list of %s: %w: bad header", dir, mailbox.ErrNotMailbox)
			}
			v, err1 := strconv.ParseUint(strings.TrimPrefix(f[2], "V"), 10, 32)
			n, err2 := strconv.ParseUint(strings.TrimPrefix(f[3], "N"), 10, 32)
			if err1 != nil || err2 != nil || n == 0 {
				return nil, fmt.Errorf("uid list of %s: %w: bad header", dir, mailbox.ErrNotMailbox)
			}
			l.validity, l.next = uint32(v), uint32(n)
			continue
		}
		var missing int64
		if len(f) == 5 {
			// "missing@<since>"; "missing" alone (older lists): long ago.
			since, ok := strings.CutPrefix(f[4], "missing")
			if !ok {
				return nil, fmt.Errorf("uid list of %s: %w: bad line %q", dir, mailbox.ErrNotMailbox, sc.Text())
			}
			missing = 1
			if t, found := strings.CutPrefix(since, "@"); found {
				if n, err := strconv.ParseInt(t, 10, 64); err == nil && n > 0 {
					missing = n
				}
			}
		} else if len(f) != 4 {
			return nil, fmt.Errorf("uid list of %s: %w: bad line %q", dir, mailbox.ErrNotMailbox, sc.Text())
		}
		uid, err1 := strconv.ParseUint(f[0], 10, 32)
		size, err2 := strconv.ParseInt(strings.TrimPrefix(f[1], "W"), 10, 64)
		mt, err3 := strconv.ParseInt(strings.TrimPrefix(f[2], "T"), 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || uid == 0 || uint32(uid) >= l.next {
			return nil, fmt.Errorf("uid list of %s: %w: bad line %q", dir, mailbox.ErrNotMailbox, sc.Text())
		}
		if _, dup := l.byBase[f[3]]; dup {
			continue
		}
		l.byBase[f[3]] = known{uid: uint32(uid), size: size, mtime: mt, missing: missing}
		l.order = append(l.order, f[3])
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read uid list of %s: %w", dir, err)
	}
	return l, nil
}

// write replaces dir's uid list whole (temporary file, sync, rename).
func (l *uidlist) write(dir string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s 1 V%d N%d\n", uidlistName, l.validity, l.next)
	for _, base := range l.order {
		k := l.byBase[base]
		missing := ""
		if k.missing != 0 {
			missing = " missing@" + strconv.FormatInt(k.missing, 10)
		}
		fmt.Fprintf(&b, "%d W%d T%d %s%s\n", k.uid, k.size, k.mtime, base, missing)
	}
	return replaceFile(dir, uidlistName, b.Bytes())
}

// replaceFile writes name in dir atomically.
func replaceFile(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := retryBusy(func() error { return os.Rename(tmp, filepath.Join(dir, name)) }); err != nil {
		return fmt.Errorf("replace %s: %w", name, err)
	}
	syncDir(dir)
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// readKeywords reads dir's keyword slots.
func readKeywords(dir string) ([]string, error) {
	b, err := readShared(filepath.Join(dir, keywordsName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read keywords of %s: %w", dir, err)
	}
	var kws []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && len(kws) < maxKeywords {
			kws = append(kws, line)
		}
	}
	return kws, nil
}

// readShared reads a whole file opened with openShared.
func readShared(path string) ([]byte, error) {
	f, err := openShared(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
