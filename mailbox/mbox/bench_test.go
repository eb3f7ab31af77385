package mbox

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/mailbox"
)

// genMailbox writes n messages of about 1 KB, like a spool an MTA wrote
// (stamped=false) or one UW already stamped (stamped=true).
func genMailbox(tb testing.TB, path string, n int, stamped bool) int64 {
	f, err := os.Create(path)
	must(tb, err)
	w := bufio.NewWriterSize(f, 1<<20)
	body := strings.Repeat("The quarterly budget review meeting is moved to Friday, see agenda.\n", 13)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "From sender%d@example.com Tue Nov 14 22:13:%02d 2023\nReturn-Path: <sender@example.com>\nReceived: from mx1.example.net by mail.example.com; Tue, 14 Nov 2023 22:13:20 +0000\nDate: Tue, 14 Nov 2023 22:13:20 +0000\nFrom: \"Alice Smith\" <alice.smith@example.com>\nTo: <bob@example.com>\nMessage-ID: <%d.a1b2c3@example.com>\nSubject: Weekly report %d\n", i, i%60, i, i)
		if stamped {
			var base []byte
			if i == 1 {
				base = baseLine(1700000000, uint32(n), nil)
			}
			w.Write(appendBlock(nil, base, mailbox.Seen, nil, true, uint32(i)))
		}
		fmt.Fprintf(w, "\n%s\n", body)
	}
	must(tb, w.Flush())
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// BenchmarkOpen parses a 50,000-message, ~50 MB mailbox (read-only open).
func BenchmarkOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big")
	size := genMailbox(b, path, 50000, true)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := Open(path, Options{ReadOnly: true, UseFlock: true})
		if err != nil {
			b.Fatal(err)
		}
		if m.Len() != 50000 {
			b.Fatal(m.Len())
		}
		m.Close()
	}
}

// BenchmarkCheckpointOneFlag: one flag change in a 50,000-message mailbox
// is one in-place patch of a status block (journaled).
func BenchmarkCheckpointOneFlag(b *testing.B) {
	path := filepath.Join(b.TempDir(), "big")
	genMailbox(b, path, 50000, true)
	m, err := Open(path, Options{UseFlock: true, Now: func() time.Time { return at(1700000001) }})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := (i * 7919) % m.Len()
		msg := m.Message(k)
		if err := m.SetFlags(k, msg.Flags^mailbox.Flagged, nil); err != nil {
			b.Fatal(err)
		}
		if err := m.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
}
