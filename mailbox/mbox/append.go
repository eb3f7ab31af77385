package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"imapd/mailbox"
)

// encodeMessage writes one message the way UW's append does: the From line;
// CRLF turned into LF; NUL into 0x80; every line starting "From " escaped
// with '>' (unix_fromwidget); incoming status headers renamed
// X-Original-<name>; a final newline if the text lacks one; then the
// separating blank line. block goes at the end of the header (normal layout)
// or, with raw, right after the From line (docs/formats.md §4).
//
// body is read through br, which the caller reuses from message to message
// (a COPY of thousands of messages makes one reader, not one each); each
// line is written as it is read, without a copy.
func encodeMessage(w *bufio.Writer, br *bufio.Reader, fromLine string, body io.Reader, block []byte, raw bool) error {
	w.WriteString(fromLine)
	w.WriteByte('\n')
	if raw {
		w.Write(block)
	}
	br.Reset(body)
	defer br.Reset(nil) // keep no reference to the body
	inHeader, lineStart, pendingCR := true, true, false
	var last byte = '\n' // last byte written of the message text
	wrote := false
	put := func(b []byte) {
		if len(b) == 0 {
			return
		}
		w.Write(b)
		last = b[len(b)-1]
		wrote = true
	}
	// putClean writes b with every NUL turned into 0x80.
	putClean := func(b []byte) {
		for len(b) > 0 {
			k := bytes.IndexByte(b, 0)
			if k < 0 {
				put(b)
				return
			}
			put(b[:k])
			w.WriteByte(0x80)
			last, wrote = 0x80, true
			b = b[k+1:]
		}
	}
	endHeader := func() {
		if !raw {
			w.Write(block)
		}
		w.WriteByte('\n')
		inHeader = false
		last = '\n'
	}
	for {
		seg, err := br.ReadSlice('\n')
		if len(seg) > 0 {
			if pendingCR {
				pendingCR = false
				if seg[0] != '\n' {
					w.WriteByte('\r')
					last, wrote = '\r', true
				}
			}
			s := seg
			if s[len(s)-1] == '\r' && err == bufio.ErrBufferFull {
				pendingCR = true
				s = s[:len(s)-1]
			}
			// A segment holds at most one '\n', at its end: the only CR
			// dropped (CRLF -> LF) is the one just before it. The tests
			// below look at the line's start, which that does not change
			// (nor NUL -> 0x80: neither is in a name or "From ").
			crlf := len(s) >= 2 && s[len(s)-1] == '\n' && s[len(s)-2] == '\r'
			if lineStart {
				if inHeader && (len(s) == 1 && s[0] == '\n' || crlf && len(s) == 2) {
					endHeader()
					lineStart = true
					if err != nil {
						break
					}
					continue
				}
				if inHeader && isStatusHeader(s) {
					w.WriteString("X-Original-")
					last, wrote = '-', true
				}
				if bytes.HasPrefix(s, []byte("From ")) {
					w.WriteByte('>')
					last, wrote = '>', true
				}
			}
			if crlf {
				putClean(s[:len(s)-2])
				w.WriteByte('\n')
				last, wrote = '\n', true
			} else {
				putClean(s)
			}
			lineStart = err == nil
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
	}
	if pendingCR {
		w.WriteByte('\r')
		last, wrote = '\r', true
	}
	if inHeader {
		if wrote && last != '\n' {
			w.WriteByte('\n')
		}
		endHeader()
	} else if last != '\n' {
		w.WriteByte('\n')
	}
	return w.WriteByte('\n')
}

// isStatusHeader: line is one of the six status headers (any case).
func isStatusHeader(line []byte) bool {
	for _, n := range statusNames {
		if len(line) > len(n) && line[len(n)] == ':' && strings.EqualFold(string(line[:len(n)]), n) {
			return true
		}
	}
	return false
}

// separator returns what must be written before appending at the end of a
// file of the given size so that the last message keeps its text and is
// followed by exactly one blank line.
func separator(f *os.File, size int64) ([]byte, error) {
	if size == 0 {
		return nil, nil
	}
	b := make([]byte, 2)
	n := int64(2)
	if size < 2 {
		n = 1
	}
	if _, err := f.ReadAt(b[:n], size-n); err != nil {
		return nil, fmt.Errorf("read mailbox end: %w", err)
	}
	switch {
	case n == 2 && b[0] == '\n' && b[1] == '\n':
		return nil, nil
	case b[n-1] == '\n':
		return []byte("\n"), nil
	default:
		return []byte("\n\n"), nil
	}
}

// fromLineFor is the From line to write for nm.
func fromLineFor(nm *mailbox.NewMessage, now func() time.Time) string {
	if fl := strings.TrimRight(nm.FromLine, "\r\n"); fl != "" && isFromLine([]byte(fl)) && !strings.ContainsAny(fl, "\n") {
		return fl
	}
	d := nm.Date
	if d.IsZero() {
		d = now()
	}
	return newFromLine(nm.Sender, d)
}

// writeAtEnd appends the encoded messages at offset size (after the
// separator) and fsyncs. On failure the file is cut back to size, as UW does.
func writeAtEnd(f *os.File, size int64, write func(w *bufio.Writer) error) (int64, error) {
	sep, err := separator(f, size)
	if err != nil {
		return size, err
	}
	cw := &countWriter{w: io.NewOffsetWriter(f, size)}
	bw := getWriter(cw)
	defer putWriter(bw)
	bw.Write(sep)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Truncate(size)
		f.Sync()
		return size, fmt.Errorf("append to mailbox: %w", err)
	}
	return size + cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Append implements mailbox.Mailbox: the messages are written at the end
// with their status block and X-UID, the UID state is updated, and they
// join this session's view as \Recent (reported by the next Sync).
func (m *Mailbox) Append(msgs []mailbox.NewMessage) ([]uint32, error) {
	if m.dead != nil {
		return nil, m.dead
	}
	if m.ro {
		return nil, mailbox.ErrReadOnly
	}
	var uids []uint32
	err := m.locked(true, func(h *held) error {
		var err error
		uids, err = m.appendLocked(h, msgs)
		return err
	})
	return uids, err
}

// appendLocked appends with the file held exclusively and fully parsed.
func (m *Mailbox) appendLocked(h *held, msgs []mailbox.NewMessage) ([]uint32, error) {
	m.own()
	if err := m.syncLocked(h); err != nil {
		return nil, err
	}
	if uint64(m.uidLast)+uint64(len(msgs)) > uint64(^uint32(0)) {
		return nil, fmt.Errorf("append to %s: UIDs exhausted", m.path)
	}
	masks := make([]uint32, len(msgs))
	for i, nm := range msgs {
		for _, k := range nm.Keywords {
			if s := m.slot(k, true); s >= 0 {
				masks[i] |= 1 << uint(s)
			} // else: no room; UW drops it ("Unknown flag") and appends anyway
		}
	}
	first := len(m.msgs) == 0 && m.pseudo == nil
	last := m.uidLast + uint32(len(msgs))
	uids := make([]uint32, len(msgs))
	before := len(m.msgs)
	newSize, err := writeAtEnd(h.f, m.size, func(w *bufio.Writer) error {
		br := getReader(nil)
		defer putReader(br)
		for i := range msgs {
			nm := &msgs[i]
			uids[i] = m.uidLast + uint32(i) + 1
			var base []byte
			if first && i == 0 {
				base = baseLine(m.uidValidity, last, m.keywords)
			}
			block := appendBlock(nil, base, nm.Flags, m.names(masks[i]), m.claim || nm.FromLine != "", uids[i])
			if err := encodeMessage(w, br, fromLineFor(nm, m.opt.now), nm.Body, block, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("append to %s: %w", m.path, err)
	}
	_ = newSize
	if err := m.syncLocked(h); err != nil {
		return nil, err
	}
	if len(m.msgs)-before != len(msgs) {
		return nil, fmt.Errorf("append to %s: wrote %d messages, read back %d: %w", m.path, len(msgs), len(m.msgs)-before, mailbox.ErrChanged)
	}
	for i := range msgs {
		msg := m.msgs[before+i]
		if msg.uid != uids[i] {
			return nil, fmt.Errorf("append to %s: UID %d read back as %d: %w", m.path, uids[i], msg.uid, mailbox.ErrChanged)
		}
		msg.recent = m.claim
	}
	if err := m.commit(h, nil); err != nil {
		return nil, err
	}
	return uids, nil
}

// AppendTo appends to a mailbox this session has not open and returns the
// UIDs the messages got. The file must exist (else the error wraps
// fs.ErrNotExist: the session says TRYCREATE). Appended messages are written
// without "O" (\Recent for whoever opens the mailbox next); copies (a
// NewMessage with FromLine) with "O", as UW's COPY does (docs/formats.md §4). When the file already carries UID
// state, only its first message's header is read and the uidlast in it is
// updated in place; otherwise (no UID state yet, or new keywords that do not
// fit in the X-IMAPbase padding or the fixed-width X-IMAP line) the whole
// file is parsed and rewritten from its first message. A session holding
// the mailbox read-write would then stop with ErrChanged: while another
// session holds it, use AppendRaw, as UW does.
func AppendTo(path string, msgs []mailbox.NewMessage, opt Options) (uint32, []uint32, error) {
	h, err := lockMailbox(path, &opt, true, 0)
	if err != nil {
		return 0, nil, err
	}
	defer h.release()
	defer delivered(path)
	if _, err := recoverJournal(path, h.f); err != nil {
		return 0, nil, err
	}
	v, uids, ok, err := appendFast(h, path, msgs, &opt, true)
	if err != nil || ok {
		return v, uids, err
	}
	m := &Mailbox{path: path, opt: opt}
	if err := m.loadAll(h); err != nil {
		return 0, nil, err
	}
	if err := m.commit(h, nil); err != nil {
		return 0, nil, err
	}
	uids, err = m.appendLocked(h, msgs)
	return m.uidValidity, uids, err
}

// headLimit is how much of a file appendFast reads to find the UID state.
const headLimit = 1 << 20

// appendFast appends when the UID state can be updated in place; ok false
// (nothing written) when the whole file must be parsed instead.
func appendFast(h *held, path string, msgs []mailbox.NewMessage, opt *Options, newKeywords bool) (uint32, []uint32, bool, error) {
	st, err := h.f.Stat()
	if err != nil {
		return 0, nil, false, fmt.Errorf("stat mailbox %s: %w", path, err)
	}
	m := &Mailbox{path: path, opt: *opt, size: st.Size(), fi: st}
	if m.size > 0 {
		got, lead, err := parseRange(h.f, 0, min(m.size, headLimit))
		if err != nil {
			if errors.Is(err, errNoFrom) {
				return 0, nil, false, fmt.Errorf("mailbox %s: %w", path, mailbox.ErrNotMailbox)
			}
			return 0, nil, false, fmt.Errorf("read mailbox %s: %w", path, err)
		}
		m.lead = lead
		if len(got) == 0 {
			return 0, nil, false, nil // only white space: let the full path handle it
		}
		switch got[0].st.base.kind {
		case hdrXIMAP:
			m.setPseudo(got[0])
			if !m.pseudoOK {
				return 0, nil, false, nil
			}
		case hdrXIMAPbase:
			b := got[0].st.base
			m.uidValidity, m.uidLast, m.keywords, m.diskBase = b.validity, b.last, capKeywords(b.keywords), b
			m.settle(got[0], true)
			msg := got[0]
			if !msg.blockCanon || msg.diskUID == 0 || msg.diskUID > m.uidLast {
				return 0, nil, false, nil
			}
			msg.uid, msg.flags, msg.kw = msg.diskUID, msg.diskFlags, msg.diskKw
			m.msgs = []*message{msg}
		default:
			return 0, nil, false, nil
		}
	} else {
		m.uidValidity = opt.newValidity(0)
	}
	if uint64(m.uidLast)+uint64(len(msgs)) > uint64(^uint32(0)) {
		return 0, nil, false, nil
	}
	masks := make([]uint32, len(msgs))
	for i, nm := range msgs {
		for _, k := range nm.Keywords {
			if s := m.slot(k, newKeywords); s >= 0 {
				masks[i] |= 1 << uint(s)
			}
		}
	}
	first := m.size == 0
	start := m.uidLast
	m.uidLast += uint32(len(msgs))
	p := m.buildPlan(nil)
	if p.tail >= 0 {
		return 0, nil, false, nil
	}
	// The uidlast patch is journaled before anything is written: when
	// that fails (a full disk) nothing was appended. After a crash, the
	// journal puts the old uidlast back and keeps the appended messages,
	// whose X-UIDs then raise uidlast at the next open (no renumbering).
	var j *journal
	if len(p.patches) > 0 {
		if j, err = patchJournal(path, h.f, p.patches); err != nil {
			return 0, nil, false, err
		}
	}
	uids := make([]uint32, len(msgs))
	_, err = writeAtEnd(h.f, m.size, func(w *bufio.Writer) error {
		br := getReader(nil)
		defer putReader(br)
		for i := range msgs {
			nm := &msgs[i]
			uids[i] = start + uint32(i) + 1
			var base []byte
			if first && i == 0 {
				base = baseLine(m.uidValidity, m.uidLast, m.keywords)
			}
			block := appendBlock(nil, base, nm.Flags, m.names(masks[i]), nm.FromLine != "", uids[i])
			if err := encodeMessage(w, br, fromLineFor(nm, opt.now), nm.Body, block, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil { // writeAtEnd cut the file back to m.size
		if j != nil {
			j.discard()
		}
		return 0, nil, false, fmt.Errorf("append to %s: %w", path, err)
	}
	if j != nil {
		if err := applyPatches(h.f, p.patches); err != nil {
			// Take the messages out again: the caller reports failure, so
			// they must not stay (a retry would duplicate them). We hold
			// the locks: nobody appended after them.
			rerr := j.restorePatches(h.f)
			if rerr == nil {
				rerr = h.f.Truncate(m.size)
			}
			if rerr == nil {
				rerr = h.f.Sync()
			}
			if rerr != nil {
				j.f.Close() // the journal stays for the next open
				return 0, nil, false, fmt.Errorf("update mailbox %s: %w (undo failed, journal %s kept: %v)", path, err, j.path, rerr)
			}
			j.discard()
			return 0, nil, false, fmt.Errorf("update mailbox %s: %w", path, err)
		}
		j.discard()
	}
	return m.uidValidity, uids, true, nil
}

// patchJournal journals same-length patches under a journal that, on
// recovery, restores them without cutting the file (what follows is
// appended mail).
func patchJournal(path string, f *os.File, patches []patchOp) (*journal, error) {
	var specs []extSpec
	for _, pt := range patches {
		specs = append(specs, extSpec{off: pt.off, n: int64(len(pt.old)), expect: pt.old})
	}
	j, err := writeJournal(path, f, -1, -1, true, specs, nil)
	if err != nil {
		if errors.Is(err, errVerify) {
			return nil, fmt.Errorf("mailbox %s changed on disk: %w", path, mailbox.ErrChanged)
		}
		return nil, fmt.Errorf("update mailbox %s: %w", path, err)
	}
	return j, nil
}

// errInjected is a write failure simulated by tests (testCrash "patch").
var errInjected = errors.New("simulated write failure")

// applyPatches writes same-length patches and syncs.
func applyPatches(f *os.File, patches []patchOp) error {
	if crashAt("patch") {
		return errInjected
	}
	for _, pt := range patches {
		if _, err := f.WriteAt(pt.new, pt.off); err != nil {
			return err
		}
	}
	return f.Sync()
}

func (j *journal) restorePatches(f *os.File) error {
	for _, e := range j.ext {
		if err := copyRange(f, e.off, io.NewSectionReader(j.f, e.jpos, e.n), e.n); err != nil {
			return err
		}
	}
	return f.Sync()
}

// delivered sets the times UW sets after delivering into a mailbox: mtime
// now, atime a second earlier ("new mail", LIST \Marked).
func delivered(path string) {
	now := time.Now()
	os.Chtimes(path, now.Add(-time.Second), now)
}

// AppendRaw appends without touching anything before the end of the file
// and without X-UID: what UW does when another process holds the mailbox
// read-write (docs/formats.md §4). The holder gives the messages UIDs at its
// next check. The file must exist.
func AppendRaw(path string, msgs []mailbox.NewMessage, opt Options) error {
	h, err := lockMailbox(path, &opt, true, 0)
	if err != nil {
		return err
	}
	defer h.release()
	defer delivered(path)
	if _, err := recoverJournal(path, h.f); err != nil {
		return err
	}
	st, err := h.f.Stat()
	if err != nil {
		return fmt.Errorf("stat mailbox %s: %w", path, err)
	}
	size := st.Size()
	if size > 0 {
		if _, _, err := parseRange(h.f, 0, min(size, 64<<10)); errors.Is(err, errNoFrom) {
			return fmt.Errorf("mailbox %s: %w", path, mailbox.ErrNotMailbox)
		}
	}
	_, err = writeAtEnd(h.f, size, func(w *bufio.Writer) error {
		br := getReader(nil)
		defer putReader(br)
		for i := range msgs {
			nm := &msgs[i]
			var kws []string
			for _, k := range nm.Keywords {
				if validKeyword(k) {
					kws = append(kws, k)
				}
			}
			block := appendRawBlock(nil, nm.Flags, kws)
			if err := encodeMessage(w, br, fromLineFor(nm, opt.now), nm.Body, block, true); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append to %s: %w", path, err)
	}
	return nil
}
