package session

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-message/textproto"

	"imapd/mailbox"
)

// Fetch streams message data. BODY[] goes straight from the file; parts
// and structure are worked out from one message read into memory at a time.
func (s *Session) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, options *imap.FetchOptions) error {
	if err := s.begin("FETCH"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	defer s.flushLater() // \Seen set by a body fetch
	sel, err := s.needSelected()
	if err != nil {
		return err
	}
	numSet = s.resolveSearchRes(numSet) // SEARCHRES "$"
	idx, err := indexes(sel.mbox, sel.told, numSet)
	if err != nil {
		return err
	}
	setsSeen := false
	if !sel.mbox.ReadOnly() {
		for _, sec := range options.BodySection {
			if !sec.Peek {
				setsSeen = true
			}
		}
		for _, sec := range options.BinarySection {
			if !sec.Peek {
				setsSeen = true
			}
		}
	}
	var fc fetchCache
	fc.hr.names = envelopeFields // ENVELOPE is the only header read of a FETCH
	if simpleFetch(options) {
		return s.fetchSimple(w, sel, idx, options, &fc)
	}
	for _, i := range idx {
		if err := s.fetchOne(w, sel, i, options, setsSeen, &fc); err != nil {
			return err
		}
	}
	return nil
}

// fetchSimple answers a FETCH of only UID, FLAGS, RFC822.SIZE and
// INTERNALDATE (a client's synchronisation of flags) through fetchLines:
// the same bytes as fetchOne's, without go-imap's cost per line.
func (s *Session) fetchSimple(w *imapserver.FetchWriter, sel *selected, idx []int, options *imap.FetchOptions, fc *fetchCache) error {
	fl := fetchLines{conn: s.conn}
	for _, i := range idx {
		m := sel.mbox.Message(i)
		it := fetchItems{withUID: options.UID, withFlags: options.Flags, withSize: options.RFC822Size, withDate: options.InternalDate,
			uid: imap.UID(m.UID), size: m.Size, date: m.InternalDate}
		if options.Flags {
			it.flags = fc.flags(s.shown(m))
		}
		if ok, err := fl.add(uint32(i+1), it); err != nil {
			return err
		} else if !ok {
			if err := fl.flush(); err != nil {
				return err
			}
			if err := s.fetchOne(w, sel, i, options, false, fc); err != nil {
				return err
			}
		}
	}
	return fl.flush()
}

// flagCache shares the FLAGS lists of messages without keywords within
// one command: a FETCH of 50,000 messages' flags makes at most 64 lists.
type flagCache [64][]imap.Flag

func (fc *flagCache) flags(m mailbox.Message) []imap.Flag {
	if len(m.Keywords) > 0 {
		return messageFlags(m)
	}
	k := int(m.Flags & 0x1f)
	if m.Recent {
		k |= 0x20
	}
	if fc[k] == nil {
		fc[k] = messageFlags(m)
	}
	return fc[k]
}

// fetchCache is what the messages of one FETCH share.
type fetchCache struct {
	flagCache
	hr headerReads
}

func (s *Session) fetchOne(w *imapserver.FetchWriter, sel *selected, i int, options *imap.FetchOptions, setsSeen bool, fc *fetchCache) error {
	mb := sel.mbox
	bin, err := s.binaryItems(mb, i, options) // binary.go: NO [UNKNOWN-CTE] before anything is written
	if err != nil {
		return err
	}
	m := mb.Message(i)
	writeFlags := options.Flags
	if setsSeen && m.Flags&mailbox.Seen == 0 {
		if err := sel.setFlags(i, m.Flags|mailbox.Seen, m.Keywords); err != nil {
			return s.storageErr("FETCH", err)
		}
		m = mb.Message(i)
		writeFlags = true
	}

	rw := w.CreateMessage(uint32(i + 1))
	if options.UID {
		rw.WriteUID(imap.UID(m.UID))
	}
	if writeFlags {
		rw.WriteFlags(fc.flags(s.shown(m)))
	}
	if options.RFC822Size {
		rw.WriteRFC822Size(m.Size)
	}
	if options.InternalDate {
		rw.WriteInternalDate(m.InternalDate)
	}

	// The whole message, read once when something needs it.
	whole := bin.raw
	load := func() ([]byte, error) {
		if whole != nil {
			return whole, nil
		}
		rc, err := mb.Open(i)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		whole, err = io.ReadAll(rc)
		return whole, err
	}

	if options.Envelope {
		h, err := fc.hr.header(mb, i, whole)
		if err != nil {
			rw.Close()
			return s.storageErr("FETCH", err)
		}
		rw.WriteEnvelope(envelope(h))
	}
	if options.BodyStructure != nil {
		b, err := load()
		if err != nil {
			rw.Close()
			return s.storageErr("FETCH", err)
		}
		rw.WriteBodyStructure(imapserver.ExtractBodyStructure(bytes.NewReader(b)))
	}
	for _, sec := range options.BodySection {
		if sec.Specifier == imap.PartSpecifierNone && len(sec.Part) == 0 && sec.Partial == nil && whole == nil {
			if err := streamWhole(rw, mb, i, sec, m.Size); err != nil {
				rw.Close()
				return s.storageErr("FETCH", err)
			}
			continue
		}
		b, err := load()
		if err != nil {
			rw.Close()
			return s.storageErr("FETCH", err)
		}
		out := imapserver.ExtractBodySection(bytes.NewReader(b), sec)
		wc := rw.WriteBodySection(sec, int64(len(out)))
		wc.Write(out)
		wc.Close()
	}
	bin.write(rw, options)
	return rw.Close()
}

// streamWhole sends BODY[] as a literal straight from the file.
func streamWhole(rw *imapserver.FetchResponseWriter, mb mailbox.Mailbox, i int, sec *imap.FetchItemBodySection, size int64) error {
	rc, err := mb.Open(i)
	if err != nil {
		return err
	}
	defer rc.Close()
	wc := rw.WriteBodySection(sec, size)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	n, err := io.CopyBuffer(wc, rc, (*bp)[:min(size+1, int64(len(*bp)))])
	if err == nil && n != size {
		err = fmt.Errorf("message %d: read %d bytes, expected %d", i+1, n, size)
	}
	if cerr := wc.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyBufs are the buffers BODY[] is copied through (io.Copy would make
// one of 32 KiB per message).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// headerReads reads the headers of the messages of one command, with
// buffers made once for all of them.
type headerReads struct {
	// names: read only the fields of these names (lower case); nil: all.
	names []string
	buf   []byte        // the header bytes of the last message
	kept  []byte        // the fields of names among them
	br    *bufio.Reader // parses them (or reads a stream)
	bb    bytes.Reader
}

// direct reads the header block of message i when the mailbox can read it
// alone (mailbox.HeaderReader). A failed read is left to Open, which
// fails or reads what there is as before.
func (hr *headerReads) direct(mb mailbox.Mailbox, i int) ([]byte, bool) {
	hm, ok := mb.(mailbox.HeaderReader)
	if !ok {
		return nil, false
	}
	b, err := hm.AppendHeader(hr.buf[:0], i)
	if err != nil {
		return nil, false
	}
	if cap(b) <= 64<<10 {
		hr.buf = b // else let a big one go
	}
	return b, true
}

// header reads only the header of message i (or takes it from whole):
// straight from the header block when the mailbox can read it alone
// (mailbox.HeaderReader), else from the start of Open(i).
func (hr *headerReads) header(mb mailbox.Mailbox, i int, whole []byte) (textproto.Header, error) {
	var r io.Reader
	if whole != nil {
		hr.bb.Reset(whole)
		r = &hr.bb
	} else if b, ok := hr.direct(mb, i); ok {
		if hr.names != nil {
			hr.kept = keepFields(hr.kept[:0], b, hr.names)
			b = hr.kept
			if cap(b) > 64<<10 {
				hr.kept = nil
			}
		}
		hr.bb.Reset(b)
		r = &hr.bb
	} else {
		rc, err := mb.Open(i)
		if err != nil {
			return textproto.Header{}, err
		}
		defer rc.Close()
		r = rc
	}
	if hr.br == nil {
		hr.br = bufio.NewReader(r)
	} else {
		hr.br.Reset(r)
	}
	// A malformed header still has an envelope (or matches): what could
	// be read.
	h, _ := textproto.ReadHeader(hr.br)
	hr.br.Reset(nil)
	hr.bb.Reset(nil)
	return h, nil
}

// envelopeFields are the header fields ENVELOPE is made of.
var envelopeFields = []string{"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc", "in-reply-to", "message-id"}

// keepFields appends to dst the fields of hdr (a header as Open gives it)
// whose names are among names (lower case), each with its continuation
// lines, as they are: textproto.ReadHeader then makes of them exactly the
// fields of those names it makes of the whole header. So the fields are
// cut as ReadHeader cuts them, and where ReadHeader stops (a header that
// starts with a continuation line, a line without a colon, a name with a
// byte outside 33-126), this stops too. A name matches without regard to
// ASCII case: a superset of ReadHeader's canonical names, and a field too
// many is harmless.
func keepFields(dst, hdr []byte, names []string) []byte {
	if len(hdr) > 0 && (hdr[0] == ' ' || hdr[0] == '\t') {
		return dst
	}
	for len(hdr) > 0 {
		// One field: its first line and the lines starting with a space
		// or tab after it.
		end := lineEnd(hdr, 0)
		first := hdr[:end]
		content := bytes.TrimSuffix(bytes.TrimSuffix(first, []byte("\n")), []byte("\r"))
		if !bytes.HasSuffix(first, []byte("\n")) {
			content = first
		}
		if len(content) == 0 {
			break // the empty line that ends the header
		}
		for end < len(hdr) && (hdr[end] == ' ' || hdr[end] == '\t') {
			end = lineEnd(hdr, end)
		}
		field := hdr[:end]
		hdr = hdr[end:]
		colon := bytes.IndexByte(content, ':')
		if colon < 0 {
			// No colon in the first line: ReadHeader finds none, or one
			// after a line end, in a name it refuses.
			break
		}
		key := bytes.Trim(content[:colon], " \t")
		bad := false
		for _, c := range key {
			if c < 33 || c > 126 {
				bad = true
				break
			}
		}
		if bad {
			break
		}
		for _, n := range names {
			if asciiEqualFold(key, n) {
				dst = append(dst, field...)
				break
			}
		}
	}
	return dst
}

// lineEnd is the index just after the line of b starting at i.
func lineEnd(b []byte, i int) int {
	if j := bytes.IndexByte(b[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(b)
}

// asciiEqualFold compares b and s (lower case) without regard to ASCII case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func messageFlags(m mailbox.Message) []imap.Flag {
	var flags []imap.Flag
	if m.Recent {
		flags = append(flags, flagRecent)
	}
	for _, f := range systemFlags {
		if m.Flags&f.bit != 0 {
			flags = append(flags, f.flag)
		}
	}
	for _, k := range m.Keywords {
		if atomFlag(k) { // another program's keyword file may name anything
			flags = append(flags, imap.Flag(k))
		}
	}
	if flags == nil {
		flags = []imap.Flag{}
	}
	return flags
}

var systemFlags = []struct {
	bit  mailbox.Flags
	flag imap.Flag
}{
	{mailbox.Seen, imap.FlagSeen},
	{mailbox.Answered, imap.FlagAnswered},
	{mailbox.Flagged, imap.FlagFlagged},
	{mailbox.Deleted, imap.FlagDeleted},
	{mailbox.Draft, imap.FlagDraft},
}

// flagRecent is IMAP4rev1's \Recent (go-imap v2 dropped the constant with
// IMAP4rev2).
const flagRecent imap.Flag = `\Recent`
