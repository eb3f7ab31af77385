package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imapd/mailbox/mbox"
)

func generate(t *testing.T, seed uint64, n int, crlf bool) []byte {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	total, err := newGenerator(seed, crlf).write(w, n)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if total != int64(b.Len()) {
		t.Fatalf("write reported %d bytes, wrote %d", total, b.Len())
	}
	return b.Bytes()
}

// The same seed gives the same bytes; another seed gives others.
func TestDeterministic(t *testing.T) {
	a, b := generate(t, 7, 60, false), generate(t, 7, 60, false)
	if !bytes.Equal(a, b) {
		t.Fatal("two runs with seed 7 differ")
	}
	if bytes.Equal(a, generate(t, 8, 60, false)) {
		t.Fatal("seeds 7 and 8 gave the same mailbox")
	}
}

// imapd's own mbox store reads every generated message, read-only and
// read-write (which stamps UIDs into the file), with or without CRLF.
func TestReadByTheStore(t *testing.T) {
	for _, crlf := range []bool{false, true} {
		const n = 120
		data := generate(t, 1, n, crlf)
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "From ") && !strings.Contains(line, "@") {
				t.Fatalf("body line not quoted: %q", line)
			}
		}
		path := filepath.Join(t.TempDir(), "bench")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, ro := range []bool{true, false} {
			m, err := mbox.Open(path, mbox.Options{ReadOnly: ro, UseFlock: true, Hostname: "bench.example"})
			if err != nil {
				t.Fatalf("crlf %v read-only %v: %v", crlf, ro, err)
			}
			if m.Len() != n {
				t.Errorf("crlf %v read-only %v: the store sees %d messages, want %d", crlf, ro, m.Len(), n)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}
