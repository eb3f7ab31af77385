package maildir

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// bigMaildir makes a maildir of n small messages, as an MTA would leave
// them in cur/ (sizes in the names), and opens it once to give UIDs.
func bigMaildir(b *testing.B, n int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "big.mdir")
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
