package mbox

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imapd/mailbox"
)

// TestReviewWindowExtents: the window reads a rewrite's original bytes
// back right from a journal of many extents, most much shorter than the
// window, some adjacent in the mailbox (a piece then spans two), stored
// out of order in the journal, for pieces in ascending order (contiguous
// or not) and in any order, of every size up to several windows; and a
// journal cut short makes writeTo fail instead of writing other bytes.
func TestReviewWindowExtents(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	const size = 3 * copyBufSize
	orig := make([]byte, size) // the mailbox's original bytes
	rng.Read(orig)

	// Extents: runs of the mailbox, some adjacent, some with gaps.
	var ext []extent
	for off := int64(rng.Intn(100)); off < size; {
		n := int64(1 + rng.Intn(40<<10))
		if rng.Intn(8) == 0 {
			n = int64(copyBufSize + rng.Intn(copyBufSize/2))
		}
		n = min(n, size-off)
		ext = append(ext, extent{off: off, n: n})
		off += n
		if rng.Intn(3) == 0 {
			off += int64(1 + rng.Intn(5000))
		}
	}
	// The journal holds them in a shuffled order, after a header.
	var jb bytes.Buffer
	jb.WriteString("header\n")
	for _, k := range rng.Perm(len(ext)) {
		ext[k].jpos = int64(jb.Len())
		jb.Write(orig[ext[k].off : ext[k].off+ext[k].n])
		jb.WriteString("junk between extents\n")
	}
	path := filepath.Join(t.TempDir(), "journal")
	if err := os.WriteFile(path, jb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	j := &journal{f: f, path: path, ext: ext}

	// in reports whether [off, off+n) is covered by the extents.
	in := func(off, n int64) bool {
		for off < off+n && n > 0 {
			found := false
			for _, e := range ext {
				if off >= e.off && off < e.off+e.n {
					k := min(n, e.off+e.n-off)
					off, n, found = off+k, n-k, true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	piece := func() (int64, int64) {
		for {
			var n int64
			switch rng.Intn(4) {
			case 0:
				n = int64(1 + rng.Intn(64))
			case 1:
				n = int64(1 + rng.Intn(64<<10))
			default:
				n = int64(1 + rng.Intn(2*copyBufSize))
			}
			off := int64(rng.Intn(size))
			if off+n <= size && in(off, n) {
				return off, n
			}
		}
	}
	for round := 0; round < 20; round++ {
		bp := getCopyBuf()
		w := window{j: j, buf: *bp}
		var got, want bytes.Buffer
		ascending := round%2 == 0
		var ps [][2]int64
		for range 60 {
			off, n := piece()
			ps = append(ps, [2]int64{off, n})
		}
		if ascending {
			for a := range ps {
				for b := a + 1; b < len(ps); b++ {
					if ps[b][0] < ps[a][0] {
						ps[a], ps[b] = ps[b], ps[a]
					}
				}
			}
		}
		for _, p := range ps {
			if err := w.writeTo(&got, p[0], p[1]); err != nil {
				t.Fatalf("round %d: piece %d+%d: %v", round, p[0], p[1], err)
			}
			want.Write(orig[p[0] : p[0]+p[1]])
		}
		putCopyBuf(bp)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("round %d: wrong bytes", round)
		}
	}

	// Cut the journal in the middle of its largest extent: reading it
	// fails; no byte from beyond the cut is made up.
	big := 0
	for k := range ext {
		if ext[k].n > ext[big].n {
			big = k
		}
	}
	e := ext[big]
	cut := e.jpos + e.n/2
	if err := os.WriteFile(path+".cut", jb.Bytes()[:cut], 0o600); err != nil {
		t.Fatal(err)
	}
	fc, err := os.Open(path + ".cut")
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	jc := &journal{f: fc, path: path + ".cut", ext: ext}
	w := window{j: jc, buf: make([]byte, copyBufSize)}
	var out bytes.Buffer
	err = w.writeTo(&out, e.off, e.n)
	if err == nil || !strings.Contains(err.Error(), "read journal") {
		t.Fatalf("cut journal: %v", err)
	}
	if !bytes.Equal(out.Bytes(), orig[e.off:e.off+int64(out.Len())]) {
		t.Fatal("cut journal: wrong bytes before the error")
	}
	// A piece the journal has no copy of.
	if err := w.writeTo(&out, size+10, 5); err == nil {
		t.Fatal("no error for a piece outside the extents")
	}
}

// TestReviewPooledBuffersConcurrent: mailboxes parsed, stamped (journal,
// rewrite), appended to and expunged by many goroutines at once share
// the pooled readers, writers and copy buffers (bufs.go): every mailbox
// keeps exactly its own bytes. Run with -race.
func TestReviewPooledBuffersConcurrent(t *testing.T) {
	const workers, msgs = 6, 30
	dir := t.TempDir()
	body := func(g, i int) string {
		n := (i * 977 * (g + 1)) % (90 << 10) // some over a reader's 64 KiB
		return strings.Repeat(fmt.Sprintf("g%d m%d ", g, i), n/10+1) + "\n"
	}
	done := make(chan struct{})
	for g := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			var b strings.Builder
			for i := range msgs {
				fmt.Fprintf(&b, "From g%d@example.com Mon Nov 23 10:00:00 2026\nSubject: g%d m%d\n\n%s\n", g, g, i, body(g, i))
			}
			path := filepath.Join(dir, fmt.Sprintf("box%d", g))
			if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
				t.Error(err)
				return
			}
			m, err := Open(path, testOpts(at(100)))
			if err != nil {
				t.Errorf("worker %d: open: %v", g, err)
				return
			}
			var nm []mailbox.NewMessage
			for i := msgs; i < msgs+5; i++ {
				s := fmt.Sprintf("Subject: g%d m%d\r\n\r\n%s", g, i, strings.ReplaceAll(body(g, i), "\n", "\r\n"))
				nm = append(nm, mailbox.NewMessage{Body: strings.NewReader(s), Size: int64(len(s)), Date: at(50), Sender: "x@example.com"})
			}
			if _, err := m.Append(nm); err != nil {
				t.Errorf("worker %d: append: %v", g, err)
			}
			for i := 0; i < m.Len(); i += 4 {
				if err := m.SetFlags(i, mailbox.Deleted, nil); err != nil {
					t.Errorf("worker %d: %v", g, err)
				}
			}
			if _, err := m.Expunge(nil); err != nil {
				t.Errorf("worker %d: expunge: %v", g, err)
			}
			if err := m.Close(); err != nil {
				t.Errorf("worker %d: close: %v", g, err)
			}
			m, err = Open(path, testOpts(at(200)))
			if err != nil {
				t.Errorf("worker %d: reopen: %v", g, err)
				return
			}
			defer m.Close()
			k := 0
			for i := range msgs + 5 {
				if i%4 == 0 {
					continue
				}
				want := fmt.Sprintf("Subject: g%d m%d\r\n\r\n%s", g, i, strings.ReplaceAll(body(g, i), "\n", "\r\n"))
				rc, err := m.Open(k)
				if err != nil {
					t.Errorf("worker %d: message %d: %v", g, k+1, err)
					return
				}
				got, err := io.ReadAll(rc)
				rc.Close()
				if err != nil || string(got) != want {
					t.Errorf("worker %d: message %d (was %d): %d bytes, want %d (%v)", g, k+1, i+1, len(got), len(want), err)
					return
				}
				k++
			}
			if k != m.Len() {
				t.Errorf("worker %d: %d messages, want %d", g, m.Len(), k)
			}
		}()
	}
	for range workers {
		<-done
	}
}
