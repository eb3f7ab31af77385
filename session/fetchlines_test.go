package session_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"imapd/session"
)

// TestFetchLinesSameAsGoIMAP: the FETCH responses the session encodes
// itself (STORE's answers, a FETCH of only UID, FLAGS, RFC822.SIZE and
// INTERNALDATE) are byte for byte what go-imap writes for them, on a
// mailbox of varied flags, keywords and dates, over the 16 KiB a batch
// holds, by sequence number and by UID, under IMAP4rev1 and IMAP4rev2.
func TestFetchLinesSameAsGoIMAP(t *testing.T) {
	const n = 1500
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "From s%d@example.com %s Nov %2d %02d:%02d:%02d 2026\n", i,
			[]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}[i%7], 1+i%30, i%24, i%60, (i*7)%60)
		fmt.Fprintf(&b, "From: s%d@example.com\nSubject: m %d\n\n%s\n\n", i, i, strings.Repeat("x", i%97))
	}
	e := newEnv(t)
	e.fill(e.inbox(), b.String())

	for _, rev2 := range []bool{false, true} {
		c := e.login()
		if rev2 {
			c.ok("ENABLE IMAP4rev2")
		}
		c.ok("SELECT INBOX")
		// Varied states: system flags, keywords (some messages only),
		// \Deleted, and \Recent on every message of the first session.
		c.ok(`STORE 1:* +FLAGS.SILENT (\Seen)`)
		c.ok(`STORE %s +FLAGS.SILENT (\Flagged \Answered)`, every(1, 3, n))
		c.ok(`STORE %s +FLAGS.SILENT (Work $Label1)`, every(2, 5, n))
		c.ok(`STORE %s +FLAGS.SILENT (\Deleted \Draft)`, every(7, 11, n))
		c.ok(`STORE %s -FLAGS.SILENT (\Seen)`, every(1, 2, n))
		c.ok(`STORE 1 +FLAGS.SILENT (NewKeyword)`)

		// both runs a command without, then with, the session's lines
		// and compares. The STOREs are idempotent: their second run
		// answers the state the first left, which is the same.
		both := func(cmd string) {
			t.Helper()
			var got [2][]string
			for k, on := range []bool{false, true} {
				restore := session.SetFetchLines(on)
				r := c.ok("%s", cmd)
				restore()
				got[k] = r.Untagged
			}
			if len(got[0]) == 0 && !strings.Contains(cmd, "SILENT") {
				t.Fatalf("%s: no responses", cmd)
			}
			if !slices.Equal(got[0], got[1]) {
				for j := range min(len(got[0]), len(got[1])) {
					if got[0][j] != got[1][j] {
						t.Fatalf("rev2 %v, %s: line %d\ngo-imap: %q\nsession: %q", rev2, cmd, j, got[0][j], got[1][j])
					}
				}
				t.Fatalf("rev2 %v, %s: %d lines from go-imap, %d from the session", rev2, cmd, len(got[0]), len(got[1]))
			}
		}
		both("FETCH 1:* (UID FLAGS)")
		both("FETCH 1:* (FLAGS UID RFC822.SIZE INTERNALDATE)")
		both("FETCH 1:* FAST")
		both("FETCH 1:* (INTERNALDATE RFC822.SIZE)")
		both("FETCH 3,9,27:40,1000:* FLAGS")
		both("UID FETCH 1:* (FLAGS)")
		both("UID FETCH 100:200,1400:* (RFC822.SIZE)")
		both("FETCH 5 ()")
		both(`UID STORE 1:* +FLAGS (NewKeyword)`)
		both(`STORE 1:* +FLAGS (\Seen)`)
		both(`STORE 1:* -FLAGS (Work)`)
		both(`UID STORE 10:20 FLAGS (\Answered)`)
		both(`STORE 1:* +FLAGS.SILENT (\Seen)`)
		c.ok("LOGOUT")
	}
}

// every is the sequence set of from, from+step, ... up to n.
func every(from, step, n int) string {
	var s []string
	for i := from; i <= n; i += step {
		s = append(s, fmt.Sprint(i))
	}
	return strings.Join(s, ",")
}
