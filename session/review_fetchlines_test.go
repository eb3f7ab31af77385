package session_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"imapd/session"
)

// TestReviewBadKeywordFile: a maildir's keyword file is written by other
// programs too; a keyword in it that is not an atom (here "bad]kw", on
// message 1) is not shown, where go-imap's encoder refused it: SELECT
// never answered (the client hung), and a FETCH or STORE answer fell back
// to go-imap, which left half a FETCH line in its buffer, written in
// front of the tagged NO (a desync).
func TestReviewBadKeywordFile(t *testing.T) {
	onlyMaildir(t)
	e := newEnv(t)
	e.fill(e.inbox(), mboxOf(3))
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok("STORE 1 +FLAGS (good)")
	c.ok("LOGOUT")
	if err := os.WriteFile(filepath.Join(e.inbox(), "imapd-keywords"), []byte("bad]kw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = e.login()
	c.ok("SELECT INBOX").has(t, `* FLAGS (\Answered \Flagged \Deleted \Draft \Seen)`)
	c.ok("FETCH 1 (FLAGS)").exactly(t, `* 1 FETCH (FLAGS ())`)
	c.ok("FETCH 1 (FLAGS ENVELOPE)")
	c.ok(`STORE 1 +FLAGS (\Seen)`).exactly(t, `* 1 FETCH (FLAGS (\Seen))`)
	c.ok(`STORE 1:2 +FLAGS (other)`).has(t, `* 1 FETCH (FLAGS (\Seen other))`)
	c.ok("LOGOUT")
	// The keyword stayed on message 1 (its letter): named again, it shows.
	if err := os.WriteFile(filepath.Join(e.inbox(), "imapd-keywords"), []byte("good\nother\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c = e.login()
	c.ok("SELECT INBOX")
	c.ok("FETCH 1 (FLAGS)").exactly(t, `* 1 FETCH (FLAGS (\Seen good other))`)
	c.ok("LOGOUT")
}

// TestReviewFetchLinesPipelined: a script of pipelined commands (sent in
// one write) mixing the session's FETCH lines with go-imap's own
// responses, keyword announcements (a keyword this STORE defines, and one
// another session defined), new mail, expunges by another session
// (imapd_shared_mailboxes), SEARCHRES "$", UID sets beyond the end, a
// 0-message mailbox and EXAMINE, under IMAP4rev1 and IMAP4rev2, gets the
// same bytes in the same order with the session's lines as with go-imap
// writing them all.
func TestReviewFetchLinesPipelined(t *testing.T) {
	for _, shared := range []bool{false, true} {
		for _, rev2 := range []bool{false, true} {
			var got [2][]string
			for k, on := range []bool{false, true} {
				conf := []string{}
				if shared {
					conf = append(conf, "imapd_shared_mailboxes true")
				}
				e := newEnv(t, conf...)
				got[k] = reviewScript(t, e, shared, rev2, on)
			}
			if !slices.Equal(got[0], got[1]) {
				for j := range min(len(got[0]), len(got[1])) {
					if got[0][j] != got[1][j] {
						t.Fatalf("shared %v rev2 %v: line %d\ngo-imap: %q\nsession: %q", shared, rev2, j, got[0][j], got[1][j])
					}
				}
				t.Fatalf("shared %v rev2 %v: %d lines from go-imap, %d with the session's", shared, rev2, len(got[0]), len(got[1]))
			}
			if len(got[0]) < 100 {
				t.Fatalf("shared %v rev2 %v: only %d lines: %q", shared, rev2, len(got[0]), got[0])
			}
		}
	}
}

func reviewScript(t *testing.T, e *env, shared, rev2, on bool) []string {
	t.Helper()
	e.fill(e.folder("f"), mboxOf(40))
	e.fill(e.folder("empty"), "")
	c := e.login()
	if rev2 {
		c.ok("ENABLE IMAP4rev2")
	}
	c.ok("SELECT f")
	if shared {
		// Another session of this process defines a keyword and
		// expunges two messages while c has the mailbox selected.
		c2 := e.login()
		c2.ok("SELECT f")
		c2.ok(`STORE 5 +FLAGS (FromOther)`)
		c2.ok(`STORE 2,3 +FLAGS (\Deleted)`)
		c2.ok("EXPUNGE")
		c2.ok("LOGOUT")
	}
	e.deliver(e.folder("f"), "late@example.com", "late", "late body")
	restore := session.SetFetchLines(on)
	defer restore()
	cmds := []string{
		`STORE 1:* +FLAGS (NewKw)`,
		`FETCH 1:* (UID FLAGS)`,
		`NOOP`,
		`STORE 1:* +FLAGS (NewKw2 \Answered)`,
		`SEARCH RETURN (SAVE) 2:4,9`,
		`FETCH $ (FLAGS RFC822.SIZE)`,
		`STORE $ +FLAGS (\Flagged)`,
		`UID STORE $ -FLAGS.SILENT (NewKw)`,
		`UID STORE 1:4294967295 -FLAGS (NewKw2)`,
		`UID FETCH 4294967290:* (FLAGS)`,
		`UID FETCH 30:4294967295 (INTERNALDATE FLAGS)`,
		`FETCH 1:* FAST`,
		`STORE 1 FLAGS ()`,
		`FETCH 1 (FLAGS ENVELOPE)`,
		`EXAMINE f`,
		`FETCH 1:* (UID RFC822.SIZE FLAGS)`,
		`STORE 1 +FLAGS (\Seen)`,
		`SELECT empty`,
		`FETCH 1:4294967295 (FLAGS)`,
		`UID FETCH 1:* (FLAGS)`,
		`UID STORE 1:* +FLAGS (X)`,
		`STORE 1:* +FLAGS (X)`,
		`LOGOUT`,
	}
	var script strings.Builder
	tags := make([]string, len(cmds))
	for i, cmd := range cmds {
		tags[i] = c.tag()
		script.WriteString(tags[i] + " " + cmd + "\r\n")
	}
	c.sendRaw(script.String())
	var lines []string
	for i, tag := range tags {
		for _, l := range c.collect(tag).Lines() {
			if !strings.Contains(l, "UIDVALIDITY") {
				lines = append(lines, cmds[i]+" -> "+l)
			}
		}
	}
	return lines
}

// TestReviewFetchLinesClientGone: a client that pipelines a FETCH and a
// STORE of thousands of messages and resets the connection before reading
// their answers: the session's writes fail, the session ends, and the
// server serves the next client (the flags the STORE set before its
// answers failed are kept, or not: either is allowed; no panic, no hang).
func TestReviewFetchLinesClientGone(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&b, "From s%d@example.com Mon Nov %2d 10:00:00 2026\nSubject: m %d\n\nbody\n\n", i, 1+i%28, i)
	}
	e.fill(e.inbox(), b.String())
	c := e.login()
	c.ok("SELECT INBOX")
	c.sendRaw("a1 FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)\r\na2 STORE 1:* +FLAGS (\\Seen Gone)\r\na3 FETCH 1:* (FLAGS)\r\n")
	if tc, ok := c.conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, not a FIN
	}
	c.conn.Close()
	e.waitClosed(1)
	c = e.login()
	c.ok("SELECT INBOX")
	r := c.ok("FETCH 1:* (FLAGS)")
	if len(r.Untagged) < 3000 {
		t.Fatalf("after the reset: %d messages", len(r.Untagged))
	}
	c.ok("LOGOUT")
	if log := e.logBuf.String(); strings.Contains(log, "panic") || strings.Contains(log, "SERVERBUG") {
		t.Fatalf("server log:\n%s", log)
	}
}
