package session_test

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkFetchAll: SELECT, then FETCH 1:* (FLAGS UID RFC822.SIZE
// ENVELOPE) of a folder of benchMessages messages, as a client does when
// it opens a mailbox it has not cached. A sanity check, not a timed
// assertion; go test -bench FetchAll -run '^$' ./session/
func BenchmarkFetchAll(b *testing.B) {
	const benchMessages = 3000
	e := newEnv(b)
	var buf strings.Builder
	for i := 1; i <= benchMessages; i++ {
		fmt.Fprintf(&buf, "From sender%d@example.com Mon Nov 23 10:%02d:00 2026\n", i, i%60)
		fmt.Fprintf(&buf, "From: Sender %d <sender%d@example.com>\nTo: alice@demo.example\nCc: bob@demo.example\n", i, i)
		fmt.Fprintf(&buf, "Subject: message number %d\nDate: Mon, 23 Nov 2026 10:%02d:00 +0000\nMessage-ID: <m%d@example.com>\n\n", i, i%60, i)
		buf.WriteString(strings.Repeat("A line of body text, long enough to look like mail.\n", 40))
		buf.WriteString("\n")
	}
	e.fill(e.folder("big"), buf.String())
	c := e.login()
	c.ok("SELECT big") // stamps UIDs once, outside the timing
	c.ok("UNSELECT")
	b.ResetTimer()
	for b.Loop() {
		c.ok("SELECT big")
		r := c.ok("FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)")
		if len(r.Untagged) != benchMessages {
			b.Fatalf("%d responses", len(r.Untagged))
		}
		c.ok("UNSELECT")
	}
}
