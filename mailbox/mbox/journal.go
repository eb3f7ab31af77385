package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"imapd/mailbox"
)

// The journal makes in-place rewrites crash safe (our addition; UW has
// none). Before any byte of the mailbox is overwritten, the original bytes
// of every range about to change are copied into <dir>/.imapd-journal.<name>
// (a name the folders package reserves, so no folder can be called that)
// and fsync'ed:
//
//	IMAPD-MBOX-JOURNAL 2
//	file <file id> size <size when the journal was written>
//	orig <size before> new <size after> keep <0|1> extents <n>
//	<offset> <length>\n<length original bytes>     (n times)
//	grow <g>\n<g bytes: what the rewrite writes at [orig, new)>
//	end <crc32c of everything above, 8 hex digits>
//
// The file id is the mailbox's device and inode (volume serial and file
// index on windows; "-" where there is none): a journal whose id is not the
// file's (the mailbox was renamed or deleted after a crash and another file
// now has its name) is never applied; it is moved aside to
// .imapd-journal-orphan.<name>.<n> and reported (Recover). The grow bytes
// let recovery tell its own bytes beyond the old end from mail another
// program appended after the crash (appendedStart).
//
// The rewrite then reads its source bytes back from the journal (so the
// order in which it overwrites the mailbox never matters), truncates,
// fsyncs, and removes the journal. Whoever next locks the mailbox finds a
// complete journal only after a crash in that window: it puts the original
// bytes back (flag changes since the last checkpoint may revert; no message
// is lost) and keeps any mail another program appended after the crash,
// saving it first in .imapd-tail.<name> (so a crash during recovery loses
// nothing either). An incomplete journal means the mailbox was not touched
// yet: it is removed.
//
// When the mailbox's directory does not let us create the journal (a spool
// directory we may not write), the same file is made as an anonymous scratch
// file in os.TempDir(): the rewrite is then exactly as safe as UW's (no
// recovery after a crash), never less.

const journalMagic = "IMAPD-MBOX-JOURNAL 2\n"

// crcTable is the CRC-32C table of the journal and the index, built on
// first use: making it (hash/crc32 sets up its hardware tables) is a
// visible part of an inetd process's start-up, and most processes never
// rewrite a mailbox or read an index.
var crcTable = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// Names of our files next to a mailbox; all start with ".imapd", which
// folders.reservedName keeps from being used as folder names.
const (
	journalPrefix = ".imapd-journal."
	tailPrefix    = ".imapd-tail."
	tailTmpPrefix = ".imapd-tailtmp."
	orphanPrefix  = ".imapd-journal-orphan."
)

func journalPath(mboxPath string) string {
	dir, base := filepath.Split(mboxPath)
	return filepath.Join(dir, journalPrefix+base)
}

func sidePath(mboxPath string) string {
	dir, base := filepath.Split(mboxPath)
	return filepath.Join(dir, tailPrefix+base)
}

func sideTmpPath(mboxPath string) string {
	dir, base := filepath.Split(mboxPath)
	return filepath.Join(dir, tailTmpPrefix+base)
}

// extent is one saved range: mailbox bytes [off, off+n) at journal offset jpos.
type extent struct {
	off, n, jpos int64
}

// extSpec says what to save and what the bytes must look like: the rewrite
// is refused (ErrChanged) when the file no longer holds what we parsed.
type extSpec struct {
	off, n int64
	expect []byte      // if not nil, the range must hold exactly these bytes
	froms  []fromCheck // From lines expected at these offsets inside the range
}

type fromCheck struct {
	off  int64
	line string
}

type journal struct {
	f       *os.File
	path    string
	durable bool
	ext     []extent

	// read back by loadJournal
	id            string // file id of the mailbox, "-" when unknown
	size          int64  // mailbox size when the journal was written
	orig, newSize int64
	keep          bool
	gpos, gn      int64 // the grow bytes: journal offset and length
}

// errVerify: the file does not hold what we expected.
var errVerify = errors.New("mailbox bytes differ from what was parsed")

// writeJournal saves the ranges of src described by specs, verifying them.
// grow, when the file grows (newSize > orig), writes the newSize-orig bytes
// the rewrite will put at [orig, newSize). A journal left over by another
// process is recovered first; if that changed the file, errVerify.
func writeJournal(mboxPath string, src *os.File, orig, newSize int64, keep bool, specs []extSpec, grow func(io.Writer) error) (*journal, error) {
	j := &journal{path: journalPath(mboxPath), durable: true}
	if _, err := os.Lstat(j.path); err == nil {
		// We hold the lock, so its writer is gone: a crash we did not see
		// (we were holding the mailbox open). Never just remove it.
		res, err := recoverJournal(mboxPath, src)
		if err != nil {
			return nil, err
		}
		if res == recRestored {
			return nil, errVerify
		}
	}
	st, err := src.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat mailbox %s: %w", mboxPath, err)
	}
	f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0600)
	if err != nil {
		if !errors.Is(err, fs.ErrPermission) && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create journal %s: %w", j.path, err)
		}
		f, err = os.CreateTemp("", "imapd-mbox-scratch-*")
		if err != nil {
			return nil, fmt.Errorf("create scratch file: %w", err)
		}
		j.path, j.durable = f.Name(), false
	}
	j.f = f
	j.id = fileID(src)
	if j.id == "" {
		j.id = "-"
	}
	j.size, j.orig, j.newSize, j.keep = st.Size(), orig, newSize, keep
	if err := j.fill(src, specs, grow); err != nil {
		j.discard()
		return nil, err
	}
	return j, nil
}

func (j *journal) fill(src *os.File, specs []extSpec, grow func(io.Writer) error) error {
	crc := crc32.New(crcTable())
	bw := getWriter(j.f)
	defer putWriter(bw)
	cw := &countWriter{w: io.MultiWriter(bw, crc)}
	w := cw
	k := 0
	if j.keep {
		k = 1
	}
	fmt.Fprintf(w, "%sfile %s size %d\norig %d new %d keep %d extents %d\n", journalMagic, j.id, j.size, j.orig, j.newSize, k, len(specs))
	bp := getCopyBuf()
	defer putCopyBuf(bp)
	buf := *bp
	orig := j.orig
	if orig < 0 {
		orig = j.size
	}
	for _, s := range specs {
		fmt.Fprintf(w, "%d %d\n", s.off, s.n)
		j.ext = append(j.ext, extent{off: s.off, n: s.n, jpos: cw.n})
		froms := s.froms
		for done := int64(0); done < s.n; {
			c := buf[:min(int64(len(buf)), s.n-done)]
			if _, err := src.ReadAt(c, s.off+done); err != nil {
				if err == io.EOF {
					return errVerify
				}
				return fmt.Errorf("read mailbox: %w", err)
			}
			if s.expect != nil && !bytes.Equal(c, s.expect[done:done+int64(len(c))]) {
				return errVerify
			}
			cEnd := s.off + done + int64(len(c))
			for len(froms) > 0 && froms[0].off < cEnd {
				fc := froms[0]
				if !fromLineAt(src, c, s.off+done, fc, orig) {
					return errVerify
				}
				froms = froms[1:]
			}
			if _, err := w.Write(c); err != nil {
				return fmt.Errorf("write journal %s: %w", j.path, err)
			}
			done += int64(len(c))
		}
	}
	g := int64(0)
	if grow != nil && j.newSize > j.orig && j.orig >= 0 {
		g = j.newSize - j.orig
	}
	fmt.Fprintf(w, "grow %d\n", g)
	j.gpos, j.gn = cw.n, g
	if g > 0 {
		before := cw.n
		if err := grow(w); err != nil {
			return fmt.Errorf("write journal %s: %w", j.path, err)
		}
		if cw.n-before != g {
			return fmt.Errorf("write journal %s: %d grow bytes instead of %d", j.path, cw.n-before, g)
		}
	}
	if _, err := fmt.Fprintf(bw, "end %08x\n", crc.Sum32()); err != nil {
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal %s: %w", j.path, err)
	}
	if j.durable {
		syncDir(filepath.Dir(j.path))
	}
	return nil
}

// fromLineAt checks that fc.line is at fc.off followed by a line end (or the
// end of the file), using chunk c (read from offset cOff) when it holds it.
func fromLineAt(src io.ReaderAt, c []byte, cOff int64, fc fromCheck, size int64) bool {
	n := int64(len(fc.line))
	rel := fc.off - cOff
	var b []byte
	if rel >= 0 && rel+n+1 <= int64(len(c)) {
		b = c[rel : rel+n+1]
	} else {
		b = make([]byte, n+1)
		k, _ := src.ReadAt(b, fc.off)
		b = b[:k]
	}
	if int64(len(b)) < n || string(b[:n]) != fc.line {
		return false
	}
	if int64(len(b)) == n {
		return fc.off+n == size
	}
	return b[n] == '\n' || b[n] == '\r'
}

// ReadAt reads original mailbox bytes (mailbox offsets) back from the journal.
func (j *journal) ReadAt(p []byte, off int64) (int, error) {
	for _, e := range j.ext {
		if off >= e.off && off < e.off+e.n {
			n := min(int64(len(p)), e.off+e.n-off)
			m, err := j.f.ReadAt(p[:n], e.jpos+off-e.off)
			if err == nil && int64(m) < int64(len(p)) {
				err = io.EOF
			}
			return m, err
		}
	}
	return 0, fmt.Errorf("journal has no copy of mailbox offset %d", off)
}

// discard closes and removes the journal.
func (j *journal) discard() {
	j.f.Close()
	os.Remove(j.path)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // not possible everywhere (windows): best effort
		d.Close()
	}
}

// loadJournal reads and checks a journal; ok false when it is incomplete.
func loadJournal(path string) (j *journal, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	j = &journal{f: f, path: path, durable: true}
	crc := crc32.New(crcTable())
	br := bufio.NewReaderSize(f, 64<<10)
	pos := int64(0)
	readLine := func() (string, bool) {
		s, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		pos += int64(len(s))
		crc.Write([]byte(s))
		return s, true
	}
	magic, okl := readLine()
	if !okl || magic != journalMagic {
		return j, false, nil
	}
	l, okl := readLine()
	if !okl {
		return j, false, nil
	}
	if _, err := fmt.Sscanf(l, "file %s size %d\n", &j.id, &j.size); err != nil || j.id == "" {
		return j, false, nil
	}
	l, okl = readLine()
	if !okl {
		return j, false, nil
	}
	var k, n int
	if _, err := fmt.Sscanf(l, "orig %d new %d keep %d extents %d\n", &j.orig, &j.newSize, &k, &n); err != nil || n < 0 {
		return j, false, nil
	}
	j.keep = k == 1
	for i := 0; i < n; i++ {
		l, okl := readLine()
		if !okl {
			return j, false, nil
		}
		parts := strings.Fields(l)
		if len(parts) != 2 {
			return j, false, nil
		}
		off, e1 := strconv.ParseInt(parts[0], 10, 64)
		cnt, e2 := strconv.ParseInt(parts[1], 10, 64)
		if e1 != nil || e2 != nil || off < 0 || cnt < 0 {
			return j, false, nil
		}
		j.ext = append(j.ext, extent{off: off, n: cnt, jpos: pos})
		if m, err := io.CopyN(crc, br, cnt); err != nil || m != cnt {
			return j, false, nil
		}
		pos += cnt
	}
	l, okl = readLine()
	if !okl {
		return j, false, nil
	}
	if _, err := fmt.Sscanf(l, "grow %d\n", &j.gn); err != nil || j.gn < 0 || (j.gn > 0 && j.gn != j.newSize-j.orig) {
		return j, false, nil
	}
	j.gpos = pos
	if m, err := io.CopyN(crc, br, j.gn); err != nil || m != j.gn {
		return j, false, nil
	}
	want := fmt.Sprintf("end %08x\n", crc.Sum32())
	end, err := br.ReadString('\n')
	if err != nil || end != want {
		return j, false, nil
	}
	return j, true, nil
}

// recOutcome says what recoverJournal found.
type recOutcome int

const (
	recNone      recOutcome = iota // no journal
	recDiscarded                   // an incomplete journal: removed, file untouched
	recRestored                    // the file was restored from the journal
	recForeign                     // the journal belongs to another file: moved aside
)

// recoverJournal restores the mailbox from a complete journal left by a
// crash, or removes an incomplete one. f is the mailbox, opened read-write
// and locked exclusively. A journal written for another file (see the file
// id) is moved aside to orphanPath, never applied.
func recoverJournal(mboxPath string, f *os.File) (recOutcome, error) {
	jp := journalPath(mboxPath)
	fi, err := os.Lstat(jp)
	if err != nil {
		return recNone, nil
	}
	if !fi.Mode().IsRegular() {
		return recNone, fmt.Errorf("journal %s is not a regular file, refused", jp)
	}
	j, ok, err := loadJournal(jp)
	if err != nil {
		return recNone, fmt.Errorf("read journal %s: %w", jp, err)
	}
	side := sidePath(mboxPath)
	if !ok {
		j.discard()
		os.Remove(side)
		return recDiscarded, nil
	}
	defer j.f.Close()
	st, err := f.Stat()
	if err != nil {
		return recNone, fmt.Errorf("recover %s: %w", mboxPath, err)
	}
	size := st.Size()
	if !j.fits(f, size) {
		j.f.Close()
		if err := moveAside(mboxPath, jp, side); err != nil {
			return recNone, err
		}
		return recForeign, nil
	}
	orig, newSize, keep := j.orig, j.newSize, j.keep
	haveSide := false
	if _, err := os.Lstat(side); err == nil {
		haveSide = true // an earlier recovery saved the appended mail there
	} else if !keep {
		if e := appendedStart(f, j, size, orig, newSize); e < size {
			if err := saveSide(f, mboxPath, e, size); err != nil {
				return recNone, fmt.Errorf("recover %s: %w", mboxPath, err)
			}
			haveSide = true
		}
	}
	for _, e := range j.ext {
		if err := copyRange(f, e.off, io.NewSectionReader(j.f, e.jpos, e.n), e.n); err != nil {
			return recNone, fmt.Errorf("recover %s: restore bytes: %w", mboxPath, err)
		}
	}
	if !keep {
		if err := f.Truncate(orig); err != nil {
			return recNone, fmt.Errorf("recover %s: truncate: %w", mboxPath, err)
		}
		if haveSide {
			sf, err := os.Open(side)
			if err != nil {
				return recNone, fmt.Errorf("recover %s: %w", mboxPath, err)
			}
			sst, _ := sf.Stat()
			err = copyRange(f, orig, sf, sst.Size())
			sf.Close()
			if err != nil {
				return recNone, fmt.Errorf("recover %s: put back appended mail: %w", mboxPath, err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		return recNone, fmt.Errorf("recover %s: sync: %w", mboxPath, err)
	}
	os.Remove(side)
	j.f.Close()
	if err := os.Remove(jp); err != nil {
		return recNone, fmt.Errorf("recover %s: remove journal: %w", mboxPath, err)
	}
	syncDir(filepath.Dir(jp))
	return recRestored, nil
}

// fits reports whether the journal can have been written for f (size
// bytes): same file id where both have one, and a size the rewrite can have
// left (other programs only append).
func (j *journal) fits(f *os.File, size int64) bool {
	if id := fileID(f); id != "" && j.id != "-" && id != j.id {
		return false
	}
	if j.keep {
		return size >= j.size
	}
	return j.orig >= 0 && j.newSize >= 0 && size >= min(j.orig, j.newSize)
}

// moveAside renames a journal that does not belong to the file now called
// mboxPath (and any tail file saved with it) to orphan names, for an
// administrator: they may hold the only copy of another file's bytes.
func moveAside(mboxPath, jp, side string) error {
	dir, base := filepath.Split(mboxPath)
	for n := 1; n < 1000; n++ {
		dst := filepath.Join(dir, fmt.Sprintf("%s%s.%d", orphanPrefix, base, n))
		if _, err := os.Lstat(dst); err == nil {
			continue
		}
		if err := os.Rename(jp, dst); err != nil {
			return fmt.Errorf("move aside journal %s of another file: %w", jp, err)
		}
		if _, err := os.Lstat(side); err == nil {
			os.Rename(side, dst+".tail")
		}
		syncDir(dir)
		return nil
	}
	return fmt.Errorf("journal %s belongs to another file and cannot be moved aside", jp)
}

// appendedStart finds where mail appended by another program after the
// crash begins (size when there is none). The file was left at one of the
// sizes the rewrite goes through: orig, then (growing) orig..newSize while
// it is extended with NUL bytes (and nothing is overwritten before the
// extension is on disk), then newSize.
func appendedStart(f *os.File, j *journal, size, orig, newSize int64) int64 {
	oldTailIntact := func() bool { // shrinking: [newSize, orig) still holds the old bytes
		return rangeEqual(f, j, newSize, orig)
	}
	if newSize > orig {
		// Growing. If [orig, newSize) holds only our grow bytes and NULs,
		// the extension was complete and whatever follows newSize was
		// appended after the crash. Otherwise the extension did not (all)
		// reach the disk, the rewrite never started, and appended mail
		// begins at the first byte that is not NUL (maybe a "\n").
		if size <= orig {
			return size
		}
		if size >= newSize && j.ownGrowth(f, orig, newSize) {
			return newSize
		}
		return firstNonNUL(f, orig, size)
	}
	switch {
	case size == orig:
		if newSize < orig && !oldTailIntact() {
			return newSize
		}
		return size
	case size == newSize:
		return size
	case newSize < orig && size > newSize && size < orig:
		return newSize
	case size > orig:
		if newSize < orig && !oldTailIntact() {
			return newSize
		}
		return orig
	}
	return size
}

// ownGrowth reports whether every byte of f in [orig, newSize) is either
// NUL (the extension) or the byte the rewrite writes there.
func (j *journal) ownGrowth(f *os.File, orig, newSize int64) bool {
	if j.gn != newSize-orig {
		return false
	}
	a := make([]byte, 64<<10)
	b := make([]byte, 64<<10)
	for off := int64(0); off < j.gn; {
		n := min(int64(len(a)), j.gn-off)
		if _, err := f.ReadAt(a[:n], orig+off); err != nil {
			return false
		}
		if _, err := j.f.ReadAt(b[:n], j.gpos+off); err != nil {
			return false
		}
		for i := range a[:n] {
			if a[i] != 0 && a[i] != b[i] {
				return false
			}
		}
		off += n
	}
	return true
}

// firstNonNUL returns the offset of the first byte in [off, size) that is
// not NUL, or size.
func firstNonNUL(f *os.File, off, size int64) int64 {
	buf := make([]byte, 64<<10)
	for off < size {
		n, _ := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n == 0 {
			return size
		}
		for i := 0; i < n; i++ {
			if buf[i] != 0 {
				return off + int64(i)
			}
		}
		off += int64(n)
	}
	return size
}

func rangeEqual(f *os.File, j *journal, from, to int64) bool {
	a := make([]byte, 64<<10)
	b := make([]byte, 64<<10)
	for off := from; off < to; {
		n := min(int64(len(a)), to-off)
		if _, err := f.ReadAt(a[:n], off); err != nil {
			return false
		}
		if _, err := j.ReadAt(b[:n], off); err != nil {
			return false
		}
		if !bytes.Equal(a[:n], b[:n]) {
			return false
		}
		off += n
	}
	return true
}

// saveSide copies mailbox bytes [from, to) to the tail file, atomically
// (temp + rename).
func saveSide(f *os.File, mboxPath string, from, to int64) error {
	side, tmp := sidePath(mboxPath), sideTmpPath(mboxPath)
	os.Remove(tmp)
	sf, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0600)
	if err != nil {
		return err
	}
	_, err = io.Copy(sf, io.NewSectionReader(f, from, to-from))
	if err == nil {
		err = sf.Sync()
	}
	if cerr := sf.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, side)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(filepath.Dir(side))
	return nil
}

// copyRange writes n bytes from r to f at off.
func copyRange(f *os.File, off int64, r io.Reader, n int64) error {
	w := io.NewOffsetWriter(f, off)
	bp := getCopyBuf()
	defer putCopyBuf(bp)
	m, err := io.CopyBuffer(w, io.LimitReader(r, n), *bp)
	if err == nil && m != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// ErrOrphanJournal: Recover found a journal written for another file (the
// mailbox was renamed or deleted after a crash and the name reused) and
// moved it aside to .imapd-journal-orphan.<name>.<n> instead of applying it.
var ErrOrphanJournal = mailbox.ErrOrphanJournal

// Recover finishes a rewrite of the mailbox at path interrupted by a crash,
// under the mailbox locks: the journal .imapd-journal.<name> next to it puts
// the original bytes back and keeps mail appended since. Call it before
// renaming or deleting a mailbox file (the journal is found by name). It is
// nil when there is no journal or recovery succeeded; an error wrapping
// ErrOrphanJournal when the journal was not this file's (nothing applied,
// the mailbox is usable); another error when recovery failed. A journal
// whose mailbox no longer exists is moved aside the same way.
func Recover(path string, opt Options) error {
	jp := journalPath(path)
	if _, err := os.Lstat(jp); err != nil {
		return nil
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		if err := moveAside(path, jp, sidePath(path)); err != nil {
			return err
		}
		return fmt.Errorf("mailbox %s does not exist: %w", path, ErrOrphanJournal)
	}
	opt.Create = false
	h, err := lockMailbox(path, &opt, true, 0)
	if err != nil {
		return fmt.Errorf("recover mailbox %s: %w", path, err)
	}
	defer h.release()
	res, err := recoverJournal(path, h.f)
	if err != nil {
		return err
	}
	if res == recForeign {
		return fmt.Errorf("mailbox %s: %w", path, ErrOrphanJournal)
	}
	return nil
}
