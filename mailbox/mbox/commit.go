package mbox

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"imapd/mailbox"
)

// A rewrite is planned as in-place patches (a status block or X-IMAP line
// replaced by one of the same length) before a tail offset, and from the tail
// offset on a sequence of pieces (copies of original bytes or new bytes)
// making up the new end of the file. New mail sits at the end, so the tail
// is usually short; a flag change is usually one patch.

type patchOp struct {
	off      int64
	old, new []byte
	done     func() // updates memory once written
}

type piece struct {
	src int64 // original offset (when lit == nil)
	n   int64
	lit []byte
}

type plan struct {
	patches   []patchOp
	tail      int64 // -1: no tail rewrite
	pieces    []piece
	newSize   int64
	froms     []fromCheck
	tailMsgs  []*message // kept messages written in the tail, in order
	newPseudo bool       // the tail starts with a (re)written pseudo-message
	pseudo    bool       // the tail starts with the pseudo-message (copied or rewritten)
}

func (p *plan) copy(from, to int64) {
	if to <= from {
		return
	}
	if n := len(p.pieces); n > 0 && p.pieces[n-1].lit == nil && p.pieces[n-1].src+p.pieces[n-1].n == from {
		p.pieces[n-1].n += to - from
		return
	}
	p.pieces = append(p.pieces, piece{src: from, n: to - from})
}

func (p *plan) lit(b []byte) {
	p.pieces = append(p.pieces, piece{lit: b, n: int64(len(b))})
}

func (m *Mailbox) wantBase() []byte {
	return baseLine(m.uidValidity, m.uidLast, m.keywords)
}

func (m *Mailbox) wantOld(msg *message) bool {
	return m.claim || msg.diskOld
}

// same reports whether msg's disk state already says what we want.
func (m *Mailbox) same(msg *message, base []byte) bool {
	if msg.flags != msg.diskFlags || msg.kw != msg.diskKw || m.wantOld(msg) != msg.diskOld || msg.uid != msg.diskUID {
		return false
	}
	if (base != nil) != msg.diskHasBase {
		return false
	}
	if base != nil {
		b := m.diskBase
		return b.validity == m.uidValidity && b.last == m.uidLast && slices.Equal(b.keywords, m.keywords)
	}
	return true
}

func (m *Mailbox) newBlock(msg *message, base []byte) []byte {
	return appendBlock(nil, base, msg.flags, m.names(msg.kw), m.wantOld(msg), msg.uid)
}

func (m *Mailbox) diskBlock(msg *message) []byte {
	var base []byte
	if msg.diskHasBase {
		base = baseLine(m.diskBase.validity, m.diskBase.last, m.diskBase.keywords)
	}
	return appendBlock(nil, base, msg.diskFlags, m.names(msg.diskKw), msg.diskOld, msg.diskUID)
}

// buildPlan works out what to write. del marks messages to expunge.
func (m *Mailbox) buildPlan(del []bool) *plan {
	p := &plan{tail: -1}
	isDel := func(i int) bool { return del != nil && del[i] }
	var firstKept *message
	kept := 0
	for i, msg := range m.msgs {
		if !isDel(i) {
			if firstKept == nil {
				firstKept = msg
			}
			kept++
		}
	}
	needNewPseudo := m.pseudo == nil && kept == 0 && len(m.msgs) > 0
	var wantPseudo []byte
	pseudoChanged := false
	if m.pseudo != nil {
		wantPseudo = pseudoLine(m.uidValidity, m.uidLast, m.keywords)
		pseudoChanged = !bytes.Equal(wantPseudo, m.pseudoRaw)
	}
	bases := make(map[*message][]byte, 1)
	baseFor := func(msg *message) []byte {
		if msg == firstKept && m.pseudo == nil {
			if b, ok := bases[msg]; ok {
				return b
			}
			b := m.wantBase()
			bases[msg] = b
			return b
		}
		return nil
	}
	blocks := make(map[*message][]byte)
	// Pass 1: where must the tail start?
	switch {
	case needNewPseudo:
		p.tail = m.lead
	case pseudoChanged && !(m.pseudoOK && len(wantPseudo) == len(m.pseudoRaw)):
		p.tail = m.pseudo.start
	default:
		for i, msg := range m.msgs {
			if isDel(i) {
				p.tail = msg.start
				break
			}
			base := baseFor(msg)
			if m.same(msg, base) {
				continue
			}
			b := m.newBlock(msg, base)
			blocks[msg] = b
			if msg.blockCanon && int64(len(b)) == msg.hdrEnd-msg.blockOff() {
				continue
			}
			p.tail = msg.start
			break
		}
	}
	if p.tail == m.lead {
		p.tail = 0 // drop white space before the first message
	}
	inTail := func(off int64) bool { return p.tail >= 0 && off >= p.tail }
	// Pass 2: patches before the tail.
	if m.pseudo != nil && pseudoChanged && !inTail(m.pseudo.start) {
		want := wantPseudo
		p.patches = append(p.patches, patchOp{off: m.pseudoSpan.off, old: m.pseudoRaw, new: want, done: func() {
			m.pseudoRaw = want
		}})
	}
	for _, msg := range m.msgs {
		if inTail(msg.start) {
			break
		}
		base := baseFor(msg)
		b, ok := blocks[msg]
		if !ok {
			continue // same
		}
		msg := msg
		p.patches = append(p.patches, patchOp{off: msg.blockOff(), old: m.diskBlock(msg), new: b, done: func() {
			msg.diskFlags, msg.diskKw, msg.diskOld, msg.diskUID = msg.flags, msg.kw, m.wantOld(msg), msg.uid
			if base != nil {
				msg.diskHasBase = true
				m.diskBase = baseInfo{kind: hdrXIMAPbase, validity: m.uidValidity, last: m.uidLast, keywords: slices.Clone(m.keywords)}
			}
		}})
	}
	if p.tail < 0 {
		p.newSize = m.size
		return p
	}
	// Pass 3: the tail.
	if m.pseudo != nil && (p.tail == 0 || p.tail <= m.pseudo.start) {
		p.pseudo = true
		p.froms = append(p.froms, fromCheck{m.pseudo.start, m.pseudo.fromLine})
		if pseudoChanged {
			p.lit(m.makePseudo())
			p.newPseudo = true
		} else {
			p.copy(m.pseudo.start, m.pseudo.end)
		}
	} else if needNewPseudo {
		p.lit(m.makePseudo())
		p.newPseudo, p.pseudo = true, true
	}
	// Room for the tail's pieces, and its new status blocks in one
	// buffer: a first SELECT stamps every message of the file.
	k, _ := slices.BinarySearchFunc(m.msgs, p.tail, func(msg *message, off int64) int { return cmp.Compare(msg.start, off) })
	n := len(m.msgs) - k
	p.pieces = slices.Grow(p.pieces, 3*n+2)
	p.froms = slices.Grow(p.froms, n)
	p.tailMsgs = slices.Grow(p.tailMsgs, n)
	arena := make([]byte, 0, 48*n)
	for i, msg := range m.msgs {
		if !inTail(msg.start) {
			continue
		}
		p.froms = append(p.froms, fromCheck{msg.start, msg.fromLine})
		if isDel(i) {
			continue
		}
		p.tailMsgs = append(p.tailMsgs, msg)
		base := baseFor(msg)
		if m.same(msg, base) && msg.layoutOK {
			p.copy(msg.start, msg.end)
			continue
		}
		b, ok := blocks[msg]
		if !ok {
			from := len(arena)
			arena = appendBlock(arena, base, msg.flags, m.names(msg.kw), m.wantOld(msg), msg.uid) // newBlock
			b = arena[from:len(arena):len(arena)]
		}
		if msg.layoutOK {
			p.copy(msg.start, msg.blockOff())
			p.lit(b)
			p.copy(msg.hdrEnd, msg.end)
			continue
		}
		// Full regeneration: From line, visible header lines, block, blank
		// line, text, separator.
		p.copy(msg.start, msg.hdr)
		if !msg.fromNL {
			p.lit([]byte("\n"))
		}
		pos := msg.hdr
		for _, h := range msg.hidden {
			p.copy(pos, h.off)
			pos = h.end
		}
		p.copy(pos, msg.hdrEnd)
		if !msg.hdrNL {
			p.lit([]byte("\n"))
		}
		p.lit(b)
		if msg.hasBlank {
			p.copy(msg.hdrEnd, msg.body)
		} else {
			p.lit([]byte("\n"))
		}
		p.copy(msg.body, msg.textEnd)
		if !msg.textNL {
			p.lit([]byte("\n"))
		}
		p.lit([]byte("\n"))
	}
	p.newSize = p.tail
	for _, pc := range p.pieces {
		p.newSize += pc.n
	}
	return p
}

// growWriter returns what writes the bytes the plan puts at [orig,
// newSize) when the file grows (for the journal: see appendedStart), read
// from src before anything is overwritten; nil when it does not grow.
func (p *plan) growWriter(src *os.File, orig int64) func(io.Writer) error {
	if p.tail < 0 || p.newSize <= orig || p.tail > orig {
		return nil
	}
	return func(w io.Writer) error {
		skip := orig - p.tail
		for _, pc := range p.pieces {
			if skip >= pc.n {
				skip -= pc.n
				continue
			}
			var err error
			if pc.lit != nil {
				_, err = w.Write(pc.lit[skip:])
			} else {
				_, err = io.Copy(w, io.NewSectionReader(src, pc.src+skip, pc.n-skip))
			}
			if err != nil {
				return err
			}
			skip = 0
		}
		return nil
	}
}

// commit writes the session state to the file (see journal.go for the
// crash safety). h holds the file exclusively and m.size is its size.
func (m *Mailbox) commit(h *held, del []bool) error {
	if del == nil && m.planEmpty {
		return nil // nothing changed since a plan found nothing to write
	}
	p := m.buildPlan(del)
	if len(p.patches) == 0 && p.tail < 0 {
		if del == nil {
			m.planEmpty = true
		}
		return nil
	}
	if m.shared {
		// the plan changes messages: ours, not the memory index's
		m.own()
		p = m.buildPlan(del)
	}
	m.planEmpty = false
	if p.tail < 0 && p.newSize == m.size {
		return m.commitPatches(h, p, del)
	}
	var specs []extSpec
	for _, pt := range p.patches {
		specs = append(specs, extSpec{off: pt.off, n: int64(len(pt.old)), expect: pt.old})
	}
	if p.tail >= 0 && p.tail < m.size {
		specs = append(specs, extSpec{off: p.tail, n: m.size - p.tail, froms: p.froms})
	}
	j, err := writeJournal(m.path, h.f, m.size, p.newSize, false, specs, p.growWriter(h.f, m.size))
	if err != nil {
		if errors.Is(err, errVerify) {
			return fmt.Errorf("mailbox %s changed on disk before a rewrite: %w", m.path, mailbox.ErrChanged)
		}
		return fmt.Errorf("rewrite mailbox %s: %w", m.path, err)
	}
	m.dropIndex() // a crash from here on must not leave an index of the old bytes
	if err := m.apply(h.f, j, p); err != nil {
		if errors.Is(err, errCrash) {
			j.f.Close() // a simulated crash: leave everything as it is
			return err
		}
		// Put the original bytes back at once; if even that fails the
		// journal stays for the next open.
		if rerr := j.restore(h.f, m.size); rerr != nil {
			return fmt.Errorf("rewrite mailbox %s: %w (restore failed, journal %s kept: %v) (%w)", m.path, err, j.path, rerr, mailbox.ErrChanged)
		}
		j.discard()
		return fmt.Errorf("rewrite mailbox %s: %w", m.path, err)
	}
	j.discard()
	now := time.Now()
	os.Chtimes(m.path, now, now.Add(-time.Second))
	return m.committed(m.afterCommit(h.f, p, del))
}

// committed follows a write of the whole plan: what memory says is now
// what the file says, so a plan would find nothing to write until the
// next change (planEmpty: the close of a SELECT that stamped the file
// neither plans nor locks again).
func (m *Mailbox) committed(err error) error {
	if err != nil {
		return err
	}
	m.planEmpty = true
	if testCommitted != nil {
		testCommitted(m)
	}
	return nil
}

// testCommitted, set by tests, is called after each write of a plan.
var testCommitted func(m *Mailbox)

// commitPatches writes a plan that only replaces status blocks by blocks of
// the same length (a flag change, the usual case) without a journal: each
// patch is written in one call inside one message's header, so a crash at
// any point leaves a valid mailbox whose messages are all intact, some with
// their old flags and some with the new. That saves two of the three
// fsyncs a journaled rewrite costs. The bytes are checked first, as the
// journal would: a file changed behind our back is not written.
func (m *Mailbox) commitPatches(h *held, p *plan, del []bool) error {
	if _, err := os.Lstat(journalPath(m.path)); err == nil {
		// Another process crashed in a rewrite of this file: finish that
		// first (never write over a half-rewritten mailbox).
		res, err := recoverJournal(m.path, h.f)
		if err != nil {
			return err
		}
		if res == recRestored {
			return fmt.Errorf("mailbox %s was restored from a crashed rewrite: %w", m.path, mailbox.ErrChanged)
		}
	}
	for _, pt := range p.patches {
		if len(pt.new) != len(pt.old) {
			return fmt.Errorf("rewrite mailbox %s: patch changes the size", m.path)
		}
		got := make([]byte, len(pt.old))
		if _, err := h.f.ReadAt(got, pt.off); err != nil || !bytes.Equal(got, pt.old) {
			return fmt.Errorf("mailbox %s changed on disk before a rewrite: %w", m.path, mailbox.ErrChanged)
		}
	}
	m.dropIndex()
	if err := m.apply(h.f, nil, p); err != nil {
		if errors.Is(err, errCrash) {
			return err
		}
		return fmt.Errorf("rewrite mailbox %s: %w", m.path, err)
	}
	now := time.Now()
	os.Chtimes(m.path, now, now.Add(-time.Second))
	return m.committed(m.afterCommit(h.f, p, del))
}

// apply performs the plan with the journal written.
func (m *Mailbox) apply(f *os.File, j *journal, p *plan) error {
	if p.newSize > m.size {
		// Reserve the space first (as UW does): running out of disk fails
		// here, before anything is overwritten.
		if err := copyRange(f, m.size, zeroReader{}, p.newSize-m.size); err != nil {
			return fmt.Errorf("extend mailbox: %w", err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("extend mailbox: %w", err)
		}
		if crashAt("extended") {
			return errCrash
		}
	}
	for _, pt := range p.patches {
		if _, err := f.WriteAt(pt.new, pt.off); err != nil {
			return fmt.Errorf("write mailbox: %w", err)
		}
	}
	if len(p.patches) > 0 && crashAt("patched") {
		return errCrash
	}
	if p.tail >= 0 {
		bw := getWriter(io.NewOffsetWriter(f, p.tail))
		defer putWriter(bw)
		bp := getCopyBuf()
		defer putCopyBuf(bp)
		win := window{j: j, buf: *bp}
		for k, pc := range p.pieces {
			if k == len(p.pieces)/2 && crashAt("half") {
				bw.Flush()
				return errCrash
			}
			var err error
			if pc.lit != nil {
				_, err = bw.Write(pc.lit)
			} else {
				err = win.writeTo(bw, pc.src, pc.n)
			}
			if err != nil {
				return fmt.Errorf("write mailbox: %w", err)
			}
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write mailbox: %w", err)
		}
		if err := f.Truncate(p.newSize); err != nil {
			return fmt.Errorf("truncate mailbox: %w", err)
		}
		if crashAt("truncated") {
			return errCrash
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync mailbox: %w", err)
	}
	return nil
}

// window reads the original bytes the pieces of a tail copy back from
// the journal a buffer at a time: the pieces ask for them in ascending
// order, mostly contiguous, and a read per piece (two or three preads for
// each message kept) was a fifth of the CPU of stamping 50,000 messages.
type window struct {
	j   *journal
	buf []byte
	off int64 // the mailbox offset of buf[0]
	n   int   // the bytes of buf read
}

// writeTo writes the n original bytes at mailbox offset src to dst.
func (w *window) writeTo(dst io.Writer, src, n int64) error {
	for n > 0 {
		if src < w.off || src >= w.off+int64(w.n) {
			m, err := w.j.ReadAt(w.buf, src) // at most to the end of its extent
			if m <= 0 {
				if err == nil {
					err = io.ErrUnexpectedEOF
				}
				return fmt.Errorf("read journal: %w", err)
			}
			w.off, w.n = src, m
		}
		k := min(n, w.off+int64(w.n)-src)
		at := src - w.off
		if _, err := dst.Write(w.buf[at : at+k]); err != nil {
			return err
		}
		src, n = src+k, n-k
	}
	return nil
}

// testCrash, set by tests, is called at points of a rewrite; returning true
// simulates a crash there: the rewrite stops and the journal stays.
var testCrash func(stage string) bool

var errCrash = errors.New("simulated crash")

func crashAt(stage string) bool { return testCrash != nil && testCrash(stage) }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// restore puts the journaled bytes back (after a failed write, lock held).
func (j *journal) restore(f *os.File, orig int64) error {
	for _, e := range j.ext {
		if err := copyRange(f, e.off, io.NewSectionReader(j.f, e.jpos, e.n), e.n); err != nil {
			return err
		}
	}
	if err := f.Truncate(orig); err != nil {
		return err
	}
	return f.Sync()
}

// afterCommit brings memory in line with what was written: patched disk
// states, and for the tail the layout read back from the file (checking that
// what we wrote parses to the messages and UIDs we meant).
func (m *Mailbox) afterCommit(f *os.File, p *plan, del []bool) error {
	for _, pt := range p.patches {
		pt.done()
	}
	if del != nil {
		kept := m.msgs[:0]
		for i, msg := range m.msgs {
			if !del[i] {
				kept = append(kept, msg)
			}
		}
		clear(m.msgs[len(kept):])
		m.msgs = kept
	}
	oldSize := m.size
	m.size = p.newSize
	if st, err := f.Stat(); err == nil {
		m.fi = st
	}
	if p.tail < 0 {
		return nil
	}
	if p.tail == 0 {
		m.lead = 0
	}
	got, _, err := parseRange(f, p.tail, p.newSize)
	bad := func(why string) error {
		return fmt.Errorf("mailbox %s: rewrite read back wrong (%s, was %d bytes): %w", m.path, why, oldSize, mailbox.ErrChanged)
	}
	if err != nil {
		return bad(err.Error())
	}
	if p.pseudo {
		if len(got) == 0 || got[0].st.base.kind != hdrXIMAP {
			return bad("pseudo-message")
		}
		keepV, keepL := m.uidValidity, m.uidLast
		m.setPseudo(got[0])
		m.uidValidity, m.uidLast = keepV, keepL
		got = got[1:]
	}
	if len(got) != len(p.tailMsgs) {
		return bad(fmt.Sprintf("%d messages instead of %d", len(got), len(p.tailMsgs)))
	}
	for k, g := range got {
		msg := p.tailMsgs[k]
		first := m.pseudo == nil && len(m.msgs) > 0 && m.msgs[0] == msg
		if first && g.st.base.kind == hdrXIMAPbase {
			m.diskBase = g.st.base
		}
		m.settle(g, first)
		if g.diskUID != msg.uid {
			return bad(fmt.Sprintf("UID %d read back as %d", msg.uid, g.diskUID))
		}
		g.uid, g.flags, g.kw, g.recent = msg.uid, msg.flags, msg.kw, msg.recent
		*msg = *g
	}
	return nil
}
