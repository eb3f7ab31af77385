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
)

// The journal makes in-place rewrites crash safe (our addition; UW has
// none). Before any byte of the mailbox is overwritten, the original bytes
// of every range about to change are copied into <dir>/.<name>.imapd-journal
// and fsync'ed:
//
//	IMAPD-MBOX-JOURNAL 1
//	orig <size before> new <size after> keep <0|1> extents <n>
//	<offset> <length>\n<length original bytes>     (n times)
//	end <crc32c of everything above, 8 hex digits>
//
// The rewrite then reads its source bytes back from the journal (so the
// order in which it overwrites the mailbox never matters), truncates,
// fsyncs, and removes the journal. Whoever next locks the mailbox finds a
// complete journal only after a crash in that window: it puts the original
// bytes back (flag changes since the last checkpoint may revert; no message
// is lost) and keeps any mail another program appended after the crash. An
// incomplete journal means the mailbox was not touched yet: it is removed.
//
// When the mailbox's directory does not let us create the journal (a spool
// directory we may not write), the same file is made as an anonymous scratch
// file in os.TempDir(): the rewrite is then exactly as safe as UW's (no
// recovery after a crash), never less.

const journalMagic = "IMAPD-MBOX-JOURNAL 1\n"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func journalPath(mboxPath string) string {
	dir, base := filepath.Split(mboxPath)
	return filepath.Join(dir, "."+base+".imapd-journal")
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
}

// errVerify: the file does not hold what we expected.
var errVerify = errors.New("mailbox bytes differ from what was parsed")

// writeJournal saves the ranges of src described by specs, verifying them.
func writeJournal(mboxPath string, src *os.File, orig, newSize int64, keep bool, specs []extSpec) (*journal, error) {
	j := &journal{path: journalPath(mboxPath), durable: true}
	if fi, err := os.Lstat(j.path); err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("journal %s is a symbolic link, refused", j.path)
		}
		os.Remove(j.path) // left over and already judged incomplete
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
	if err := j.fill(src, orig, newSize, keep, specs); err != nil {
		j.discard()
		return nil, err
	}
	return j, nil
}

func (j *journal) fill(src *os.File, orig, newSize int64, keep bool, specs []extSpec) error {
	crc := crc32.New(crcTable)
	bw := bufio.NewWriterSize(j.f, 256<<10)
	w := io.MultiWriter(bw, crc)
	k := 0
	if keep {
		k = 1
	}
	pos := int64(0)
	n, _ := fmt.Fprintf(w, "%sorig %d new %d keep %d extents %d\n", journalMagic, orig, newSize, k, len(specs))
	pos += int64(n)
	buf := make([]byte, 256<<10)
	for _, s := range specs {
		n, _ := fmt.Fprintf(w, "%d %d\n", s.off, s.n)
		pos += int64(n)
		j.ext = append(j.ext, extent{off: s.off, n: s.n, jpos: pos})
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
		pos += s.n
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
func loadJournal(path string) (j *journal, orig, newSize int64, keep bool, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, false, false, err
	}
	j = &journal{f: f, path: path, durable: true}
	fail := func() (*journal, int64, int64, bool, bool, error) {
		return j, 0, 0, false, false, nil
	}
	crc := crc32.New(crcTable)
	br := bufio.NewReaderSize(f, 64<<10)
	pos := int64(0)
	readLine := func() (string, bool) {
		s, err := br.ReadString('\n')
		if err != nil {
			return "", false
		}
		pos += int64(len(s))
		return s, true
	}
	magic, okl := readLine()
	if !okl || magic != journalMagic {
		return fail()
	}
	crc.Write([]byte(magic))
	hdr, okl := readLine()
	if !okl {
		return fail()
	}
	crc.Write([]byte(hdr))
	var k, n int
	if _, err := fmt.Sscanf(hdr, "orig %d new %d keep %d extents %d\n", &orig, &newSize, &k, &n); err != nil || n < 0 {
		return fail()
	}
	for i := 0; i < n; i++ {
		l, okl := readLine()
		if !okl {
			return fail()
		}
		crc.Write([]byte(l))
		parts := strings.Fields(l)
		if len(parts) != 2 {
			return fail()
		}
		off, e1 := strconv.ParseInt(parts[0], 10, 64)
		cnt, e2 := strconv.ParseInt(parts[1], 10, 64)
		if e1 != nil || e2 != nil || off < 0 || cnt < 0 {
			return fail()
		}
		j.ext = append(j.ext, extent{off: off, n: cnt, jpos: pos})
		if m, err := io.CopyN(crc, br, cnt); err != nil || m != cnt {
			return fail()
		}
		pos += cnt
	}
	end, okl := readLine()
	if !okl || end != fmt.Sprintf("end %08x\n", crc.Sum32()) {
		return fail()
	}
	return j, orig, newSize, k == 1, true, nil
}

// recoverJournal restores the mailbox from a complete journal left by a
// crash, or removes an incomplete one. f is the mailbox, opened read-write
// and locked exclusively.
func recoverJournal(mboxPath string, f *os.File) error {
	jp := journalPath(mboxPath)
	fi, err := os.Lstat(jp)
	if err != nil {
		return nil
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("journal %s is not a regular file, refused", jp)
	}
	j, orig, newSize, keep, ok, err := loadJournal(jp)
	if err != nil {
		return fmt.Errorf("read journal %s: %w", jp, err)
	}
	side := jp + ".tail"
	if !ok {
		j.discard()
		os.Remove(side)
		return nil
	}
	defer j.f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("recover %s: %w", mboxPath, err)
	}
	size := st.Size()
	haveSide := false
	if _, err := os.Lstat(side); err == nil {
		haveSide = true // an earlier recovery saved the appended mail there
	} else if !keep {
		if e := appendedStart(f, j, size, orig, newSize); e < size {
			if err := saveSide(f, side, e, size); err != nil {
				return fmt.Errorf("recover %s: %w", mboxPath, err)
			}
			haveSide = true
		}
	}
	for _, e := range j.ext {
		if err := copyRange(f, e.off, io.NewSectionReader(j.f, e.jpos, e.n), e.n); err != nil {
			return fmt.Errorf("recover %s: restore bytes: %w", mboxPath, err)
		}
	}
	if !keep {
		if err := f.Truncate(orig); err != nil {
			return fmt.Errorf("recover %s: truncate: %w", mboxPath, err)
		}
		if haveSide {
			sf, err := os.Open(side)
			if err != nil {
				return fmt.Errorf("recover %s: %w", mboxPath, err)
			}
			sst, _ := sf.Stat()
			err = copyRange(f, orig, sf, sst.Size())
			sf.Close()
			if err != nil {
				return fmt.Errorf("recover %s: put back appended mail: %w", mboxPath, err)
			}
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("recover %s: sync: %w", mboxPath, err)
	}
	os.Remove(side)
	j.f.Close()
	if err := os.Remove(jp); err != nil {
		return fmt.Errorf("recover %s: remove journal: %w", mboxPath, err)
	}
	syncDir(filepath.Dir(jp))
	return nil
}

// appendedStart finds where mail appended by another program after the
// crash begins (size when there is none). The file was left at one of the
// sizes the rewrite goes through: orig, then (growing) orig..newSize while
// it is extended, then newSize.
func appendedStart(f *os.File, j *journal, size, orig, newSize int64) int64 {
	oldTailIntact := func() bool { // shrinking: [newSize, orig) still holds the old bytes
		return rangeEqual(f, j, newSize, orig)
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
	case size > max(orig, newSize):
		if newSize < orig {
			if oldTailIntact() {
				return orig
			}
			return newSize
		}
		if newSize > orig {
			if fromAt(f, newSize) {
				return newSize
			}
			return scanFrom(f, orig, size)
		}
		return orig
	case newSize > orig && size > orig && size < newSize:
		return scanFrom(f, orig, size)
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

func fromAt(f *os.File, off int64) bool {
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, off)
	b = b[:n]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	}
	return isFromLine(b)
}

// scanFrom skips NUL bytes (the extension) from off and reports where a
// From line starts, or size if the data there is not mail.
func scanFrom(f *os.File, off, size int64) int64 {
	buf := make([]byte, 64<<10)
	for off < size {
		n, _ := f.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
		if n == 0 {
			return size
		}
		i := 0
		for i < n && buf[i] == 0 {
			i++
		}
		if i < n {
			if fromAt(f, off+int64(i)) {
				return off + int64(i)
			}
			return size
		}
		off += int64(n)
	}
	return size
}

// saveSide copies mailbox bytes [from, to) to side, atomically (temp + rename).
func saveSide(f *os.File, side string, from, to int64) error {
	tmp := side + ".tmp"
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
	m, err := io.CopyBuffer(w, io.LimitReader(r, n), make([]byte, 256<<10))
	if err == nil && m != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}
