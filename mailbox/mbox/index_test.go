package mbox

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"imapd/mailbox"
)

// testIndexDir is the index directory of the tests' options (testOpts):
// every test that opens a mailbox twice goes through the index, and every
// state taken from the index is compared with a parse of the file
// (checkIndexed).
var testIndexDir string

// indexMismatch collects the differences checkIndexed found.
var indexMismatch struct {
	sync.Mutex
	list []string
}

var indexUses atomic.Int64

func runWithIndex(m *testing.M) int {
	dir, err := os.MkdirTemp("", "mbox-index-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	testIndexDir = filepath.Join(dir, IndexDirName)
	testIndexUsed = checkIndexed
	code := m.Run()
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "%d opens took their state from the index\n", indexUses.Load())
	}
	if len(indexMismatch.list) > 0 {
		fmt.Fprintf(os.Stderr, "states taken from the index differ from a parse:\n%s\n", strings.Join(indexMismatch.list, "\n"))
		code = 1
	}
	return code
}

// checkIndexed parses the file h holds and compares with what m took from
// the index (and, with tail, the new mail parsed after it).
func checkIndexed(m *Mailbox, h *held, tail bool) {
	indexUses.Add(1)
	st, err := h.stat()
	if err != nil {
		return
	}
	p := &Mailbox{path: m.path, opt: m.opt}
	p.fi, p.size = st, st.Size()
	msgs, lead, err := parseRange(h.f, 0, p.size)
	if err != nil {
		indexMismatch.Lock()
		indexMismatch.list = append(indexMismatch.list, fmt.Sprintf("%s: the index was used but the file does not parse: %v", m.path, err))
		indexMismatch.Unlock()
		return
	}
	p.lead = lead
	p.opt.ValidityFile = ""
	p.load(msgs)
	if d := stateDiff(m, p, tail); d != "" {
		indexMismatch.Lock()
		indexMismatch.list = append(indexMismatch.list, fmt.Sprintf("%s (tail %v): %s", m.path, tail, d))
		indexMismatch.Unlock()
	}
}

// stateDiff tells how the file state of a differs from b's ("" if not).
func stateDiff(a, b *Mailbox, tail bool) string {
	var d []string
	add := func(f string, args ...any) { d = append(d, fmt.Sprintf(f, args...)) }
	if a.lead != b.lead {
		add("lead %d/%d", a.lead, b.lead)
	}
	if a.uidValidity != b.uidValidity || a.uidLast != b.uidLast {
		add("uid state %d %d / %d %d", a.uidValidity, a.uidLast, b.uidValidity, b.uidLast)
	}
	if !slices.Equal(a.keywords, b.keywords) {
		add("keywords %q/%q", a.keywords, b.keywords)
	}
	if a.diskBase.kind != b.diskBase.kind || a.diskBase.validity != b.diskBase.validity || a.diskBase.last != b.diskBase.last || !slices.Equal(a.diskBase.keywords, b.diskBase.keywords) {
		add("disk base %+v/%+v", a.diskBase, b.diskBase)
	}
	if (a.pseudo == nil) != (b.pseudo == nil) {
		add("pseudo %v/%v", a.pseudo != nil, b.pseudo != nil)
	} else if a.pseudo != nil {
		if s := msgDiff(a.pseudo, b.pseudo); s != "" {
			add("pseudo: %s", s)
		}
		if string(a.pseudoRaw) != string(b.pseudoRaw) || a.pseudoSpan != b.pseudoSpan || a.pseudoOK != b.pseudoOK {
			add("pseudo line %q %v %v / %q %v %v", a.pseudoRaw, a.pseudoSpan, a.pseudoOK, b.pseudoRaw, b.pseudoSpan, b.pseudoOK)
		}
	}
	if len(a.msgs) != len(b.msgs) {
		add("%d/%d messages", len(a.msgs), len(b.msgs))
		return strings.Join(d, "; ")
	}
	for i := range a.msgs {
		if s := msgDiff(a.msgs[i], b.msgs[i]); s != "" {
			add("message %d: %s", i, s)
		}
		x, y := a.msgs[i], b.msgs[i]
		if x.uid != y.uid || x.flags != y.flags || x.kw != y.kw || x.recent != y.recent {
			add("message %d session state uid %d flags %v kw %b recent %v / %d %v %b %v", i, x.uid, x.flags, x.kw, x.recent, y.uid, y.flags, y.kw, y.recent)
		}
		if len(d) > 5 {
			break
		}
	}
	return strings.Join(d, "; ")
}

func msgDiff(x, y *message) string {
	var d []string
	add := func(f string, args ...any) { d = append(d, fmt.Sprintf(f, args...)) }
	if x.start != y.start || x.hdr != y.hdr || x.hdrEnd != y.hdrEnd || x.body != y.body || x.textEnd != y.textEnd || x.end != y.end {
		add("layout %d %d %d %d %d %d / %d %d %d %d %d %d", x.start, x.hdr, x.hdrEnd, x.body, x.textEnd, x.end, y.start, y.hdr, y.hdrEnd, y.body, y.textEnd, y.end)
	}
	if x.hasBlank != y.hasBlank || x.fromNL != y.fromNL || x.hdrNL != y.hdrNL || x.textNL != y.textNL {
		add("line ends")
	}
	if x.fromLine != y.fromLine || !x.date.Equal(y.date) || x.date.Format(time.RFC1123Z) != y.date.Format(time.RFC1123Z) || x.size != y.size {
		add("from %q %v %d / %q %v %d", x.fromLine, x.date, x.size, y.fromLine, y.date, y.size)
	}
	if !slices.Equal(mergeSpans(x.hidden), mergeSpans(y.hidden)) {
		add("hidden %v/%v", x.hidden, y.hidden)
	}
	if x.blockCanon != y.blockCanon || x.layoutOK != y.layoutOK || x.diskHasBase != y.diskHasBase {
		add("canon %v %v %v / %v %v %v", x.blockCanon, x.layoutOK, x.diskHasBase, y.blockCanon, y.layoutOK, y.diskHasBase)
	}
	if x.diskFlags != y.diskFlags || x.diskKw != y.diskKw || x.diskOld != y.diskOld || x.diskUID != y.diskUID {
		add("disk %v %b %v %d / %v %b %v %d", x.diskFlags, x.diskKw, x.diskOld, x.diskUID, y.diskFlags, y.diskKw, y.diskOld, y.diskUID)
	}
	return strings.Join(d, ", ")
}

// openMany is the helper process of TestIndexConcurrentOpens:
// MBOX_TEST_OPEN=<path>|<index dir>|<n> opens the mailbox read-only n
// times and checks each open sees at least the messages of the first.
func openMany(spec string) int {
	parts := strings.Split(spec, "|")
	n, _ := strconv.Atoi(parts[2])
	opt := Options{ReadOnly: true, UseFlock: true, IndexDir: parts[1], LockTimeout: 30 * time.Second}
	first := -1
	for k := 0; k < n; k++ {
		m, err := Open(parts[0], opt)
		if err != nil {
			fmt.Fprintln(os.Stderr, "open:", err)
			return 1
		}
		if first < 0 {
			first = m.Len()
		}
		if m.Len() < first {
			fmt.Fprintf(os.Stderr, "open %d: %d messages, first saw %d\n", k, m.Len(), first)
			return 1
		}
		m.Close()
	}
	return 0
}

// indexFixture is a stamped mailbox of three messages with its index
// written, and a way to count the opens that used the index.
func indexFixture(t *testing.T) (path string, opt Options, used func() int64) {
	t.Helper()
	dir := t.TempDir()
	path = filepath.Join(dir, "inbox")
	writeFile(t, path, spool61)
	opt = testOpts(at(1000))
	opt.IndexDir = filepath.Join(dir, IndexDirName)
	m, err := Open(path, opt)
	must(t, err)
	must(t, m.SetFlags(1, mailbox.Flagged, []string{"todo"}))
	must(t, m.Close())
	if _, err := os.Stat(opt.IndexFile(path)); err != nil {
		t.Fatalf("no index written: %v", err)
	}
	start := indexUses.Load()
	return path, opt, func() int64 { return indexUses.Load() - start }
}

// sessionView is what a client sees of a mailbox.
func sessionView(t *testing.T, path string, opt Options) string {
	t.Helper()
	opt.ReadOnly = true
	m, err := Open(path, opt)
	must(t, err)
	defer m.Close()
	var b strings.Builder
	recent, unseen := m.SelectCounts()
	fmt.Fprintf(&b, "%d %d %q recent %d unseen %d\n", m.UIDValidity(), m.UIDNext(), m.Keywords(), recent, unseen)
	for i := 0; i < m.Len(); i++ {
		msg := m.Message(i)
		fmt.Fprintf(&b, "%d %v %q %v %d %s %q\n", msg.UID, msg.Flags, msg.Keywords, msg.Recent, msg.Size, msg.InternalDate.Format(time.RFC3339), readMsg(t, m, i))
	}
	return b.String()
}

// noIndexView is the same, from a parse.
func noIndexView(t *testing.T, path string, opt Options) string {
	opt.IndexDir = ""
	return sessionView(t, path, opt)
}

func TestIndexUsedWhenUnchanged(t *testing.T) {
	path, opt, used := indexFixture(t)
	want := noIndexView(t, path, opt)
	if got := sessionView(t, path, opt); got != want {
		t.Fatalf("from the index:\n%s\nparsed:\n%s", got, want)
	}
	st, err := Stat(path, opt)
	must(t, err)
	if st.Messages != 3 || used() != 2 {
		t.Fatalf("status %+v, %d index uses, want 2", st, used())
	}
}

// TestIndexBroken: a missing, corrupt, truncated, empty or foreign index
// is ignored and replaced; the mailbox reads the same.
func TestIndexBroken(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, idx string)
	}{
		{"missing", func(t *testing.T, idx string) { must(t, os.Remove(idx)) }},
		{"empty", func(t *testing.T, idx string) { writeFile(t, idx, "") }},
		{"truncated", func(t *testing.T, idx string) {
			b, err := os.ReadFile(idx)
			must(t, err)
			must(t, os.WriteFile(idx, b[:len(b)/2], 0o600))
		}},
		{"corrupt", func(t *testing.T, idx string) {
			b, err := os.ReadFile(idx)
			must(t, err)
			b[len(b)/2] ^= 0x20
			must(t, os.WriteFile(idx, b, 0o600))
		}},
		{"garbage", func(t *testing.T, idx string) { writeFile(t, idx, strings.Repeat("\xff", 5000)) }},
		{"other version", func(t *testing.T, idx string) {
			b, err := os.ReadFile(idx)
			must(t, err)
			b[len(indexMagic)] = 99
			must(t, os.WriteFile(idx, b, 0o600))
		}},
		{"version 1, checksum sound", func(t *testing.T, idx string) {
			b, err := os.ReadFile(idx)
			must(t, err)
			body := b[:len(b)-4]
			body[len(indexMagic)] = 1
			must(t, os.WriteFile(idx, binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crcTable())), 0o600))
		}},
		{"short, checksum sound", func(t *testing.T, idx string) {
			b, err := os.ReadFile(idx)
			must(t, err)
			body := b[:len(b)-5] // the last From line one byte short
			must(t, os.WriteFile(idx, binary.LittleEndian.AppendUint32(body, crc32.Checksum(body, crcTable())), 0o600))
		}},
		{"a directory", func(t *testing.T, idx string) {
			must(t, os.Remove(idx))
			must(t, os.Mkdir(idx, 0o700))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opt, used := indexFixture(t)
			want := noIndexView(t, path, opt)
			idx := opt.IndexFile(path)
			tc.spoil(t, idx)
			if got := sessionView(t, path, opt); got != want {
				t.Fatalf("with a %s index:\n%s\nwant:\n%s", tc.name, got, want)
			}
			if used() != 0 {
				t.Fatal("a broken index was used")
			}
			if tc.name == "a directory" {
				return
			}
			// the read-only open wrote a sound one again
			m, err := Open(path, opt)
			must(t, err)
			must(t, m.Close())
			if got := sessionView(t, path, opt); got != want || used() != 2 {
				t.Fatalf("after the rebuild (%d uses):\n%s\nwant:\n%s", used(), got, want)
			}
		})
	}
}

// TestIndexFileChanged: every change of the file by another program is
// either parsed (grew: the tail alone) or makes a full parse.
func TestIndexFileChanged(t *testing.T) {
	newMail := "From bob@example.com Tue Nov 24 10:00:00 2026\nSubject: new\n\nnew mail\n\n"
	for _, tc := range []struct {
		name     string
		change   func(t *testing.T, path string)
		wantUses int64
	}{
		{"grew", func(t *testing.T, path string) { deliver(t, path, newMail) }, 1},
		{"grew twice", func(t *testing.T, path string) { deliver(t, path, newMail); deliver(t, path, newMail) }, 1},
		{"same size, middle changed", func(t *testing.T, path string) {
			s := readFile(t, path)
			const was, is = "Status: O\nX-Status: \nX-Keywords:  ", "Status: RO\nX-Status: \nX-Keywords: "
			if !strings.Contains(s, was) {
				t.Fatalf("no %q in\n%s", was, s)
			}
			rewriteInPlace(t, path, strings.Replace(s, was, is, 1))
		}, 0},
		{"same size, same time, From line moved", func(t *testing.T, path string) {
			st, err := os.Stat(path)
			must(t, err)
			s := readFile(t, path)
			i := strings.LastIndex(s, "\nFrom ")
			rewriteInPlace(t, path, s[:i]+"X"+s[i:len(s)-1])
			must(t, os.Chtimes(path, st.ModTime(), st.ModTime()))
		}, 0},
		{"shrank", func(t *testing.T, path string) {
			s := readFile(t, path)
			i := strings.LastIndex(s, "\nFrom ")
			rewriteInPlace(t, path, s[:i+1])
		}, 0},
		{"grew after a change in the middle", func(t *testing.T, path string) {
			s := readFile(t, path)
			i := strings.Index(s, "\nFrom ")
			rewriteInPlace(t, path, s[:i]+"\nX-Extra: 1"+s[i:]+newMail)
		}, 0},
		{"replaced by a copy", func(t *testing.T, path string) {
			s := readFile(t, path)
			st, err := os.Stat(path)
			must(t, err)
			writeFile(t, path+".new", s) // a new inode: the old one still exists
			must(t, os.Chtimes(path+".new", st.ModTime(), st.ModTime()))
			must(t, os.Rename(path+".new", path))
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, opt, used := indexFixture(t)
			tc.change(t, path)
			want := noIndexView(t, path, opt)
			if got := sessionView(t, path, opt); got != want {
				t.Fatalf("after the change:\n%s\nwant:\n%s", got, want)
			}
			if used() != tc.wantUses {
				t.Fatalf("%d index uses, want %d", used(), tc.wantUses)
			}
		})
	}
}

// rewriteInPlace replaces the content of path keeping its inode.
func rewriteInPlace(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	must(t, err)
	_, err = f.WriteString(s)
	must(t, err)
	must(t, f.Close())
}

// TestIndexRenamedMailbox: an index follows the path; a mailbox renamed
// gets a new one, a new file at the old name does not take the old one's,
// and an index file copied to another mailbox's name is not used there.
func TestIndexRenamedMailbox(t *testing.T) {
	path, opt, used := indexFixture(t)
	other := filepath.Join(filepath.Dir(path), "renamed")
	must(t, os.Rename(path, other))
	want := noIndexView(t, other, opt)
	if got := sessionView(t, other, opt); got != want || used() != 0 {
		t.Fatalf("renamed (%d uses):\n%s\nwant:\n%s", used(), got, want)
	}
	// A new mailbox at the old name, same size and time as the old one.
	s := readFile(t, other)
	writeFile(t, path, strings.Replace(s, "Subject:", "Subject:X", 1)[:len(s)])
	st, err := os.Stat(other)
	must(t, err)
	must(t, os.Chtimes(path, st.ModTime(), st.ModTime()))
	want = noIndexView(t, path, opt)
	if got := sessionView(t, path, opt); got != want || used() != 0 {
		t.Fatalf("new file at the old name (%d uses):\n%s\nwant:\n%s", used(), got, want)
	}
	// The old index copied to the renamed mailbox's name.
	data, err := os.ReadFile(opt.IndexFile(path))
	if err == nil {
		must(t, os.WriteFile(opt.IndexFile(other), data, 0o600))
	}
	want = noIndexView(t, other, opt)
	if got := sessionView(t, other, opt); got != want || used() != 0 {
		t.Fatalf("copied index (%d uses):\n%s\nwant:\n%s", used(), got, want)
	}
}

// TestIndexConcurrentOpens: goroutines and another process open, change
// and read the mailbox while mail arrives; every open sees what a parse
// sees (checkIndexed) and nothing is lost.
func TestIndexConcurrentOpens(t *testing.T) {
	path, opt, _ := indexFixture(t)
	exe, err := os.Executable()
	must(t, err)
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "MBOX_TEST_OPEN="+path+"|"+opt.IndexDir+"|40")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	must(t, cmd.Start())
	deliverer := exec.Command(exe, "-test.run=^$")
	deliverer.Env = append(os.Environ(), fmt.Sprintf("MBOX_TEST_DELIVER=%s:%d", path, 20))
	must(t, deliverer.Start())
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				o := opt
				o.ReadOnly = g != 1 // one read-write session at a time (the session lock is not this package's)
				m, err := Open(path, o)
				if err != nil {
					errs <- err
					return
				}
				if !o.ReadOnly && m.Len() > 0 {
					m.SetFlags(k%m.Len(), mailbox.Seen, nil)
				}
				if err := m.Close(); err != nil {
					errs <- err
					return
				}
				if _, err := Stat(path, o); err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	must(t, deliverer.Wait())
	if err := cmd.Wait(); err != nil {
		t.Fatalf("reader process: %v\n%s", err, stderr.String())
	}
	want := noIndexView(t, path, opt)
	if got := sessionView(t, path, opt); got != want {
		t.Fatalf("at the end:\n%s\nwant:\n%s", got, want)
	}
	if n := strings.Count(readFile(t, path), "Subject: msg-"); n != 20 {
		t.Fatalf("%d delivered messages in the file, want 20", n)
	}
}

// FuzzIndex: whatever an index file holds (past its checksum, which the
// fuzzer's inputs are given), decoding it never panics, and what it accepts
// is in order.
func FuzzIndex(f *testing.F) {
	dir := f.TempDir()
	path := filepath.Join(dir, "inbox")
	writeFile(f, path, spool61)
	opt := testOpts(at(1000))
	opt.IndexDir = filepath.Join(dir, IndexDirName)
	m, err := Open(path, opt)
	must(f, err)
	must(f, m.Close())
	b, err := os.ReadFile(opt.IndexFile(path))
	must(f, err)
	id := ""
	if h, err := lockRead(path, &opt); err == nil {
		id = fileID(h.f)
		h.release()
	}
	f.Add(b[:len(b)-4])
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 1<<20 {
			return
		}
		buf := binary.LittleEndian.AppendUint32(slices.Clone(body), crc32.Checksum(body, crcTable()))
		mm := &Mailbox{path: path, opt: opt}
		k, err := mm.decodeIndex(buf, id)
		if err != nil {
			return
		}
		prev := mm.lead
		for _, msg := range mm.msgs {
			if msg.start < prev || msg.end > k.size || msg.uid == 0 {
				t.Fatalf("accepted a message out of order: %+v", msg)
			}
			visibleSegments(msg)
			prev = msg.end
		}
	})
}

// TestIndexPruned: the index files of mailboxes that are gone, foreign
// files and old temporary files are removed when an index is written from
// a parse; those of existing mailboxes stay.
func TestIndexPruned(t *testing.T) {
	path, opt, _ := indexFixture(t)
	dir := filepath.Dir(path)
	other := filepath.Join(dir, "other")
	writeFile(t, other, spool61)
	m, err := Open(other, opt)
	must(t, err)
	must(t, m.Close())
	keep := opt.IndexFile(path)
	gone := opt.IndexFile(other)
	must(t, os.Remove(other))
	junk := filepath.Join(opt.IndexDir, "junk.idx")
	writeFile(t, junk, "not an index")
	oldTmp := filepath.Join(opt.IndexDir, ".tmp-123")
	writeFile(t, oldTmp, "x")
	long := time.Now().Add(-2 * time.Hour)
	must(t, os.Chtimes(oldTmp, long, long))
	// a third mailbox, opened for the first time: a parse and a prune
	third := filepath.Join(dir, "third")
	writeFile(t, third, spool61)
	m, err = Open(third, opt)
	must(t, err)
	must(t, m.Close())
	for _, f := range []string{gone, junk, oldTmp} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s not pruned", f)
		}
	}
	for _, f := range []string{keep, opt.IndexFile(third)} {
		if _, err := os.Lstat(f); err != nil {
			t.Errorf("%s pruned: %v", f, err)
		}
	}
}

// TestIndexNoFolderDirectory: a user who never made a folder has no
// folder directory (<drop>.mbx); the index makes it (mode 0700, as CREATE
// would), so that an INBOX-only user's INBOX is not parsed at every open.
// Where even its parent is missing, no index is made and the mailbox opens
// as without one.
func TestIndexNoFolderDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inbox")
	writeFile(t, path, spool61)
	opt := testOpts(at(1000))
	opt.IndexDir = filepath.Join(dir, "inbox.mbx", IndexDirName)
	before := indexUses.Load()
	for range 2 {
		m, err := Open(path, opt)
		must(t, err)
		if m.Len() != 3 {
			t.Fatalf("%d messages", m.Len())
		}
		must(t, m.Close())
	}
	fi, err := os.Lstat(filepath.Join(dir, "inbox.mbx"))
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("folder directory: %v %v", fi, err)
	}
	if n := indexUses.Load() - before; n != 1 {
		t.Fatalf("%d opens from the index, want 1", n)
	}

	opt.IndexDir = filepath.Join(dir, "missing", "inbox.mbx", IndexDirName)
	for range 2 {
		m, err := Open(path, opt)
		must(t, err)
		if m.Len() != 3 {
			t.Fatalf("%d messages", m.Len())
		}
		must(t, m.Close())
	}
	if _, err := os.Lstat(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a directory above the folder directory was made")
	}
}

// TestIndexNotFromStaleSession: a session whose file another program
// changed in place (flags, same size) writes no index from its now stale
// view; the next open sees the other program's flags.
func TestIndexNotFromStaleSession(t *testing.T) {
	path, opt, _ := indexFixture(t)
	m, err := Open(path, opt)
	must(t, err)
	s := readFile(t, path)
	const was, is = "Status: O\nX-Status: \nX-Keywords:  ", "Status: RO\nX-Status: \nX-Keywords: "
	if !strings.Contains(s, was) {
		t.Fatalf("no %q in\n%s", was, s)
	}
	rewriteInPlace(t, path, strings.Replace(s, was, is, 1))
	if _, err := m.Sync(); err != nil {
		t.Fatal(err)
	}
	must(t, m.SetFlags(2, mailbox.Answered, nil))
	must(t, m.Close())
	want := noIndexView(t, path, opt)
	if got := sessionView(t, path, opt); got != want {
		t.Fatalf("after a stale session:\n%s\nwant:\n%s", got, want)
	}
}

// BenchmarkIndexRead50k is what an open from the index file costs another
// process (no memory index) without the locks and the From line checks:
// the index file read, checked and decoded (MBOX_BENCH_50000, see
// benchMailbox).
func BenchmarkIndexRead50k(b *testing.B) {
	defer noIndexCheck()()
	defer noMemIndex()()
	path := benchMailbox(b, 50000)
	opt := Options{UseFlock: true, IndexDir: filepath.Join(filepath.Dir(path), IndexDirName)}
	m, err := Open(path, opt)
	must(b, err)
	must(b, m.Close())
	name := opt.IndexFile(path)
	h, err := lockRead(path, &opt)
	must(b, err)
	id := fileID(h.f)
	h.release()
	fi, err := os.Stat(name)
	must(b, err)
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf, _, err := readIndexFile(name)
		if err != nil {
			b.Fatal(err)
		}
		mm := &Mailbox{path: path, opt: opt}
		if _, err := mm.decodeIndex(buf, id); err != nil {
			b.Fatal(err)
		}
		if len(mm.msgs) != 50000 {
			b.Fatal(len(mm.msgs))
		}
	}
}
