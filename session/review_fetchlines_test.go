package session_test

import (
	"os"
	"path/filepath"
	"testing"
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
