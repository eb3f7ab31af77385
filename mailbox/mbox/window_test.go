package mbox

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"imapd/mailbox"
)

// TestRewriteLargeTail: a stamping and an expunge of a mailbox whose tail
// is many times the buffer its original bytes are read back through
// (window), with messages smaller and larger than that buffer, keep every
// message's bytes and UID.
func TestRewriteLargeTail(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	var b strings.Builder
	var bodies []string
	for i := 0; i < 120; i++ {
		n := rng.Intn(20 << 10)
		if i%17 == 5 {
			n = copyBufSize + rng.Intn(copyBufSize) // longer than the window
		}
		body := strings.Repeat(fmt.Sprintf("line %d of message %d\n", i, i), n/24+1)
		bodies = append(bodies, body)
		fmt.Fprintf(&b, "From s%d@example.com Mon Nov 23 10:00:00 2026\nSubject: m%d\n\n%s\n", i, i, body)
	}
	want := func(i int) string {
		return fmt.Sprintf("Subject: m%d\r\n\r\n", i) + strings.ReplaceAll(bodies[i], "\n", "\r\n")
	}
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, b.String())

	m, err := Open(path, testOpts(at(100))) // stamps X-IMAPbase and X-UIDs: a rewrite of everything
	must(t, err)
	for i := 0; i < m.Len(); i++ {
		if got := readMsg(t, m, i); got != want(i) {
			t.Fatalf("message %d after stamping: %d bytes, want %d", i+1, len(got), len(want(i)))
		}
	}
	for i := 0; i < m.Len(); i += 7 {
		must(t, m.SetFlags(i, mailbox.Deleted, nil))
	}
	_, err = m.Expunge(nil)
	must(t, err)
	must(t, m.Close())

	m, err = Open(path, testOpts(at(200)))
	must(t, err)
	defer m.Close()
	k := 0
	for i := range bodies {
		if i%7 == 0 {
			continue
		}
		if got := readMsg(t, m, k); got != want(i) {
			t.Fatalf("message %d (was %d) after expunge: %d bytes, want %d", k+1, i+1, len(got), len(want(i)))
		}
		if uid := m.Message(k).UID; uid != uint32(i+1) {
			t.Fatalf("message %d (was %d): UID %d", k+1, i+1, uid)
		}
		k++
	}
	if k != m.Len() {
		t.Fatalf("%d messages, want %d", m.Len(), k)
	}
}
