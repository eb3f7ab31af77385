package maildir

import (
	"fmt"
	"imapd/mailbox/mbox"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// bigMaildir makes a maildir of n small messages, as an MTA would leave
// them in cur/ (sizes in the names), and opens it once to give UIDs.
func bigMaildir(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(tempDir(b), "big.mdir")
	if err := Create(dir, Options{}); err != nil {
		b.Fatal(err)
	}
	body := []byte("From: a@example.com\nSubject: hello\n\nbody\n")
	old := time.Now().Add(-time.Hour)
	for i := range n {
		name := fmt.Sprintf("1700000000.M%dP1.host,S=%d,W=%d%s2,S", i, len(body), len(body)+4, infoSep)
		p := filepath.Join(dir, "cur", name)
		if err := os.WriteFile(p, body, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	for _, sub := range []string{"cur", "new"} {
		os.Chtimes(filepath.Join(dir, sub), old, old)
	}
	if _, err := Open(dir, Options{}); err != nil {
		b.Fatal(err)
	}
	os.Chtimes(filepath.Join(dir, uidlistName), old, old)
	return dir
}

// BenchmarkReopen50k: SELECT of an unchanged 50,000-message maildir that
// was opened before (the uid list has every UID, size and date).
func BenchmarkReopen50k(b *testing.B) {
	dir := bigMaildir(b, 50000)
	for b.Loop() {
		m, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if m.Len() != 50000 {
			b.Fatalf("len %d", m.Len())
		}
	}
}

// BenchmarkSyncUnchanged50k: the per-command look for new mail.
func BenchmarkSyncUnchanged50k(b *testing.B) {
	dir := bigMaildir(b, 50000)
	m, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	m.Sync()
	for b.Loop() {
		if _, err := m.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSecondOpen50k: the same 50,000 messages as a drop file and as a
// maildir (converted as `imapd -convert` does), each opened once before
// (UIDs stamped / uid list written); one op is one more open for SELECT,
// the number next to mbox's in bench/README.md.
func BenchmarkSecondOpen50k(b *testing.B) {
	const n = 50000
	root := tempDir(b)
	var text strings.Builder
	for i := range n {
		fmt.Fprintf(&text, "From sender%d@example.com Mon Nov 23 10:00:00 2026\nFrom: sender%d@example.com\nSubject: message %d\n\nbody %d\n\n", i, i, i, i)
	}
	drop := filepath.Join(root, "alice")
	if err := os.WriteFile(drop, []byte(text.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	mopt := mbox.Options{Hostname: "bench"}
	mb, err := mbox.Open(drop, mopt)
	if err != nil {
		b.Fatal(err)
	}
	dir := filepath.Join(root, "alice.mdir")
	im, err := NewImporter(dir, mb.UIDValidity(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range mb.Len() {
		m := mb.Message(i)
		r, err := mb.Open(i)
		if err != nil {
			b.Fatal(err)
		}
		err = im.Add(ImportMessage{UID: m.UID, Flags: m.Flags, Keywords: m.Keywords, Date: m.InternalDate, Body: r})
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := im.Finish(mb.UIDNext()); err != nil {
		b.Fatal(err)
	}
	mb.Close()
	if m, err := Open(dir, Options{}); err != nil || m.Len() != n {
		b.Fatalf("maildir: %v", err)
	} else {
		m.Close()
	}
	b.Run("mbox", func(b *testing.B) {
		for b.Loop() {
			m, err := mbox.Open(drop, mopt)
			if err != nil {
				b.Fatal(err)
			}
			if m.Len() != n {
				b.Fatalf("len %d", m.Len())
			}
			m.Close()
		}
	})
	b.Run("maildir", func(b *testing.B) {
		for b.Loop() {
			m, err := Open(dir, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if m.Len() != n {
				b.Fatalf("len %d", m.Len())
			}
			m.Close()
		}
	})
}
