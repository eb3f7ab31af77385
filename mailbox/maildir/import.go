package maildir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"imapd/mailbox"
)

// ImportMessage is a message brought from another store with its UID.
type ImportMessage struct {
	UID      uint32
	Flags    mailbox.Flags
	Keywords []string
	Date     time.Time
	Body     io.Reader // as the session reads it (CRLF line ends)
}

// Importer fills a maildir with messages that keep their UIDs and the
// source's UIDVALIDITY (imapd -convert). It can be run again after a crash
// or on a source that got new mail: messages already imported (their file
// names carry UID and UIDVALIDITY) are skipped.
type Importer struct {
	dir      string
	opt      Options
	l        *uidlist
	mark     string            // "V<validity>." in imported bases
	done     map[uint32]string // UID -> base of imported files found or written
	names    map[string]string // base -> file name in cur/ of the imported files found
	keywords []string
}

// NewImporter opens (creating it if needed) the maildir dir for an import
// from a store whose UIDVALIDITY is validity. The maildir must hold no mail
// of its own: only messages imported before with the same UIDVALIDITY, and
// deliveries in new/ (which get UIDs after the imported ones).
func NewImporter(dir string, validity uint32, opt Options) (*Importer, error) {
	if err := Create(dir, opt); err != nil {
		return nil, err
	}
	l, err := readUIDList(dir)
	if err != nil {
		return nil, err
	}
	im := &Importer{dir: dir, opt: opt, l: l, mark: "V" + strconv.FormatUint(uint64(validity), 10) + ".", done: map[uint32]string{}, names: map[string]string{}}
	found, err := scan(dir)
	if err != nil {
		return nil, err
	}
	for base, e := range found {
		if e.inNew {
			continue
		}
		uid, ok := im.importedUID(base)
		if !ok {
			return nil, fmt.Errorf("import into %s: it already holds mail of its own (%s)", dir, e.name)
		}
		im.done[uid] = base
		im.names[base] = e.name
	}
	if l.validity != validity && len(im.done) > 0 {
		return nil, fmt.Errorf("import into %s: it holds an import of another UIDVALIDITY (%d)", dir, l.validity)
	}
	if l.validity != validity {
		// Fresh: the list starts over with the source's numbering.
		l.validity, l.next, l.byBase, l.order = validity, 1, map[string]known{}, nil
	}
	if im.keywords, err = readKeywords(dir); err != nil {
		return nil, err
	}
	return im, nil
}

// importedUID reads the UID of an imported base "<time>.I<uid>V<validity>.…".
func (im *Importer) importedUID(base string) (uint32, bool) {
	_, rest, ok := strings.Cut(base, ".I")
	if !ok {
		return 0, false
	}
	num, tail, ok := strings.Cut(rest, im.mark)
	if !ok || tail == "" {
		return 0, false
	}
	uid, err := strconv.ParseUint(num, 10, 32)
	return uint32(uid), err == nil && uid > 0
}

// Has reports whether the message with this UID was imported already.
func (im *Importer) Has(uid uint32) bool { _, ok := im.done[uid]; return ok }

// Update gives a message imported by an earlier run the flags and keywords
// it has now in the source (the user went on reading mail there).
func (im *Importer) Update(uid uint32, flags mailbox.Flags, keywords []string) error {
	base, ok := im.done[uid]
	name := im.names[base]
	if !ok || name == "" {
		return nil // imported by this run: already current
	}
	var kw uint32
	for _, k := range keywords {
		s, err := im.slot(k)
		if err != nil {
			return err
		}
		kw |= 1 << s
	}
	_, info := splitName(name)
	_, _, other := parseInfo(info)
	want := base + infoSep + "2," + withOther(infoLetters(flags, kw), other)
	if want == name {
		return nil
	}
	if err := os.Rename(filepath.Join(im.dir, "cur", name), filepath.Join(im.dir, "cur", want)); err != nil {
		return fmt.Errorf("import into %s: update flags of %d: %w", im.dir, uid, err)
	}
	im.names[base] = want
	return nil
}

// Prune removes the messages imported by an earlier run that the source no
// longer has (expunged there since), so a run again mirrors the source.
func (im *Importer) Prune(keep func(uid uint32) bool) error {
	for uid, base := range im.done {
		if keep(uid) {
			continue
		}
		if name := im.names[base]; name != "" {
			if err := os.Remove(filepath.Join(im.dir, "cur", name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("import into %s: remove %d: %w", im.dir, uid, err)
			}
		}
		delete(im.done, uid)
		delete(im.names, base)
	}
	return nil
}

// Add imports one message (skipped when it was imported already).
func (im *Importer) Add(m ImportMessage) error {
	if im.Has(m.UID) {
		return nil
	}
	var kw uint32
	for _, k := range m.Keywords {
		s, err := im.slot(k)
		if err != nil {
			return err
		}
		kw |= 1 << s
	}
	date := m.Date
	if date.IsZero() {
		date = im.opt.now()
	}
	base0 := fmt.Sprintf("%d.I%d%simapd-convert", date.Unix(), m.UID, im.mark)
	tmp := filepath.Join(im.dir, "tmp", base0)
	size, crlf, err := writeMessage(tmp, m.Body)
	if err != nil {
		return err
	}
	if err := os.Chtimes(tmp, date, date); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("date %s: %w", tmp, err)
	}
	base := base0 + ",S=" + strconv.FormatInt(size, 10) + ",W=" + strconv.FormatInt(crlf, 10)
	if err := os.Rename(tmp, filepath.Join(im.dir, "cur", fileName(base, m.Flags, kw))); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("import into %s: %w", im.dir, err)
	}
	im.done[m.UID] = base
	return nil
}

func (im *Importer) slot(k string) (int, error) {
	for s, have := range im.keywords {
		if strings.EqualFold(have, k) {
			return s, nil
		}
	}
	if len(im.keywords) >= maxKeywords {
		return 0, fmt.Errorf("import keyword %q: %w", k, mailbox.ErrTooManyKeywords)
	}
	im.keywords = append(im.keywords, k)
	if err := replaceFile(im.dir, keywordsName, []byte(strings.Join(im.keywords, "\n")+"\n")); err != nil {
		return 0, err
	}
	return len(im.keywords) - 1, nil
}

// Finish writes the uid list: every imported message with its UID, and
// UIDNEXT at least next (the source's), so no UID is given twice.
func (im *Importer) Finish(next uint32) error {
	unlock, err := lockList(im.dir, im.opt.lockTimeout())
	if err != nil {
		return err
	}
	defer unlock()
	syncDir(filepath.Join(im.dir, "cur"))
	found, err := scan(im.dir)
	if err != nil {
		return err
	}
	l := im.l
	l.byBase, l.order = map[string]known{}, nil
	uids := make([]uint32, 0, len(im.done))
	for uid := range im.done {
		uids = append(uids, uid)
	}
	slices.Sort(uids)
	for _, uid := range uids {
		base := im.done[uid]
		e, ok := found[base]
		if !ok {
			return fmt.Errorf("import into %s: message %d vanished", im.dir, uid)
		}
		k := known{uid: uid, size: sizeField(base, "W")}
		if st, err := os.Stat(filepath.Join(im.dir, "cur", e.name)); err == nil {
			k.mtime = st.ModTime().Unix()
		}
		l.byBase[base] = k
		l.order = append(l.order, base)
		l.next = max(l.next, uid+1)
	}
	l.next = max(l.next, next)
	return l.write(im.dir)
}
