package maildir

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"imapd/mailbox"
)

// Options say how to open a maildir.
type Options struct {
	ReadOnly    bool
	Hostname    string           // for new file names; "" = os.Hostname()
	LockTimeout time.Duration    // how long to wait for the uid list lock; 0 = 30s
	Create      bool             // create the maildir if missing (INBOX)
	Now         func() time.Time // nil = time.Now (tests)
	// ValidityFile is the user's UIDVALIDITY high-water mark
	// (ValidityFileName in the INBOX maildir); "" = none.
	ValidityFile string
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) lockTimeout() time.Duration {
	if o.LockTimeout > 0 {
		return o.LockTimeout
	}
	return 30 * time.Second
}

func (o *Options) hostname() string {
	h := o.Hostname
	if h == "" {
		h, _ = os.Hostname()
	}
	if h == "" {
		h = "localhost"
	}
	// "/" and ":" cannot be in a base; maildir writers encode them.
	return strings.NewReplacer("/", `\057`, ":", `\072`, ";", `\073`, ",", `\054`).Replace(h)
}

type message struct {
	uid    uint32
	base   string
	name   string // file name in cur/, or in new/ when inNew
	inNew  bool
	flags  mailbox.Flags
	kw     uint32 // keyword slots
	other  string // info letters imapd does not interpret, kept on rename
	size   int64
	date   time.Time
	recent bool
	dirty  bool // flags changed in memory, not yet renamed
	gone   bool // its file vanished (removed by another program)
}

// Mailbox is an open maildir. It implements mailbox.Mailbox.
type Mailbox struct {
	dir        string
	opt        Options
	ro         bool
	validity   uint32
	next       uint32
	keywords   []string
	msgs       []*message
	pendingNew int
	seen       stamp // the directories as of the last full sync
}

// stamp is what changes when a maildir changes: the modification times of
// new/ and cur/ (a delivery, a rename, a removal) and of imapd's files.
type stamp struct {
	times [4]time.Time
	when  time.Time // when it was taken
}

func takeStamp(dir string) (stamp, bool) {
	var st stamp
	for i, name := range []string{"new", "cur", uidlistName, keywordsName} {
		fi, err := os.Stat(filepath.Join(dir, name))
		switch {
		case err == nil:
			st.times[i] = fi.ModTime()
		case !errors.Is(err, fs.ErrNotExist):
			return stamp{}, false
		}
	}
	st.when = time.Now()
	return st, true
}

// unchanged reports whether nothing changed since s was taken. A time too
// close to when the stamp was taken is not trusted (file systems with
// coarse times could hide a second change in the same tick).
func (s stamp) unchanged(now stamp) bool {
	if s.when.IsZero() || now.times != s.times {
		return false
	}
	for _, t := range s.times {
		if !t.IsZero() && s.when.Sub(t) < 2*time.Second {
			return false
		}
	}
	return true
}

var _ mailbox.Mailbox = (*Mailbox)(nil)

// Create makes an empty maildir (cur/, new/, tmp/ and the uid list).
func Create(dir string, opt Options) error {
	for _, d := range []string{dir, filepath.Join(dir, "cur"), filepath.Join(dir, "new"), filepath.Join(dir, "tmp")} {
		if err := os.Mkdir(d, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create maildir %s: %w", dir, err)
		}
	}
	unlock, err := lockList(dir, opt.lockTimeout())
	if err != nil {
		return err
	}
	defer unlock()
	l, err := readUIDList(dir)
	if err != nil || l.validity != 0 {
		return err
	}
	l.validity = opt.newValidity()
	return l.write(dir)
}

// IsMaildir reports whether dir looks like a maildir (has cur/ and new/).
func IsMaildir(dir string) bool {
	for _, sub := range []string{"cur", "new"} {
		if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
			return false
		}
	}
	return true
}

// Open opens the maildir dir. A read-write open takes in the messages
// delivered to new/ (they move to cur/ and are \Recent for this session).
func Open(dir string, opt Options) (*Mailbox, error) {
	if !IsMaildir(dir) {
		if !opt.Create || opt.ReadOnly {
			return nil, fmt.Errorf("open maildir %s: %w", dir, fs.ErrNotExist)
		}
		if err := Create(dir, opt); err != nil {
			return nil, err
		}
	}
	m := &Mailbox{dir: dir, opt: opt, ro: opt.ReadOnly}
	if _, err := m.sync(); err != nil {
		return nil, err
	}
	m.pendingNew = 0
	return m, nil
}

// entry is one file found by scan.
type entry struct {
	name  string
	inNew bool
}

// scan lists cur/ and new/ by base; it reads directory names only.
func scan(dir string) (map[string]entry, error) {
	found := make(map[string]entry)
	for _, sub := range []string{"new", "cur"} {
		d, err := os.Open(filepath.Join(dir, sub))
		if err != nil {
			return nil, fmt.Errorf("scan maildir %s: %w", dir, err)
		}
		names, err := d.Readdirnames(-1)
		d.Close()
		if err != nil {
			return nil, fmt.Errorf("scan maildir %s: %w", dir, err)
		}
		for _, name := range names {
			base, _ := splitName(name)
			if !validBase(base) {
				continue
			}
			found[base] = entry{name: name, inNew: sub == "new"}
		}
	}
	return found, nil
}

// sync brings the view up to the directory: new files get UIDs (and, read
// write, move from new/ to cur/ as \Recent), vanished files are marked
// gone, flags of unchanged messages follow their file names. It returns
// how many messages joined the view.
func (m *Mailbox) sync() (int, error) {
	unlock, err := lockList(m.dir, m.opt.lockTimeout())
	if err != nil {
		return 0, err
	}
	defer unlock()
	before, stamped := takeStamp(m.dir)
	l, err := readUIDList(m.dir)
	if err != nil {
		return 0, err
	}
	kws, err := readKeywords(m.dir)
	if err != nil {
		return 0, err
	}
	m.keywords = kws
	found, err := scan(m.dir)
	if err != nil {
		return 0, err
	}
	changed := false
	if l.validity == 0 {
		l.validity, changed = m.opt.newValidity(), true
	}
	if m.validity != 0 && l.validity != m.validity {
		return 0, fmt.Errorf("maildir %s: UIDVALIDITY changed: %w", m.dir, mailbox.ErrChanged)
	}
	recent := map[string]bool{}
	if !m.ro {
		for base, e := range found {
			if !e.inNew {
				continue
			}
			// Keep the info of a file imapd stored in new/ with flags
			// (store); a deliverer's file has none.
			name := e.name
			if _, info := splitName(name); info == "" {
				name = base + infoSep + "2,"
			}
			err := retryBusy(func() error { return os.Rename(filepath.Join(m.dir, "new", e.name), filepath.Join(m.dir, "cur", name)) })
			switch {
			case err == nil:
				found[base] = entry{name: name}
				recent[base] = true
			case errors.Is(err, fs.ErrNotExist):
				delete(found, base) // another session took it: found at the next scan
			default:
				return 0, fmt.Errorf("take in %s: %w", e.name, err)
			}
		}
	}
	// A listed base missing from the scan may only have been renamed while
	// the directories were read: flag changes (Checkpoint, a mail reader)
	// take no lock, and a directory read concurrent with a rename can see
	// neither name. Look again before taking it as removed, which would
	// give it a new UID at the next sync.
	for try := 0; try < 2 && listedMissing(l, found); try++ {
		again, err := scan(m.dir)
		if err != nil {
			return 0, err
		}
		for base, e := range again {
			if _, listed := l.byBase[base]; listed {
				if _, ok := found[base]; !ok {
					found[base] = e
				}
			}
		}
	}
	// The list keeps the bases that still exist, in UID order, and gives
	// new ones the next UIDs in name order (names begin with the time). A
	// base the directory read did not find is dropped only when the next
	// full read does not find it either: a read can miss a file another
	// program renames at that moment (a flag change by another maildir
	// tool), and dropping it would number it again.
	kept := l.order[:0]
	now := m.opt.now().Unix()
	for _, base := range l.order {
		k := l.byBase[base]
		_, ok := found[base]
		switch {
		case ok && k.missing != 0:
			k.missing = 0
			l.byBase[base] = k
			changed = true
		case !ok && k.missing == 0:
			k.missing = now
			l.byBase[base] = k
			changed = true
		case !ok && now-k.missing < int64(forgetMissing/time.Second):
			// Not found again, but not for long: kept.
		case !ok:
			delete(l.byBase, base)
			changed = true
			continue
		}
		kept = append(kept, base)
	}
	l.order = kept
	numbered, err := m.number(l, found)
	if err != nil {
		return 0, err
	}
	if changed || numbered {
		// Read-only too: the UIDs this view shows (EXAMINE, STATUS) must
		// be the ones the next read-write open finds, not numbered anew.
		// Only a list that cannot be written (no permission) is left.
		if err := l.write(m.dir); err != nil && !m.ro {
			return 0, err
		}
	}
	m.validity, m.next = l.validity, l.next
	m.seen = stamp{}
	if stamped && len(recent) == 0 && !changed {
		m.seen = before // our own renames and writes changed the times: look again next time
	}
	return m.merge(l, found, recent), nil
}

// number gives the files of found that the list lacks the next UIDs, in
// name order (names begin with the time), and reports whether it did.
func (m *Mailbox) number(l *uidlist, found map[string]entry) (bool, error) {
	var fresh []string
	for base := range found {
		if _, ok := l.byBase[base]; !ok {
			fresh = append(fresh, base)
		}
	}
	slices.Sort(fresh)
	changed := false
	for _, base := range fresh {
		if l.next == ^uint32(0) {
			return changed, fmt.Errorf("maildir %s: UIDs exhausted", m.dir)
		}
		e := found[base]
		k, err := m.measure(e, base)
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return changed, err
		}
		k.uid = l.next
		l.next++
		l.byBase[base] = k
		l.order = append(l.order, base)
		changed = true
	}
	return changed, nil
}

// listedMissing reports whether a base in the list is not in found.
func listedMissing(l *uidlist, found map[string]entry) bool {
	for _, base := range l.order {
		if _, ok := found[base]; !ok {
			return true
		}
	}
	return false
}

// measure learns a new file's size with CRLF line ends and its date.
func (m *Mailbox) measure(e entry, base string) (known, error) {
	p := m.path(e)
	st, err := os.Stat(p)
	if err != nil {
		return known{}, err
	}
	k := known{mtime: st.ModTime().Unix(), size: sizeField(base, "W")}
	if k.size < 0 {
		f, err := openShared(p)
		if err != nil {
			return known{}, err
		}
		defer f.Close()
		k.size, err = crlfSize(f)
		if err != nil {
			return known{}, fmt.Errorf("read %s: %w", p, err)
		}
	}
	return k, nil
}

// merge updates the view from the list and the scan.
func (m *Mailbox) merge(l *uidlist, found map[string]entry, recent map[string]bool) int {
	have := make(map[string]*message, len(m.msgs))
	var last uint32
	for _, msg := range m.msgs {
		have[msg.base] = msg
		last = max(last, msg.uid)
		e, ok := found[msg.base]
		if !ok {
			msg.gone = true
			continue
		}
		msg.name, msg.inNew, msg.gone = e.name, e.inNew, false
		// A read-only view keeps the flags it was told, as a read-only
		// mbox: the session learns of changes when it opens again
		// (reload, after an expunge), and tells the client then.
		if !msg.dirty && !m.ro {
			_, info := splitName(e.name)
			msg.flags, msg.kw, msg.other = parseInfo(info)
		}
	}
	added := 0
	for _, base := range l.order {
		k := l.byBase[base]
		e, ok := found[base]
		if have[base] != nil || k.uid <= last || !ok {
			continue // known, expunged from this view, or not found this time
		}
		_, info := splitName(e.name)
		// Read-only, nothing is taken from new/: what is there has not
		// been seen by any session, \Recent as in an EXAMINEd mbox.
		msg := &message{uid: k.uid, base: base, name: e.name, inNew: e.inNew,
			size: k.size, date: time.Unix(k.mtime, 0), recent: recent[base] || (m.ro && e.inNew)}
		msg.flags, msg.kw, msg.other = parseInfo(info)
		m.msgs = append(m.msgs, msg)
		added++
	}
	m.pendingNew += added
	return added
}

func (m *Mailbox) path(e entry) string {
	if e.inNew {
		return filepath.Join(m.dir, "new", e.name)
	}
	return filepath.Join(m.dir, "cur", e.name)
}

func (m *Mailbox) UIDValidity() uint32 { return m.validity }
func (m *Mailbox) UIDNext() uint32     { return m.next }
func (m *Mailbox) ReadOnly() bool      { return m.ro }
func (m *Mailbox) Keywords() []string  { return slices.Clone(m.keywords) }
func (m *Mailbox) Len() int            { return len(m.msgs) }

// Message implements mailbox.Mailbox.
func (m *Mailbox) Message(i int) mailbox.Message {
	msg := m.msgs[i]
	out := mailbox.Message{UID: msg.uid, Flags: msg.flags, Recent: msg.recent,
		InternalDate: msg.date, Size: msg.size}
	for s := range maxKeywords {
		if msg.kw&(1<<s) != 0 && s < len(m.keywords) {
			out.Keywords = append(out.Keywords, m.keywords[s])
		}
	}
	return out
}

// Open implements mailbox.Mailbox: the message with CRLF line ends.
func (m *Mailbox) Open(i int) (io.ReadCloser, error) {
	if i < 0 || i >= len(m.msgs) {
		return nil, fmt.Errorf("open message: index %d out of range", i)
	}
	msg := m.msgs[i]
	f, err := openShared(m.path(entry{name: msg.name, inNew: msg.inNew}))
	if errors.Is(err, fs.ErrNotExist) {
		// Renamed by another session (a flag change): find its new name.
		if found, serr := scan(m.dir); serr == nil {
			if e, ok := found[msg.base]; ok {
				msg.name, msg.inNew = e.name, e.inNew
				f, err = openShared(m.path(e))
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open message %d of %s: %w", msg.uid, m.dir, err)
	}
	return &crlfReader{r: bufio.NewReaderSize(f, 16<<10), c: f, left: msg.size}, nil
}

// SetFlags implements mailbox.Mailbox; files are renamed at Checkpoint.
func (m *Mailbox) SetFlags(i int, flags mailbox.Flags, keywords []string) error {
	if m.ro {
		return mailbox.ErrReadOnly
	}
	if i < 0 || i >= len(m.msgs) {
		return fmt.Errorf("set flags: message index %d out of range", i)
	}
	var bits uint32
	for _, k := range keywords {
		s, err := m.slot(k)
		if err != nil {
			return err
		}
		bits |= 1 << s
	}
	msg := m.msgs[i]
	flags &= mailbox.Seen | mailbox.Answered | mailbox.Flagged | mailbox.Deleted | mailbox.Draft
	if msg.flags != flags || msg.kw != bits {
		msg.flags, msg.kw, msg.dirty = flags, bits, true
	}
	return nil
}

// slot finds or defines keyword k (defining writes imapd-keywords).
func (m *Mailbox) slot(k string) (int, error) {
	// A keyword already defined is kept even if it is not one a client
	// could define: another program wrote it, and a message keeps it.
	for s, have := range m.keywords {
		if strings.EqualFold(have, k) {
			return s, nil
		}
	}
	if k == "" || strings.ContainsAny(k, " \t\r\n\x00()\\\"{%*]") {
		return 0, fmt.Errorf("set flags: invalid keyword %q", k)
	}
	unlock, err := lockList(m.dir, m.opt.lockTimeout())
	if err != nil {
		return 0, err
	}
	defer unlock()
	kws, err := readKeywords(m.dir)
	if err != nil {
		return 0, err
	}
	m.keywords = kws
	for s, have := range kws {
		if strings.EqualFold(have, k) {
			return s, nil
		}
	}
	if len(kws) >= maxKeywords {
		return 0, fmt.Errorf("set flags: keyword %q: %w", k, mailbox.ErrTooManyKeywords)
	}
	kws = append(kws, k)
	if err := replaceFile(m.dir, keywordsName, []byte(strings.Join(kws, "\n")+"\n")); err != nil {
		return 0, err
	}
	m.keywords = kws
	return len(kws) - 1, nil
}

// Checkpoint implements mailbox.Mailbox: renames the files whose flags
// changed.
func (m *Mailbox) Checkpoint() error {
	if m.ro {
		return nil
	}
	dirty := false
	for _, msg := range m.msgs {
		dirty = dirty || msg.dirty && !msg.gone
	}
	if !dirty {
		return nil
	}
	// The renames are made under the uid list lock, so that no session's
	// directory read (which holds it) ever misses a message in the middle
	// of one and numbers it again.
	unlock, err := lockList(m.dir, m.opt.lockTimeout())
	if err != nil {
		return err
	}
	defer unlock()
	return m.checkpoint()
}

// checkpoint renames the files whose flags changed; the caller holds the
// uid list lock.
func (m *Mailbox) checkpoint() error {
	var found map[string]entry
	for _, msg := range m.msgs {
		if !msg.dirty || msg.gone {
			continue
		}
		name := msg.base + infoSep + "2," + withOther(infoLetters(msg.flags, msg.kw), msg.other)
		if name == msg.name && !msg.inNew {
			msg.dirty = false
			continue
		}
		from := m.path(entry{name: msg.name, inNew: msg.inNew})
		err := retryBusy(func() error { return os.Rename(from, filepath.Join(m.dir, "cur", name)) })
		if errors.Is(err, fs.ErrNotExist) {
			if found == nil {
				if found, err = scan(m.dir); err != nil {
					return err
				}
			}
			e, ok := found[msg.base]
			if !ok {
				msg.gone, msg.dirty = true, false
				continue
			}
			err = retryBusy(func() error { return os.Rename(m.path(e), filepath.Join(m.dir, "cur", name)) })
		}
		if err != nil {
			return fmt.Errorf("save flags of message %d in %s: %w", msg.uid, m.dir, err)
		}
		msg.name, msg.inNew, msg.dirty = name, false, false
	}
	return nil
}

// Sync implements mailbox.Mailbox. When the directories did not change
// since the last look it costs four stats, not a directory read.
//
// A read-only view whose messages another session expunged says
// mailbox.ErrChanged, as a read-only mbox does when the file is rewritten:
// the session opens the maildir again and tells the client EXPUNGE (a
// read-only view cannot expunge from itself).
func (m *Mailbox) Sync() (mailbox.Update, error) {
	if now, ok := takeStamp(m.dir); !ok || !m.seen.unchanged(now) {
		added, err := m.sync()
		if err != nil {
			return mailbox.Update{}, err
		}
		// New mail is numbered with the flags changed so far saved, as an
		// mbox's UIDs are stamped in a rewrite that carries them: another
		// session's STATUS then agrees with this one's.
		if added > 0 && !m.ro && slices.ContainsFunc(m.msgs, func(msg *message) bool { return msg.dirty }) {
			if err := m.Checkpoint(); err != nil {
				return mailbox.Update{}, err
			}
		}
	}
	if m.ro && slices.ContainsFunc(m.msgs, func(msg *message) bool { return msg.gone }) {
		return mailbox.Update{}, fmt.Errorf("maildir %s: messages removed by another session: %w", m.dir, mailbox.ErrChanged)
	}
	u := mailbox.Update{NewMessages: m.pendingNew}
	m.pendingNew = 0
	return u, nil
}

// Expunge implements mailbox.Mailbox: removes the files of the messages
// flagged \Deleted (and drops from the view those another program removed).
func (m *Mailbox) Expunge(uids func(uid uint32) bool) ([]int, error) {
	if m.ro {
		return nil, mailbox.ErrReadOnly
	}
	// All of it under the uid list lock: the files are removed by the
	// names a directory read made under the lock gives, and no other
	// session renames one meanwhile (a flag change), so a removal never
	// misses a file that then stays in the folder, dropped from the list,
	// to be numbered again at the next read.
	unlock, err := lockList(m.dir, m.opt.lockTimeout())
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := m.checkpoint(); err != nil {
		return nil, err
	}
	var out []int
	var removed []string
	defer func() {
		if len(removed) > 0 {
			m.unlist(removed)
		}
	}()
	var found map[string]entry // read once, when a name turns out stale
	keep := m.msgs[:0]
	for i, msg := range m.msgs {
		del := msg.gone || msg.flags&mailbox.Deleted != 0 && (uids == nil || uids(msg.uid))
		if del && !msg.gone {
			err := retryBusy(func() error { return os.Remove(m.path(entry{name: msg.name, inNew: msg.inNew})) })
			if errors.Is(err, fs.ErrNotExist) {
				// Another session renamed it since this view last looked
				// (a flag change): remove it by its present name if it is
				// still \Deleted there, keep it if that was taken off.
				if found == nil {
					if found, err = scan(m.dir); err != nil {
						keep = append(keep, m.msgs[i:]...)
						m.msgs = keep
						return out, err
					}
				}
				e, ok := found[msg.base]
				if ok {
					_, info := splitName(e.name)
					if f, _, _ := parseInfo(info); f&mailbox.Deleted == 0 {
						keep = append(keep, msg) // the next sync shows its flags
						continue
					}
					err = retryBusy(func() error { return os.Remove(m.path(e)) })
				}
			}
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				// Keep what is left consistent: the messages removed so
				// far are gone from the view.
				keep = append(keep, m.msgs[i:]...)
				m.msgs = keep
				return out, fmt.Errorf("expunge message %d of %s: %w", msg.uid, m.dir, err)
			}
		}
		if del {
			out = append(out, i)
			removed = append(removed, msg.base)
			continue
		}
		keep = append(keep, msg)
	}
	m.msgs = keep
	if len(out) > 0 {
		syncDir(filepath.Join(m.dir, "cur"))
	}
	return out, nil
}

// unlist drops the bases of expunged messages from the uid list at once,
// so that the list says what the maildir holds (a sync with nothing new
// changes no file). A failure is harmless: the next sync drops them. The
// caller holds the uid list lock.
func (m *Mailbox) unlist(bases []string) {
	l, err := readUIDList(m.dir)
	if err != nil {
		return
	}
	gone := make(map[string]bool, len(bases))
	for _, b := range bases {
		if _, ok := l.byBase[b]; ok {
			gone[b] = true
			delete(l.byBase, b)
		}
	}
	if len(gone) == 0 {
		return
	}
	l.order = slices.DeleteFunc(l.order, func(b string) bool { return gone[b] })
	l.write(m.dir)
}

// Append implements mailbox.Mailbox: the messages join this session's view
// as \Recent, reported by the next Sync.
func (m *Mailbox) Append(msgs []mailbox.NewMessage) ([]uint32, error) {
	if m.ro {
		return nil, mailbox.ErrReadOnly
	}
	masks := make([]uint32, len(msgs))
	for i, nm := range msgs {
		for _, k := range nm.Keywords {
			s, err := m.slot(k)
			if err != nil {
				return nil, err
			}
			masks[i] |= 1 << s
		}
	}
	_, uids, err := store(m.dir, msgs, masks, &m.opt)
	if err != nil {
		return nil, err
	}
	if _, err := m.sync(); err != nil {
		return nil, err
	}
	for _, msg := range m.msgs {
		if slices.Contains(uids, msg.uid) {
			msg.recent = true
		}
	}
	return uids, nil
}

// AppendTo appends to a maildir that is not open and returns its
// UIDVALIDITY and the messages' UIDs. The maildir must exist.
func AppendTo(dir string, msgs []mailbox.NewMessage, opt Options) (uint32, []uint32, error) {
	if !IsMaildir(dir) {
		return 0, nil, fmt.Errorf("append to %s: %w", dir, fs.ErrNotExist)
	}
	kws, err := readKeywords(dir)
	if err != nil {
		return 0, nil, err
	}
	m := &Mailbox{dir: dir, opt: opt, keywords: kws}
	masks := make([]uint32, len(msgs))
	for i, nm := range msgs {
		for _, k := range nm.Keywords {
			s, err := m.slot(k)
			if err != nil {
				return 0, nil, err
			}
			masks[i] |= 1 << s
		}
	}
	return store(dir, msgs, masks, &opt)
}

var seq atomic.Uint64

// store writes messages to tmp/, then, holding the uid list, moves them to
// new/ with their flags and gives them UIDs. All or nothing: on an error no
// message stays. Appended messages go to new/, not cur/, so that the next
// read-write session to sync the maildir takes them in as \Recent, as it
// does a delivery; copies (NewMessage.Copy, or a FromLine) go to cur/, not
// \Recent. The same rule as mbox's status headers (UW: an appended message
// is new, a copy old).
func store(dir string, msgs []mailbox.NewMessage, masks []uint32, opt *Options) (uint32, []uint32, error) {
	type written struct{ tmp, base string }
	var ws []written
	defer func() {
		for _, w := range ws {
			os.Remove(w.tmp)
		}
	}()
	for _, nm := range msgs {
		date := nm.Date
		if date.IsZero() {
			date = opt.now()
		}
		base0 := fmt.Sprintf("%d.M%dP%dQ%d.%s", date.Unix(), date.Nanosecond()/1000, os.Getpid(), seq.Add(1), opt.hostname())
		tmp := filepath.Join(dir, "tmp", base0)
		size, crlf, err := writeMessage(tmp, nm.Body)
		if err != nil {
			return 0, nil, err
		}
		if err := os.Chtimes(tmp, date, date); err != nil {
			return 0, nil, fmt.Errorf("date %s: %w", tmp, err)
		}
		ws = append(ws, written{tmp: tmp, base: base0 + ",S=" + strconv.FormatInt(size, 10) + ",W=" + strconv.FormatInt(crlf, 10)})
	}
	unlock, err := lockList(dir, opt.lockTimeout())
	if err != nil {
		return 0, nil, err
	}
	defer unlock()
	l, err := readUIDList(dir)
	if err != nil {
		return 0, nil, err
	}
	if l.validity == 0 {
		l.validity = opt.newValidity()
	}
	// Deliveries waiting in new/ were there first: they get their UIDs
	// before these messages, as a session would have numbered them.
	found, err := scan(dir)
	if err != nil {
		return 0, nil, err
	}
	if _, err := (&Mailbox{dir: dir, opt: *opt}).number(l, found); err != nil {
		return 0, nil, err
	}
	if uint64(l.next)+uint64(len(msgs)) >= uint64(^uint32(0)) {
		return 0, nil, fmt.Errorf("append to %s: UIDs exhausted", dir)
	}
	var moved []string
	uids := make([]uint32, len(msgs))
	for i, w := range ws {
		sub := "new"
		if msgs[i].Copy || msgs[i].FromLine != "" {
			sub = "cur"
		}
		dst := filepath.Join(dir, sub, fileName(w.base, msgs[i].Flags, masks[i]))
		if err := os.Rename(w.tmp, dst); err != nil {
			for _, p := range moved {
				os.Remove(p)
			}
			return 0, nil, fmt.Errorf("append to %s: %w", dir, err)
		}
		moved = append(moved, dst)
		st, err := os.Stat(dst)
		if err != nil {
			for _, p := range moved {
				os.Remove(p)
			}
			return 0, nil, fmt.Errorf("append to %s: %w", dir, err)
		}
		uids[i] = l.next
		l.byBase[w.base] = known{uid: l.next, size: sizeField(w.base, "W"), mtime: st.ModTime().Unix()}
		l.order = append(l.order, w.base)
		l.next++
	}
	ws = nil
	syncDir(filepath.Join(dir, "new"))
	syncDir(filepath.Join(dir, "cur"))
	if err := l.write(dir); err != nil {
		for _, p := range moved {
			os.Remove(p)
		}
		return 0, nil, err
	}
	return l.validity, uids, nil
}

// writeMessage stores body in path with LF line ends and returns the
// stored size and the size with CRLF line ends.
func writeMessage(path string, body io.Reader) (size, crlf int64, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	w := bufio.NewWriterSize(f, 32<<10)
	r := bufio.NewReaderSize(body, 32<<10)
	var prev byte
	pendingCR := false
	put := func(b byte) error {
		size++
		crlf++
		if b == '\n' && prev != '\r' {
			crlf++
		}
		prev = b
		return w.WriteByte(b)
	}
	for {
		b, rerr := r.ReadByte()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return 0, 0, fmt.Errorf("read message: %w", rerr)
		}
		if pendingCR {
			pendingCR = false
			if b != '\n' {
				if err := put('\r'); err != nil {
					return 0, 0, err
				}
			}
		}
		if b == '\r' {
			pendingCR = true
			continue
		}
		if err := put(b); err != nil {
			return 0, 0, fmt.Errorf("write %s: %w", path, err)
		}
	}
	if pendingCR {
		if err := put('\r'); err != nil {
			return 0, 0, fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err := w.Flush(); err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, 0, fmt.Errorf("close %s: %w", path, err)
	}
	return size, crlf, nil
}

// crlfSize is the size of r's content with every lone LF made CRLF.
func crlfSize(r io.Reader) (int64, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	var n int64
	var prev byte
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
		if b == '\n' && prev != '\r' {
			n++
		}
		prev = b
	}
}

// crlfReader reads a file with lone LFs made CRLF, at most left bytes (the
// size the session announced).
type crlfReader struct {
	r     *bufio.Reader
	c     io.Closer
	left  int64
	prev  byte
	owelf bool // a CR was given for a lone LF; the LF is next
}

func (c *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && c.left > 0 {
		if c.owelf {
			p[n] = '\n'
			c.owelf = false
			c.prev = '\n'
			n++
			c.left--
			continue
		}
		b, err := c.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b == '\n' && c.prev != '\r' {
			p[n] = '\r'
			c.owelf = true
			c.prev = '\r'
		} else {
			p[n] = b
			c.prev = b
		}
		n++
		c.left--
	}
	if n == 0 && c.left == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (c *crlfReader) Close() error { return c.c.Close() }

// Close implements mailbox.Mailbox: saves changed flags.
func (m *Mailbox) Close() error { return m.Checkpoint() }

// Stat reports a maildir's status without taking in new/: new/ files are
// \Recent for whoever opens it next.
func Stat(dir string, opt Options) (mailbox.Status, error) {
	opt.ReadOnly = true
	m, err := Open(dir, opt)
	if err != nil {
		return mailbox.Status{}, err
	}
	st := mailbox.Status{Messages: uint32(len(m.msgs)), UIDNext: m.next, UIDValidity: m.validity}
	for _, msg := range m.msgs {
		if msg.inNew {
			st.Recent++
		}
		if msg.flags&mailbox.Seen == 0 {
			st.Unseen++
		}
		if msg.flags&mailbox.Deleted != 0 {
			st.Deleted++
			st.DeletedSize += msg.size
		}
		st.Size += msg.size
	}
	if st.UIDValidity == 0 {
		st.UIDValidity = uint32(opt.now().Unix())
	}
	return st, nil
}
