package mbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"imapd/mailbox"
	"imapd/platform"
)

// The index is a cache of what parsing a mailbox file gives (docs/index-cache.md):
// where each message and its parts are, its size, date, From line and the
// status its headers carry (flags, keywords, X-UID, "O"), and the mailbox's
// UID state and keywords. With it, an open of an unchanged file reads a few
// From lines instead of the whole file, and an open of a file that only
// grew (new mail) parses the new tail alone.
//
// It lives in Options.IndexDir (normally <folder root>/.imapd-index, hidden
// from LIST and refused as a mailbox name as every ".imapd" name is), one
// file per mailbox named after the mailbox file's path, never inside the
// mailbox file. It is only ever a cache: the mailbox file stays the truth,
// and an index that is missing, unreadable, of another version, of another
// file (device and inode), truncated or corrupt (CRC-32C over the whole
// file) is ignored and replaced. It is used when the file has the size and
// modification time (nanoseconds) it had when the index was written and
// the From lines of its pseudo-message and of its first, middle and last
// messages are where they were; when the file only grew, the same From
// lines must be in place and the new bytes must start with a From line
// (as for new mail in an open session, Sync); anything else means a full
// parse. It is written (a temporary file renamed over the old one, mode
// 0600) after each operation that held the locks, when the state in memory
// is what the file says (every message has its X-UID, the UID state is
// written) and differs from the index on disk, and not when the file's
// modification time is a whole second less than 2 seconds old (another
// write in the same second could keep it, on file systems with
// whole-second times or by programs that set it, as UW does).

// IndexDirName is the directory of the index files in the user's folder
// directory (Options.IndexDir).
const IndexDirName = ".imapd-index"

const (
	indexMagic   = "imapd mbox index\n"
	indexVersion = 2
	// indexMax bounds the size of an index file we write or read.
	indexMax = 256 << 20
)

// IndexFile is where the index of the mailbox file at path lives; "" when
// there is none (no Options.IndexDir).
func (o *Options) IndexFile(path string) string {
	if o.IndexDir == "" {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(o.IndexDir, hex.EncodeToString(sum[:12])+".idx")
}

// indexKey is what the index was written for: the file's identity, size
// and modification time.
type indexKey struct {
	id    string
	size  int64
	mtime int64
}

func keyOf(id string, fi os.FileInfo) indexKey {
	return indexKey{id: id, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}

// encoder appends the index's values.
type encoder struct{ b []byte }

func (e *encoder) u(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) i(v int64)  { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) s(v string) { e.u(uint64(len(v))); e.b = append(e.b, v...) }
func (e *encoder) bs(v []byte) {
	e.u(uint64(len(v)))
	e.b = append(e.b, v...)
}
func (e *encoder) strs(v []string) {
	e.u(uint64(len(v)))
	for _, s := range v {
		e.s(s)
	}
}

// decoder reads them back; any error sticks and every later value is zero.
// Strings are views of all, the whole buffer as a string: no allocation
// for the From lines.
type decoder struct {
	b   []byte
	all string
	n   int // len(all) when b was all
	err error
}

var errIndex = errors.New("bad index")

func (d *decoder) u() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errIndex
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) i() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errIndex
		return 0
	}
	d.b = d.b[n:]
	return v
}

// off reads a non-negative offset or length (at most 256 TiB).
func (d *decoder) off() int64 {
	v := d.u()
	if v > 1<<48 { // no sum of a few of them overflows
		d.err = errIndex
		return 0
	}
	return int64(v)
}

func (d *decoder) raw() []byte {
	n := d.u()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errIndex
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) s() string {
	v := d.raw()
	if d.err != nil {
		return ""
	}
	end := d.n - len(d.b)
	return d.all[end-len(v) : end]
}

func (d *decoder) strs() []string {
	n := d.u()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errIndex
		return nil
	}
	var v []string
	for k := uint64(0); k < n && d.err == nil; k++ {
		v = append(v, d.s())
	}
	return v
}

const (
	bHasBlank = 1 << iota
	bFromNL
	bHdrNL
	bTextNL
	bBlockCanon
	bLayoutOK
	bDiskHasBase
	bDiskOld
)

// zones remembers the date's location kind: local time, UTC, or a fixed
// offset (with its name).
const (
	zLocal = iota
	zUTC
	zFixed
)

// The messages are fixed-size records (recSize bytes, little-endian), so
// that an open decodes them with direct loads, no per-field branching:
//
//	 0 start - end of the one before     u32    4 hdr - start        u32
//	 8 hdrEnd - hdr                      u32   12 body - hdrEnd      u32
//	16 textEnd - body                    u64   24 end - textEnd      u32
//	28 date: nanoseconds                 u32   32 date: Unix seconds i64
//	40 size                              u64   48 From line length   u32
//	52 zone                              u32   56 status spans       u32
//	60 diskKw                            u32   64 diskUID            u32
//	68 diskFlags u8   69 bits u8   70-71 zero
//
// zone is 0 for local time, 1 for UTC, else 2 + the index of a fixed zone
// listed in the header. The status spans (the distance from the end of the
// one before, or from hdr, and the length: u32 each, 8 bytes) and then the
// From lines follow the records, in order. A mailbox with a value that does
// not fit (a header of 4 GiB) has no index.
const recSize = 72

// indexWriter gathers the records, spans, From lines and zones of the
// messages; !ok: a value did not fit.
type indexWriter struct {
	recs, spans, strs []byte
	nspans            int
	prev              int64
	zones             map[zoneKey]uint32
	zoneList          []zoneKey
	ok                bool
}

type zoneKey struct {
	name string
	off  int
}

// u32 is v when it fits a record's u32.
func (w *indexWriter) u32(v int64) uint32 {
	if v < 0 || v > 1<<32-1 {
		w.ok = false
	}
	return uint32(v)
}

func (w *indexWriter) message(msg *message) {
	le := binary.LittleEndian
	var r [recSize]byte
	le.PutUint32(r[0:], w.u32(msg.start-w.prev))
	le.PutUint32(r[4:], w.u32(msg.hdr-msg.start))
	le.PutUint32(r[8:], w.u32(msg.hdrEnd-msg.hdr))
	le.PutUint32(r[12:], w.u32(msg.body-msg.hdrEnd))
	le.PutUint64(r[16:], uint64(msg.textEnd-msg.body))
	le.PutUint32(r[24:], w.u32(msg.end-msg.textEnd))
	w.prev = msg.end
	d := msg.date
	le.PutUint32(r[28:], uint32(d.Nanosecond()))
	le.PutUint64(r[32:], uint64(d.Unix()))
	le.PutUint64(r[40:], uint64(msg.size))
	le.PutUint32(r[48:], w.u32(int64(len(msg.fromLine))))
	w.strs = append(w.strs, msg.fromLine...)
	var zone uint32
	switch name, off := d.Zone(); {
	case d.Location() == time.Local:
		zone = zLocal
	case d.Location() == time.UTC:
		zone = zUTC
	default:
		z := zoneKey{name, off}
		k, ok := w.zones[z]
		if !ok {
			if w.zones == nil {
				w.zones = map[zoneKey]uint32{}
			}
			k = uint32(zFixed + len(w.zoneList))
			w.zones[z] = k
			w.zoneList = append(w.zoneList, z)
		}
		zone = k
	}
	le.PutUint32(r[52:], zone)
	// Adjacent status header lines are one span: a same-length patch of a
	// status block may move the lines inside it, never its ends.
	hidden := mergeSpans(msg.hidden)
	le.PutUint32(r[56:], w.u32(int64(len(hidden))))
	pos := msg.hdr
	for _, h := range hidden {
		w.spans = le.AppendUint32(w.spans, w.u32(h.off-pos))
		w.spans = le.AppendUint32(w.spans, w.u32(h.end-h.off))
		pos = h.end
	}
	w.nspans += len(hidden)
	le.PutUint32(r[60:], msg.diskKw)
	le.PutUint32(r[64:], msg.diskUID)
	r[68] = byte(msg.diskFlags)
	var bits byte
	for _, b := range []struct {
		on  bool
		bit byte
	}{{msg.hasBlank, bHasBlank}, {msg.fromNL, bFromNL}, {msg.hdrNL, bHdrNL}, {msg.textNL, bTextNL},
		{msg.blockCanon, bBlockCanon}, {msg.layoutOK, bLayoutOK}, {msg.diskHasBase, bDiskHasBase}, {msg.diskOld, bDiskOld}} {
		if b.on {
			bits |= b.bit
		}
	}
	r[69] = bits
	w.recs = append(w.recs, r[:]...)
}

func mergeSpans(s []span) []span {
	for k := 1; k < len(s); k++ {
		if s[k].off == s[k-1].end {
			out := append([]span(nil), s[:k-1]...)
			cur := s[k-1]
			for _, h := range s[k:] {
				if h.off == cur.end {
					cur.end = h.end
					continue
				}
				out = append(out, cur)
				cur = h
			}
			return append(out, cur)
		}
	}
	return s
}

// indexReader hands out what follows the records, in order: the status
// spans (decoded message by message), the From lines (views of one
// string), and the zones.
type indexReader struct {
	spans []byte
	strs  string
	zones []*time.Location
	limit int64 // the indexed size of the file
	out   []span
}

// message reads the record r into msg, checking that its parts are in
// order, after prev and within the indexed size; false: the index is bad.
// No sum of a few u32 and one value checked against limit (at most 2^48)
// overflows an int64.
func (ir *indexReader) message(r []byte, msg *message, prev int64) bool {
	r = r[:recSize:recSize]
	le := binary.LittleEndian
	start := prev + int64(le.Uint32(r[0:]))
	hdr := start + int64(le.Uint32(r[4:]))
	hdrEnd := hdr + int64(le.Uint32(r[8:]))
	body := hdrEnd + int64(le.Uint32(r[12:]))
	text := le.Uint64(r[16:])
	after := int64(le.Uint32(r[24:]))
	nsec, sec, size := le.Uint32(r[28:]), int64(le.Uint64(r[32:])), le.Uint64(r[40:])
	fromLen, zone, nspans := le.Uint32(r[48:]), le.Uint32(r[52:]), le.Uint32(r[56:])
	if text > 1<<48 || body+int64(text)+after > ir.limit || size > 1<<48 || nsec >= 1e9 ||
		uint64(zone) >= uint64(len(ir.zones)) || uint64(fromLen) > uint64(len(ir.strs)) || int64(fromLen) > hdr-start ||
		uint64(nspans) > uint64(len(ir.spans)/8) || uint64(nspans) > uint64(len(ir.out)) {
		return false
	}
	msg.start, msg.hdr, msg.hdrEnd, msg.body = start, hdr, hdrEnd, body
	msg.textEnd = body + int64(text)
	msg.end = msg.textEnd + after
	msg.size = int64(size)
	msg.date = time.Unix(sec, int64(nsec)).In(ir.zones[zone])
	msg.fromLine, ir.strs = ir.strs[:fromLen], ir.strs[fromLen:]
	msg.diskKw, msg.diskUID, msg.diskFlags = le.Uint32(r[60:]), le.Uint32(r[64:]), mailbox.Flags(r[68])
	bits := r[69]
	msg.hasBlank, msg.fromNL, msg.hdrNL, msg.textNL = bits&bHasBlank != 0, bits&bFromNL != 0, bits&bHdrNL != 0, bits&bTextNL != 0
	msg.blockCanon, msg.layoutOK, msg.diskHasBase, msg.diskOld = bits&bBlockCanon != 0, bits&bLayoutOK != 0, bits&bDiskHasBase != 0, bits&bDiskOld != 0
	hidden := ir.out[:nspans:nspans]
	ir.out = ir.out[nspans:]
	pos := hdr
	for j := range hidden {
		s := ir.spans[j*8 : j*8+8 : j*8+8]
		off := pos + int64(le.Uint32(s[0:]))
		pos = off + int64(le.Uint32(s[4:]))
		hidden[j] = span{off, pos}
	}
	ir.spans = ir.spans[nspans*8:]
	msg.hidden = hidden
	return pos <= hdrEnd && !(msg.blockCanon && nspans == 0) && strings.HasPrefix(msg.fromLine, "From ")
}

// encodeIndex writes the state of m, which must be what the file (with
// key k) says (indexable); nil when a value does not fit.
func (m *Mailbox) encodeIndex(k indexKey) []byte {
	w := &indexWriter{recs: make([]byte, 0, (len(m.msgs)+1)*recSize), strs: make([]byte, 0, len(m.msgs)*64), prev: m.lead, ok: true}
	if m.pseudo != nil {
		w.message(m.pseudo)
	}
	for _, msg := range m.msgs {
		w.message(msg)
	}
	if !w.ok {
		return nil
	}
	e := &encoder{b: make([]byte, 0, 256+len(w.recs)+len(w.spans)+len(w.strs))}
	e.b = append(e.b, indexMagic...)
	e.u(indexVersion)
	abs, _ := filepath.Abs(m.path)
	e.s(abs)
	e.s(k.id)
	e.u(uint64(k.size))
	e.i(k.mtime)
	e.u(uint64(m.lead))
	e.u(uint64(m.uidValidity))
	e.u(uint64(m.uidLast))
	e.strs(m.keywords)
	var base baseInfo // what the first message's X-IMAPbase says, as a parse gives it
	if m.pseudo == nil && len(m.msgs) > 0 && m.msgs[0].diskHasBase {
		base = m.diskBase
	}
	e.u(uint64(base.kind))
	e.u(uint64(base.validity))
	e.u(uint64(base.last))
	e.strs(base.keywords)
	if m.pseudo != nil {
		e.u(1)
		e.bs(m.pseudoRaw)
		e.u(uint64(m.pseudoSpan.off))
		e.u(uint64(m.pseudoSpan.end - m.pseudoSpan.off))
		if m.pseudoOK {
			e.u(1)
		} else {
			e.u(0)
		}
	} else {
		e.u(0)
	}
	e.u(uint64(len(m.msgs)))
	e.u(uint64(len(w.zoneList)))
	for _, z := range w.zoneList {
		e.s(z.name)
		e.i(int64(z.off))
	}
	e.u(uint64(w.nspans))
	e.u(uint64(len(w.strs)))
	e.b = append(e.b, w.recs...)
	e.b = append(e.b, w.spans...)
	e.b = append(e.b, w.strs...)
	return binary.LittleEndian.AppendUint32(e.b, crc32.Checksum(e.b, crcTable()))
}

// msgRun is how many messages an open from the index allocates at once
// (as a parse does): few allocations, and memory a mailbox that lost most
// of its messages can give back.
const msgRun = 512

// decodeIndex installs the index b in m when it was written for the file
// with identity id and is sound; the key it was written for is returned.
func (m *Mailbox) decodeIndex(b []byte, id string) (indexKey, error) {
	if len(b) <= len(indexMagic)+4 || string(b[:len(indexMagic)]) != indexMagic {
		return indexKey{}, errIndex
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable()) != sum {
		return indexKey{}, errIndex
	}
	// The buffer is never written again: the strings may share it.
	text := unsafe.String(&body[len(indexMagic)], len(body)-len(indexMagic))
	d := &decoder{b: body[len(indexMagic):], all: text, n: len(text)}
	if d.u() != indexVersion {
		return indexKey{}, errIndex
	}
	abs, _ := filepath.Abs(m.path)
	if d.s() != abs || d.s() != id || d.err != nil {
		return indexKey{}, errIndex
	}
	k := indexKey{id: id, size: d.off(), mtime: d.i()}
	lead := d.off()
	validity, last := uint32(d.u()), uint32(d.u())
	keywords := d.strs()
	base := baseInfo{kind: hdrKind(d.u()), validity: uint32(d.u()), last: uint32(d.u()), keywords: d.strs()}
	var pseudo *message
	var pseudoRaw []byte
	var pseudoSpan span
	var pseudoOK bool
	hasPseudo := d.u() == 1
	if hasPseudo {
		pseudoRaw = bytes.Clone(d.raw())
		pseudoSpan.off = d.off()
		pseudoSpan.end = pseudoSpan.off + d.off()
		pseudoOK = d.u() == 1
	}
	n := d.u()
	nzones := d.u()
	if d.err != nil || n > uint64(len(d.b)) || nzones > uint64(len(d.b)) || lead > k.size || len(keywords) > maxKeywords {
		return indexKey{}, errIndex
	}
	ir := &indexReader{zones: make([]*time.Location, zFixed, zFixed+nzones), limit: k.size}
	ir.zones[zLocal], ir.zones[zUTC] = time.Local, time.UTC
	for range nzones {
		name := d.s()
		ir.zones = append(ir.zones, time.FixedZone(name, int(d.i())))
	}
	nspans, nstrs := d.u(), d.u()
	nrec := n
	if hasPseudo {
		nrec++
	}
	rest := uint64(len(d.b))
	if d.err != nil || k.size > 1<<48 || nrec > rest/recSize || nspans > rest/8 || nstrs > rest ||
		nrec*recSize+nspans*8+nstrs != rest {
		return indexKey{}, errIndex
	}
	recs := d.b[:nrec*recSize]
	ir.spans = d.b[nrec*recSize : nrec*recSize+nspans*8]
	end := d.n - len(d.b) + len(recs) + len(ir.spans)
	ir.strs = d.all[end : end+int(nstrs)]
	ir.out = make([]span, nspans)
	prev := lead
	if hasPseudo {
		pseudo = &message{}
		if !ir.message(recs[:recSize], pseudo, lead) {
			return indexKey{}, errIndex
		}
		recs = recs[recSize:]
		prev = pseudo.end
	}
	msgs := make([]*message, n)
	var slab []message
	for j := range msgs {
		if len(slab) == 0 {
			slab = make([]message, min(msgRun, len(msgs)-j))
		}
		msg := &slab[0]
		slab = slab[1:]
		if !ir.message(recs[j*recSize:], msg, prev) {
			return indexKey{}, errIndex
		}
		msg.uid, msg.flags, msg.kw, msg.recent = msg.diskUID, msg.diskFlags, msg.diskKw, !msg.diskOld
		if msg.uid == 0 || (j > 0 && msg.uid <= msgs[j-1].uid) || msg.uid > last {
			return indexKey{}, errIndex
		}
		msgs[j] = msg
		prev = msg.end
	}
	if len(ir.strs) != 0 || len(ir.out) != 0 || prev != k.size && (n > 0 || pseudo != nil) {
		return indexKey{}, errIndex
	}
	m.lead, m.uidValidity, m.uidLast, m.keywords, m.diskBase = lead, validity, last, keywords, base
	m.pseudo, m.pseudoRaw, m.pseudoSpan, m.pseudoOK = pseudo, pseudoRaw, pseudoSpan, pseudoOK
	m.msgs = msgs
	return k, nil
}

// indexable reports whether the state in memory is exactly what the file
// says, and so may be written as its index: every message carries the UID
// the session uses, and the UID state and keywords are those written in
// the pseudo-message or the first message.
func (m *Mailbox) indexable() bool {
	for _, msg := range m.msgs {
		if msg.diskUID == 0 || msg.uid != msg.diskUID {
			return false
		}
	}
	return m.uidStateWritten()
}

// uidStateWritten: the UID state and keywords are those written in the
// pseudo-message or the first message (the part of indexable that is not
// about each message).
func (m *Mailbox) uidStateWritten() bool {
	if m.uidValidity == 0 {
		return false
	}
	switch {
	case m.pseudo != nil:
		return m.pseudoOK && bytes.Equal(m.pseudoRaw, pseudoLine(m.uidValidity, m.uidLast, m.keywords))
	case len(m.msgs) > 0:
		b := m.diskBase
		return m.msgs[0].diskHasBase && b.validity == m.uidValidity && b.last == m.uidLast && slices.Equal(b.keywords, m.keywords)
	}
	return false
}

// loadIndex installs the index of the file h holds (st) when it can stand
// for a parse (see the top of this file); false: parse the file.
func (m *Mailbox) loadIndex(h *held, st os.FileInfo) bool {
	name := m.opt.IndexFile(m.path)
	if name == "" {
		return false
	}
	id := fileID(h.f)
	if id == "" {
		return false
	}
	k, mem := m.fromMemory(name, id)
	if mem && (k.size > st.Size() || (k.size == st.Size() && k.mtime != st.ModTime().UnixNano())) {
		memForget(name)
		m.resetState()
		mem = false
	}
	if !mem {
		b, ixFile, err := readIndexFile(name)
		if err != nil {
			return false
		}
		k, err = m.decodeIndex(b, id)
		if err != nil || k.size > st.Size() || (k.size == st.Size() && k.mtime != st.ModTime().UnixNano()) {
			m.resetState()
			return false
		}
		m.ixFile = ixFile
	}
	m.size = k.size
	if !m.fromLinesInPlace(h.f) {
		if mem {
			memForget(name)
		}
		m.resetState()
		return false
	}
	m.ix = k
	if mem && testMemUsed != nil {
		testMemUsed()
	}
	if k.size == st.Size() {
		m.size, m.fi = st.Size(), st
		if testIndexUsed != nil {
			testIndexUsed(m, h, false)
		}
		return true
	}
	// New mail: parse the tail alone, as Sync does.
	m.fi = st
	if err := m.syncLocked(h); err != nil {
		m.resetState()
		return false
	}
	m.pendingNew = 0
	if testIndexUsed != nil {
		testIndexUsed(m, h, true)
	}
	return true
}

// testIndexUsed, set by tests, is called when an open took its state from
// the index (tail: and parsed new mail after it).
var testIndexUsed func(m *Mailbox, h *held, tail bool)

// resetState forgets a half-installed index.
func (m *Mailbox) resetState() {
	m.pseudo, m.pseudoRaw, m.pseudoSpan, m.pseudoOK = nil, nil, span{}, false
	m.msgs, m.uidValidity, m.uidLast, m.keywords, m.diskBase = nil, 0, 0, nil, baseInfo{}
	m.lead, m.pendingNew, m.ix, m.ixFile, m.shared, m.planEmpty, m.mem = 0, 0, indexKey{}, nil, false, false, nil
}

func readIndexFile(name string) ([]byte, os.FileInfo, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > indexMax {
		return nil, nil, errIndex
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, nil, err
	}
	return b, fi, nil
}

// saveIndex writes the index when the state in memory is the file's
// (m.fi) and the index on disk is not already that of this state. Best
// effort: any failure leaves no index, or the old one, which the next
// open judges.
func (m *Mailbox) saveIndex(f *os.File) {
	name := m.opt.IndexFile(m.path)
	if name == "" || m.fi == nil || m.dead != nil || !m.exact {
		return
	}
	id := fileID(f)
	if id == "" {
		return
	}
	k := keyOf(id, m.fi)
	if k == m.ix || k.size != m.size || !m.indexable() { // indexable last: a loop over the messages
		return
	}
	if mt := m.fi.ModTime(); mt.Nanosecond() == 0 && time.Since(mt) < 2*time.Second {
		return // another write within this second could keep this time
	}
	b := m.encodeIndex(k)
	if b == nil || len(b) > indexMax {
		return
	}
	cold := m.ix == indexKey{}
	if err := writeIndexFile(m.opt.IndexDir, name, b, m.path); err != nil {
		return
	}
	m.ix = k
	m.ixFile, _ = os.Lstat(name)
	if cold {
		pruneIndexes(m.opt.IndexDir, name)
	}
}

// pruneMax bounds the files one prune looks at.
const pruneMax = 1000

// pruneIndexes removes from dir the index files of mailbox files that no
// longer exist (deleted or renamed mailboxes) and temporary files left by
// a crash, so that the directory does not grow without bound. It runs
// after an index was written from a full parse (rare: a mailbox opened for
// the first time or changed in the middle), never for the index keep.
func pruneIndexes(dir, keep string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for n, e := range ents {
		if n >= pruneMax {
			return
		}
		name := filepath.Join(dir, e.Name())
		switch {
		case name == keep || !e.Type().IsRegular():
		case strings.HasPrefix(e.Name(), ".tmp-"):
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Hour {
				os.Remove(name)
			}
		case strings.HasSuffix(e.Name(), ".idx"):
			if p, ok := indexedPath(name); ok {
				if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
					os.Remove(name)
				}
			} else {
				os.Remove(name) // not an index of ours, or of another version
			}
		}
	}
}

// indexedPath reads the mailbox path an index file names.
func indexedPath(name string) (string, bool) {
	f, err := os.Open(name)
	if err != nil {
		return "", false
	}
	defer f.Close()
	buf := make([]byte, 8<<10)
	n, _ := f.ReadAt(buf, 0)
	if n < len(indexMagic) || string(buf[:len(indexMagic)]) != indexMagic {
		return "", false
	}
	d := &decoder{b: buf[len(indexMagic):n]}
	if d.u() != indexVersion {
		return "", false
	}
	p := d.raw()
	if d.err != nil || len(p) == 0 {
		return "", false
	}
	return string(p), true
}

// writeIndexFile replaces name by a file holding b: a temporary file in
// dir, renamed. dir is made (mode 0700) when missing, and so is its
// parent, the user's folder directory, which a user who never made a
// folder does not have yet (it is what CREATE would make: <drop>.mbx or
// the imapd_mailbox_name directory), when the parent's parent exists. Each
// must be a directory, not a symbolic link. A privileged process gives
// what it makes to the owner of the mailbox file (mailboxFile), so that the
// user's own sessions may replace it.
func writeIndexFile(dir, name string, b []byte, mailboxFile string) error {
	root := filepath.Dir(dir)
	if _, err := os.Lstat(root); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(root, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		giveAway(root, mailboxFile)
	}
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		giveAway(dir, root)
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("index directory %s is not a directory", dir)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		giveAway(tmp.Name(), filepath.Dir(dir))
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// giveAway makes path the owner's of the file or directory like, when
// this process is privileged (best effort).
func giveAway(path, like string) {
	if !platform.Privileged() {
		return
	}
	if uid, gid, ok := platform.FileOwner(like); ok {
		os.Lchown(path, uid, gid)
	}
}

// dropIndex removes the index of the mailbox: before bytes of the file
// that it describes are rewritten (a crash then, and new mail after it,
// must not find an index of the old bytes), or when it led to a state the
// file contradicts.
func (m *Mailbox) dropIndex() {
	if name := m.opt.IndexFile(m.path); name != "" {
		os.Remove(name)
		memForget(name)
	}
	m.ix, m.ixFile = indexKey{}, nil
}
