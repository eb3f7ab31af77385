package mbox

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"imapd/mailbox"
	"imapd/platform"
)

// Options say how to open a mailbox file.
type Options struct {
	ReadOnly    bool
	Hostname    string           // for pseudo-message From:/Message-ID and new From lines; "" = os.Hostname()
	LockTimeout time.Duration    // how long to wait for <file>.lock / flock; 0 = 30s
	UseFlock    bool             // flock in addition to the dot-lock (dmail.conf use_flock, default true)
	LockID      string           // this server's name in dot-locks (dmail.conf lock_id); "" = os.Hostname()
	Create      bool             // create the file (0600) if missing (used for INBOX)
	Now         func() time.Time // nil = time.Now (tests)
	// ValidityFile is the user's UIDVALIDITY high-water mark (see
	// newValidity), normally <folder root>/ValidityFileName; "" = none.
	ValidityFile string
	// IndexDir holds the index files that spare opens the parse of an
	// unchanged file (index.go), normally <folder root>/IndexDirName;
	// "" = none.
	IndexDir string
}

func (o *Options) lockTimeout() time.Duration {
	if o.LockTimeout > 0 {
		return o.LockTimeout
	}
	return 30 * time.Second
}

func (o *Options) useFlock() bool { return o.UseFlock }

// lockHost names this server in the dot-locks it makes: lock_id, else the
// host name.
func (o *Options) lockHost() string {
	if o.LockID != "" {
		return o.LockID
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) hostname() string {
	if o.Hostname != "" {
		return o.Hostname
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h // UW: gethostname()
	}
	return "localhost"
}

// maxKeywords is UW's NUSERFLAGS; maxKeywordLen its MAXUSERFLAG.
const (
	maxKeywords   = 30
	maxKeywordLen = 50
)

// Mailbox is an open UW-format mailbox file. It implements mailbox.Mailbox.
// No lock is held between calls; every call that reads or writes the file
// takes <file>.lock and the flock for its duration.
type Mailbox struct {
	path  string
	opt   Options
	ro    bool
	claim bool // messages seen as \Recent get "O" written (read-write sessions)

	rf   *os.File    // read handle for Open(i)
	fi   os.FileInfo // identity of the file (same inode across our rewrites)
	size int64       // file size as parsed
	lead int64       // offset of the first From line

	pseudo     *message // the FOLDER INTERNAL DATA message, nil if none
	pseudoRaw  []byte   // its X-IMAP line as on disk, without newline
	pseudoSpan span     // where that line is
	pseudoOK   bool     // the line is in canonical %010d form

	msgs        []*message
	uidValidity uint32
	uidLast     uint32
	keywords    []string
	diskBase    baseInfo // X-IMAPbase as written in the first message (kind none if none)

	pendingNew int         // messages added by internal syncs, not yet reported by Sync
	dead       error       // set after ErrChanged: every call fails with it
	ix         indexKey    // the file state the index on disk holds, as far as we know
	ixFile     os.FileInfo // that index file, as read or written (memcache.go)
	// shared: the messages are the memory index's, read-only until own().
	// planEmpty: a commit found nothing to write (or an open from the
	// memory index knows it would find nothing) and nothing changed
	// since; every change of the state goes through own(), which clears it.
	shared, planEmpty bool
	mem               *memState // while shared: the entry the messages are of
	// exact: the disk state in memory is what the file says (m.fi). It
	// stops being known once another program wrote the file without
	// changing its size (flags changed in place, which Sync does not
	// read): from then on this session writes no index.
	exact   bool
	foreign bool // another program wrote the file since we last did (changed.go)
	strict  bool // refuse to work on a file another program wrote (Strict)
}

var _ mailbox.Mailbox = (*Mailbox)(nil)

// Open opens the mailbox file at path. A read-write open that cannot get
// write access to the file falls back to read-only (see ReadOnly()).
func Open(path string, opt Options) (*Mailbox, error) {
	m := &Mailbox{path: path, opt: opt, ro: opt.ReadOnly, claim: !opt.ReadOnly}
	if err := m.openFile(); err != nil {
		return nil, err
	}
	return m, nil
}

// Path is the file this mailbox was opened from.
func (m *Mailbox) Path() string { return m.path }

// openFile locks, recovers, parses and (read-write) stamps the file.
func (m *Mailbox) openFile() error {
	if m.ro {
		if err := recoverIfJournal(m.path, &m.opt); err != nil {
			return err
		}
	}
	flags := 0
	if m.opt.Create && !m.ro {
		flags = os.O_CREATE
	}
	var h *held
	var err error
	if m.ro {
		h, err = lockRead(m.path, &m.opt)
	} else {
		h, err = lockMailbox(m.path, &m.opt, true, flags)
		if err != nil && errors.Is(err, fs.ErrPermission) {
			m.ro, m.claim = true, false // UW: "Can't get write access to mailbox, access is readonly"
			h, err = lockRead(m.path, &m.opt)
		}
	}
	if err != nil {
		return err
	}
	defer h.release()
	if !m.ro {
		if _, err := recoverJournal(m.path, h.f); err != nil {
			return err
		}
	}
	if err := m.loadAll(h); err != nil {
		return err
	}
	rf, err := platform.OpenMailFile(m.path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("open mailbox %s: %w", m.path, err)
	}
	if !sameFile(h.f, rf) {
		rf.Close()
		return fmt.Errorf("open mailbox %s: the file was replaced while it was read: %w", m.path, mailbox.ErrChanged)
	}
	m.rf = rf
	if !m.ro {
		if err := m.commit(h, nil); err != nil {
			rf.Close()
			return err
		}
		m.touchRead()
	}
	m.saveIndex(h.f)
	return nil
}

// recoverIfJournal runs journal recovery under an exclusive lock when a
// journal is present (a read-only open must not read a half-rewritten file).
func recoverIfJournal(path string, opt *Options) error {
	if _, err := os.Lstat(journalPath(path)); err != nil {
		return nil
	}
	h, err := lockMailbox(path, opt, true, 0)
	if err != nil {
		return fmt.Errorf("mailbox %s needs recovery from its journal: %w", path, err)
	}
	defer h.release()
	_, err = recoverJournal(path, h.f)
	return err
}

// loadAll parses the whole file and applies the UID rules.
func (m *Mailbox) loadAll(h *held) error {
	f := h.f
	st, err := h.stat()
	if err != nil {
		return fmt.Errorf("stat mailbox %s: %w", m.path, err)
	}
	m.fi, m.size = st, st.Size()
	if m.loadIndex(h, st) {
		m.exact = true
		return nil
	}
	m.fi, m.size = st, st.Size()
	msgs, lead, err := parseRange(f, 0, m.size)
	if err != nil {
		if errors.Is(err, errNoFrom) {
			return fmt.Errorf("mailbox %s: %w", m.path, mailbox.ErrNotMailbox)
		}
		return fmt.Errorf("read mailbox %s: %w", m.path, err)
	}
	m.lead = lead
	m.load(msgs)
	m.exact = true
	return nil
}

// load installs freshly parsed messages: pseudo-message, UID state,
// keywords, UIDs (docs/compatibility.md, "UIDs").
func (m *Mailbox) load(msgs []*message) {
	m.pseudo, m.pseudoRaw, m.pseudoOK = nil, nil, false
	m.uidValidity, m.uidLast, m.keywords, m.diskBase = 0, 0, nil, baseInfo{}
	if len(msgs) > 0 && msgs[0].st.base.kind == hdrXIMAP {
		m.setPseudo(msgs[0])
		msgs = msgs[1:]
	} else if len(msgs) > 0 && msgs[0].st.base.kind == hdrXIMAPbase {
		b := msgs[0].st.base
		m.uidValidity, m.uidLast = b.validity, b.last
		m.keywords = capKeywords(b.keywords)
		m.diskBase = b
	}
	haveState := m.uidValidity != 0
	renumber := !haveState
	var prev uint32
	for i, msg := range msgs {
		m.settle(msg, i == 0 && m.pseudo == nil)
		if renumber {
			continue
		}
		switch u := msg.diskUID; {
		case u != 0 && u > prev:
			msg.uid = u
			m.uidLast = max(m.uidLast, u)
		case u != 0:
			renumber = true // UW: "Message n UID u less than v": new epoch
		case m.uidLast == ^uint32(0):
			renumber = true
		default:
			m.uidLast++
			msg.uid = m.uidLast
		}
		prev = msg.uid
	}
	if renumber {
		m.uidValidity = m.opt.newValidity(m.uidValidity)
		for i, msg := range msgs {
			msg.uid = uint32(i + 1)
		}
		m.uidLast = uint32(len(msgs))
	}
	for _, msg := range msgs {
		msg.flags, msg.kw, msg.recent = msg.diskFlags, msg.diskKw, !msg.diskOld
	}
	m.msgs = msgs
}

func capKeywords(k []string) []string {
	if len(k) > maxKeywords {
		k = k[:maxKeywords]
	}
	return append([]string(nil), k...)
}

func (m *Mailbox) setPseudo(p *message) {
	b := p.st.base
	m.pseudo = p
	m.uidValidity, m.uidLast = b.validity, b.last
	m.keywords = capKeywords(b.keywords)
	m.pseudoRaw, m.pseudoSpan = p.baseRaw, p.baseSpan
	m.pseudoOK = bytes.Equal(p.baseRaw, pseudoLine(b.validity, b.last, b.keywords))
	p.parsed = nil
}

// settle records what the file says about msg (its disk state) and whether
// its status block is exactly what we would write. first: msg is the first
// message and there is no pseudo-message, so its block carries X-IMAPbase.
func (m *Mailbox) settle(msg *message, first bool) {
	st := &msg.st
	msg.diskFlags, msg.diskOld, msg.diskUID = st.flags, st.old, st.uid
	msg.diskKw = m.mask(st.keywords)
	msg.diskHasBase = first && st.base.kind == hdrXIMAPbase
	msg.blockCanon, msg.layoutOK = false, false
	if msg.block != nil && st.uid != 0 && !st.dupUID {
		var base []byte
		if msg.diskHasBase {
			base = baseLine(st.base.validity, st.base.last, st.base.keywords)
		}
		want := appendBlock(nil, base, msg.diskFlags, m.names(msg.diskKw), msg.diskOld, msg.diskUID)
		if bytes.Equal(want, msg.block) {
			msg.blockCanon = true
			msg.layoutOK = msg.hdrNL && msg.textNL && msg.end-msg.textEnd == 1
		}
	}
	msg.parsed = nil
}

// mask maps keyword names to slot bits, defining unknown ones while there
// is room (as UW's parser does); the rest are dropped.
func (m *Mailbox) mask(names []string) uint32 {
	var bits uint32
	for _, n := range names {
		if i := m.slot(n, true); i >= 0 {
			bits |= 1 << uint(i)
		}
	}
	return bits
}

// slot finds a keyword (case-insensitively) or, with add, defines it.
func (m *Mailbox) slot(name string, add bool) int {
	for i, k := range m.keywords {
		if strings.EqualFold(k, name) {
			return i
		}
	}
	if !add || len(m.keywords) >= maxKeywords || !validKeyword(name) {
		return -1
	}
	m.keywords = append(m.keywords, name)
	return len(m.keywords) - 1
}

func validKeyword(k string) bool {
	if k == "" || len(k) > maxKeywordLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*"\]`, c) >= 0 {
			return false
		}
	}
	return true
}

func (m *Mailbox) names(bits uint32) []string {
	if bits == 0 {
		return nil
	}
	var out []string
	for i, k := range m.keywords {
		if bits&(1<<uint(i)) != 0 {
			out = append(out, k)
		}
	}
	return out
}

// UIDValidity implements mailbox.Mailbox.
func (m *Mailbox) UIDValidity() uint32 { return m.uidValidity }

// UIDNext implements mailbox.Mailbox.
func (m *Mailbox) UIDNext() uint32 { return m.uidLast + 1 }

// ReadOnly implements mailbox.Mailbox.
func (m *Mailbox) ReadOnly() bool { return m.ro }

// Keywords implements mailbox.Mailbox.
func (m *Mailbox) Keywords() []string { return append([]string(nil), m.keywords...) }

// Len implements mailbox.Mailbox.
func (m *Mailbox) Len() int { return len(m.msgs) }

// Message implements mailbox.Mailbox.
func (m *Mailbox) Message(i int) mailbox.Message {
	msg := m.msgs[i]
	d := msg.date
	if d.IsZero() {
		d = time.Unix(0, 0).UTC()
	}
	return mailbox.Message{
		UID:          msg.uid,
		Flags:        msg.flags,
		Keywords:     m.names(msg.kw),
		Recent:       msg.recent,
		InternalDate: d,
		Size:         msg.size,
		FromLine:     msg.fromLine,
	}
}

// SelectCounts is what SELECT tells of the messages: how many are
// \Recent, and the sequence number of the first without \Seen (0: none),
// without building each message's mailbox.Message.
func (m *Mailbox) SelectCounts() (recent, firstUnseen int) {
	if m.shared && m.mem != nil {
		return m.mem.recent, m.mem.firstUnseen // what the entry's messages say
	}
	for i, msg := range m.msgs {
		if msg.recent {
			recent++
		}
		if firstUnseen == 0 && msg.flags&mailbox.Seen == 0 {
			firstUnseen = i + 1
		}
	}
	return recent, firstUnseen
}

// SetFlags implements mailbox.Mailbox. New keywords are defined in the
// mailbox (at most 30, UW's limit: ErrTooManyKeywords beyond).
func (m *Mailbox) SetFlags(i int, flags mailbox.Flags, keywords []string) error {
	if m.dead != nil {
		return m.dead
	}
	if m.ro {
		return mailbox.ErrReadOnly
	}
	if i < 0 || i >= len(m.msgs) {
		return fmt.Errorf("set flags: message index %d out of range", i)
	}
	m.own()
	var bits uint32
	for _, k := range keywords {
		if !validKeyword(k) {
			return fmt.Errorf("set flags: invalid keyword %q", k)
		}
		s := m.slot(k, true)
		if s < 0 {
			return fmt.Errorf("set flags: keyword %q: %w", k, mailbox.ErrTooManyKeywords)
		}
		bits |= 1 << uint(s)
	}
	msg := m.msgs[i]
	msg.flags = flags & (mailbox.Seen | mailbox.Answered | mailbox.Flagged | mailbox.Deleted | mailbox.Draft)
	msg.kw = bits
	return nil
}

// Checkpoint implements mailbox.Mailbox: picks up new mail, then writes
// flags, UIDs and claimed \Recent states.
func (m *Mailbox) Checkpoint() error {
	if m.dead != nil {
		return m.dead
	}
	if m.ro {
		return nil
	}
	return m.locked(true, func(h *held) error {
		if err := m.syncLocked(h); err != nil {
			return err
		}
		return m.commit(h, nil)
	})
}

// Sync implements mailbox.Mailbox. It reports the messages appended since
// the last Sync, including those Checkpoint, Expunge or Append picked up on
// the way (Len() already counts them).
func (m *Mailbox) Sync() (mailbox.Update, error) {
	if m.dead != nil {
		return mailbox.Update{}, m.dead
	}
	st, err := os.Stat(m.path)
	if err != nil {
		return mailbox.Update{}, m.fail(fmt.Errorf("stat mailbox %s: %w (%w)", m.path, err, mailbox.ErrChanged))
	}
	if !os.SameFile(st, m.fi) || st.Size() < m.size {
		return mailbox.Update{}, m.fail(fmt.Errorf("mailbox %s shrank from %d to %d bytes or was replaced: %w", m.path, m.size, st.Size(), mailbox.ErrChanged))
	}
	if st.Size() == m.size && !st.ModTime().Equal(m.fi.ModTime()) {
		// Same size but written meanwhile: an expunge and new mail of the
		// same size, or a flag change by another program. Our own writes
		// (touchRead, delivered) change it too. The messages we know must
		// still start where they did.
		err := m.locked(false, func(h *held) error {
			if !m.fromLinesInPlace(h.f) {
				return fmt.Errorf("mailbox %s was rewritten by another program: %w", m.path, mailbox.ErrChanged)
			}
			m.exact = false
			if st, err := h.stat(); err == nil && st.Size() == m.size {
				m.fi = st
			}
			return nil
		})
		if err != nil {
			return mailbox.Update{}, err
		}
	}
	if st.Size() > m.size {
		err := m.locked(!m.ro, func(h *held) error {
			if err := m.syncLocked(h); err != nil {
				return err
			}
			if m.ro {
				return nil
			}
			return m.commit(h, nil)
		})
		if err != nil {
			return mailbox.Update{}, err
		}
	}
	u := mailbox.Update{NewMessages: m.pendingNew}
	m.pendingNew = 0
	return u, nil
}

// Expunge implements mailbox.Mailbox. Only messages the session already
// knew of when the call started are candidates.
func (m *Mailbox) Expunge(uids func(uid uint32) bool) ([]int, error) {
	if m.dead != nil {
		return nil, m.dead
	}
	if m.ro {
		return nil, mailbox.ErrReadOnly
	}
	m.own()
	known := len(m.msgs)
	var out []int
	err := m.locked(true, func(h *held) error {
		if err := m.syncLocked(h); err != nil {
			return err
		}
		del := make([]bool, len(m.msgs))
		any := false
		for i := 0; i < known; i++ {
			msg := m.msgs[i]
			if msg.flags&mailbox.Deleted != 0 && (uids == nil || uids(msg.uid)) {
				del[i], any = true, true
			}
		}
		if !any {
			del = nil
		}
		if err := m.commit(h, del); err != nil {
			return err
		}
		for i, d := range del {
			if d {
				out = append(out, i)
			}
		}
		return nil
	})
	return out, err
}

// Close implements mailbox.Mailbox: a last checkpoint, then the file is
// let go. The checkpoint is left out, and with it the locks, when it
// would do nothing: nothing changed in memory since a commit found
// nothing to write or wrote it all, the index file is that state's, and
// the file is as this Mailbox last left it (Changed: no new mail, no
// other writer).
func (m *Mailbox) Close() error {
	var err error
	if m.dead == nil && !m.ro && !(m.planEmpty && m.indexCurrent() && !m.Changed()) {
		err = m.Checkpoint()
	}
	if m.rf != nil {
		if err == nil {
			m.keepInMemory(fileID(m.rf))
		}
		m.rf.Close()
		m.rf = nil
	}
	if m.dead == nil {
		m.dead = errors.New("mailbox is closed")
	}
	return err
}

// indexCurrent reports whether the index file is that of the state in
// memory, or none is to be written (so a checkpoint would not write one:
// saveIndex, which waits out whole-second modification times).
func (m *Mailbox) indexCurrent() bool {
	if m.opt.IndexDir == "" || !m.exact {
		return true
	}
	return m.ix.id != "" && m.ix.size == m.size && m.ix.mtime == m.fi.ModTime().UnixNano()
}

// fail marks the mailbox unusable when the file changed behind our back.
func (m *Mailbox) fail(err error) error {
	if errors.Is(err, mailbox.ErrChanged) {
		m.dead = err
		m.dropIndex()
	}
	return err
}

// locked runs fn with the file locked (exclusively when write) after
// checking it is still the file we parsed.
func (m *Mailbox) locked(write bool, fn func(h *held) error) error {
	var h *held
	var err error
	if write {
		h, err = lockMailbox(m.path, &m.opt, true, 0)
	} else {
		h, err = lockRead(m.path, &m.opt)
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return m.fail(fmt.Errorf("mailbox %s vanished: %w", m.path, mailbox.ErrChanged))
		}
		return err
	}
	defer h.release()
	st, err := h.stat()
	if err != nil {
		return fmt.Errorf("stat mailbox %s: %w", m.path, err)
	}
	if !os.SameFile(st, m.fi) {
		return m.fail(fmt.Errorf("mailbox %s was replaced: %w", m.path, mailbox.ErrChanged))
	}
	if st.Size() == m.size && !st.ModTime().Equal(m.fi.ModTime()) {
		m.exact = false // written by another program since we last looked
	}
	if err := m.noteForeign(st); err != nil {
		return m.fail(err)
	}
	if err := fn(h); err != nil {
		return m.fail(err)
	}
	if write {
		m.touchRead()
	}
	m.saveIndex(h.f)
	return nil
}

// touchRead sets the times UW sets after a read-write session looked at the
// mailbox: atime now, mtime before it ("read": LIST shows \UnMarked).
func (m *Mailbox) touchRead() {
	st, err := os.Stat(m.path)
	if err != nil {
		return
	}
	now := time.Now()
	mt := st.ModTime()
	if !mt.Before(now.Add(-time.Second)) {
		mt = now.Add(-time.Second)
	}
	os.Chtimes(m.path, now, mt)
	if st2, err := os.Stat(m.path); err == nil {
		m.fi = st2
	}
}

// syncLocked parses what was appended since the last parse. The data at the
// old end must be a valid From line (white space before it is tolerated, as
// UW does for broken MTAs), else ErrChanged.
func (m *Mailbox) syncLocked(h *held) error {
	st, err := h.stat()
	if err != nil {
		return fmt.Errorf("stat mailbox %s: %w", m.path, err)
	}
	size := st.Size()
	if size < m.size {
		return fmt.Errorf("mailbox %s shrank from %d to %d bytes: %w", m.path, m.size, size, mailbox.ErrChanged)
	}
	if size == m.size {
		return nil
	}
	// The last message we know must still be where it was.
	if n := len(m.msgs); n > 0 {
		if !fromAtLine(h.f, m.msgs[n-1].start, m.msgs[n-1].fromLine) {
			return fmt.Errorf("mailbox %s: unexpected changes: %w", m.path, mailbox.ErrChanged)
		}
	}
	msgs, lead, err := parseRange(h.f, m.size, size)
	if err != nil {
		if errors.Is(err, errNoFrom) {
			return fmt.Errorf("mailbox %s: unexpected changes to mailbox: %w", m.path, mailbox.ErrChanged)
		}
		return fmt.Errorf("read mailbox %s: %w", m.path, err)
	}
	m.own()
	oldSize := m.size
	wasEmpty := len(m.msgs) == 0 && m.pseudo == nil
	if oldSize == 0 {
		m.lead = lead
	}
	if n := len(m.msgs); n > 0 {
		if lead != m.msgs[n-1].end {
			m.msgs[n-1].layoutOK = false // white space between: the previous message's
		}
		m.msgs[n-1].end = lead
	}
	m.size = size
	m.fi = st
	floor := m.uidLast
	if len(msgs) > 0 && oldSize == 0 && msgs[0].st.base.kind == hdrXIMAP {
		// someone made the empty file a folder: keep the UIDVALIDITY we announced
		v, l := m.uidValidity, m.uidLast
		m.setPseudo(msgs[0])
		if v != 0 {
			m.uidValidity = v
		}
		m.uidLast = max(m.uidLast, l)
		msgs = msgs[1:]
	}
	prev := uint32(0)
	if n := len(m.msgs); n > 0 {
		prev = m.msgs[n-1].uid
	}
	for i, msg := range msgs {
		first := wasEmpty && m.pseudo == nil && i == 0
		if first && msg.st.base.kind == hdrXIMAPbase {
			b := msg.st.base
			m.uidLast = max(m.uidLast, b.last)
			for _, k := range b.keywords {
				m.slot(k, true)
			}
			if m.uidValidity == 0 {
				m.uidValidity = b.validity
			}
			m.diskBase = b
		}
		m.settle(msg, first)
		if u := msg.diskUID; u != 0 && u > prev && u > floor {
			msg.uid = u
			m.uidLast = max(m.uidLast, u)
		} else {
			m.uidLast++
			msg.uid = m.uidLast
		}
		prev = msg.uid
		msg.flags, msg.kw, msg.recent = msg.diskFlags, msg.diskKw, !msg.diskOld
	}
	if m.uidValidity == 0 {
		m.uidValidity = m.opt.newValidity(0)
	}
	m.msgs = append(m.msgs, msgs...)
	m.pendingNew += len(msgs)
	return m.refreshBase(h.f)
}

// refreshBase re-reads the UID state another program may have updated in
// place (AppendTo raises uidlast in the X-IMAP / X-IMAPbase header).
func (m *Mailbox) refreshBase(f *os.File) error {
	m.own()
	var start, end int64
	switch {
	case m.pseudo != nil:
		start, end = m.pseudo.start, m.pseudo.body
	case len(m.msgs) > 0 && m.msgs[0].diskHasBase:
		start, end = m.msgs[0].start, m.msgs[0].body
	default:
		return nil
	}
	got, _, err := parseRange(f, start, end)
	if err != nil || len(got) != 1 {
		return fmt.Errorf("mailbox %s: first message changed: %w", m.path, mailbox.ErrChanged)
	}
	g := got[0]
	b := g.st.base
	if b.validity == 0 || g.hdrEnd != m.firstHdrEnd() {
		return fmt.Errorf("mailbox %s: first message changed: %w", m.path, mailbox.ErrChanged)
	}
	m.uidLast = max(m.uidLast, b.last)
	for _, k := range b.keywords {
		m.slot(k, true)
	}
	if m.pseudo != nil {
		if b.kind != hdrXIMAP {
			return fmt.Errorf("mailbox %s: pseudo-message changed: %w", m.path, mailbox.ErrChanged)
		}
		m.pseudoRaw, m.pseudoSpan = g.baseRaw, g.baseSpan
		m.pseudoOK = bytes.Equal(g.baseRaw, pseudoLine(b.validity, b.last, b.keywords))
		return nil
	}
	first := m.msgs[0]
	if b.kind != hdrXIMAPbase || g.st.uid != first.diskUID {
		return fmt.Errorf("mailbox %s: first message changed: %w", m.path, mailbox.ErrChanged)
	}
	// Keep the session's flags; take the disk state of the block as it is now.
	keep := *first
	g.end, g.textEnd, g.textNL = first.end, first.textEnd, first.textNL
	m.settle(g, true)
	keep.hidden, keep.diskFlags, keep.diskKw, keep.diskOld, keep.diskUID = g.hidden, g.diskFlags, g.diskKw, g.diskOld, g.diskUID
	keep.diskHasBase, keep.blockCanon = g.diskHasBase, g.blockCanon
	keep.layoutOK = g.blockCanon && first.hdrNL && first.textNL && first.end-first.textEnd == 1
	*first = keep
	m.diskBase = b
	return nil
}

func (m *Mailbox) firstHdrEnd() int64 {
	if m.pseudo != nil {
		return m.pseudo.hdrEnd
	}
	return m.msgs[0].hdrEnd
}

// fromAtLine checks that the From line we parsed is still at off.
// fromLinesInPlace checks the From lines of the first, middle and last
// message we know (and the pseudo-message) against the file.
func (m *Mailbox) fromLinesInPlace(f *os.File) bool {
	if m.pseudo != nil && !fromAtLine(f, m.pseudo.start, m.pseudo.fromLine) {
		return false
	}
	if n := len(m.msgs); n > 0 {
		for _, i := range []int{0, n / 2, n - 1} {
			if !fromAtLine(f, m.msgs[i].start, m.msgs[i].fromLine) {
				return false
			}
		}
	}
	return true
}

func fromAtLine(f *os.File, off int64, line string) bool {
	st, err := f.Stat()
	if err != nil {
		return false
	}
	return fromLineAt(f, nil, 0, fromCheck{off, line}, st.Size())
}

func (m *Mailbox) makePseudo() []byte {
	return makePseudoMessage(m.opt.now(), m.opt.hostname(), m.uidValidity, m.uidLast, m.keywords)
}

// sameFile reports whether two open files are one file on disk.
func sameFile(a, b *os.File) bool {
	fa, err := a.Stat()
	if err != nil {
		return false
	}
	fb, err := b.Stat()
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}
