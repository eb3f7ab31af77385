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

// benchMailbox is the mailbox of the index benchmarks: a copy of the file
// MBOX_BENCH_<n> names (make one with bench/genmbox -n <n>), else n
// generated messages of about 1 KB.
func benchMailbox(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), "INBOX")
	if src := os.Getenv(fmt.Sprintf("MBOX_BENCH_%d", n)); src != "" {
		data, err := os.ReadFile(src)
		must(b, err)
		must(b, os.WriteFile(path, data, 0o600))
	} else {
		genMailbox(b, path, n, false)
	}
	st, err := os.Stat(path)
	must(b, err)
	b.SetBytes(st.Size())
	return path
}

// benchOpenIndex opens the mailbox (read-write, as SELECT does) again and
// again: warm with its index in place (the repeat SELECT of an unchanged
// mailbox), cold without (the first SELECT: a parse, and the index
// written).
func benchOpenIndex(b *testing.B, n int, warm, ro bool) {
	defer noIndexCheck()()
	if !warm {
		defer noMemIndex()()
	}
	path := benchMailbox(b, n)
	opt := Options{UseFlock: true, IndexDir: filepath.Join(filepath.Dir(path), IndexDirName)}
	m, err := Open(path, opt) // stamps the file, as the first SELECT does
	must(b, err)
	must(b, m.Close())
	opt.ReadOnly = ro
	time.Sleep(10 * time.Millisecond)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !warm {
			os.RemoveAll(opt.IndexDir)
		}
		m, err := Open(path, opt)
		if err != nil {
			b.Fatal(err)
		}
		if m.Len() != n {
			b.Fatal(m.Len())
		}
		m.Close()
	}
}

func BenchmarkOpen5kCold(b *testing.B)    { benchOpenIndex(b, 5000, false, false) }
func BenchmarkOpen5kWarm(b *testing.B)    { benchOpenIndex(b, 5000, true, false) }
func BenchmarkExamine5kWarm(b *testing.B) { benchOpenIndex(b, 5000, true, true) }
func BenchmarkOpen50kCold(b *testing.B)   { benchOpenIndex(b, 50000, false, false) }
func BenchmarkOpen50kWarm(b *testing.B)   { benchOpenIndex(b, 50000, true, false) }

// The warm opens without the memory index: the index file read and
// decoded at every open (another process's first open).
func BenchmarkOpen5kWarmFile(b *testing.B) {
	defer noMemIndex()()
	benchOpenIndex(b, 5000, true, false)
}

func BenchmarkOpen50kWarmFile(b *testing.B) {
	defer noMemIndex()()
	benchOpenIndex(b, 50000, true, false)
}

// noMemIndex turns the memory index off until the returned function is
// called.
func noMemIndex() func() {
	old := memIndexDisabled
	memIndexDisabled = true
	return func() { memIndexDisabled = old }
}

// BenchmarkSyncUnchanged is the look at the file after every command when
// nothing changed.
func BenchmarkSyncUnchanged(b *testing.B) {
	defer noIndexCheck()()
	path := benchMailbox(b, 5000)
	m, err := Open(path, Options{UseFlock: true})
	must(b, err)
	defer m.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// noIndexCheck turns off the tests' comparison of every index use with a
// parse (checkIndexed), and of memory index entries with their copies
// (testMemCheck), until the returned function is called.
func noIndexCheck() func() {
	old, oldMem := testIndexUsed, testMemCheck
	testIndexUsed, testMemCheck = nil, nil
	return func() { testIndexUsed, testMemCheck = old, oldMem }
}

// BenchmarkParse is the first open's parse alone, in runs of body lines
// (as Open does) and one line at a time.
func BenchmarkParse(b *testing.B) {
	path := benchMailbox(b, 5000)
	f, err := os.Open(path)
	must(b, err)
	defer f.Close()
	st, err := f.Stat()
	must(b, err)
	for _, fast := range []bool{true, false} {
		b.Run(fmt.Sprintf("runs=%v", fast), func(b *testing.B) {
			b.SetBytes(st.Size())
			for i := 0; i < b.N; i++ {
				if _, _, err := parseLines(f, 0, st.Size(), fast); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
