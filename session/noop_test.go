package session_test

import (
	"os"
	"strings"
	"testing"
)

// TestNoopNewMail: mail another program delivers shows on the next NOOP
// (or CHECK, or any command), gets its UID in the file at once.
func TestNoopNewMail(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok("NOOP").exactly(t)
	e.deliver(e.inbox(), "frank@example.com", "new one", "hello")
	c.ok("NOOP").exactly(t, "* 4 EXISTS", "* 4 RECENT")
	if got := e.uidOnDisk(e.inbox(), 3); got != "4" {
		t.Errorf("X-UID of the new message %q", got)
	}
	c.ok("FETCH 4 (UID FLAGS BODY.PEEK[TEXT])").exactly(t, `* 4 FETCH (UID 4 FLAGS (\Recent) BODY[TEXT] `+lit("hello\r\n")+")")

	e.deliver(e.inbox(), "frank@example.com", "two", "2")
	e.deliver(e.inbox(), "frank@example.com", "three", "3")
	c.ok("CHECK").exactly(t, "* 6 EXISTS", "* 6 RECENT")
	c.ok("UID FETCH 5:* UID").exactly(t, "* 5 FETCH (UID 5)", "* 6 FETCH (UID 6)")

	// Messages not announced yet can't be addressed.
	e.deliver(e.inbox(), "frank@example.com", "four", "4")
	r := c.bad("FETCH 7 UID")
	r.exactly(t) // no EXISTS with a BAD: go-imap polls only after success
	c.ok("FETCH 6 UID").has(t, "* 7 EXISTS")
	c.ok("FETCH 7 UID").exactly(t, "* 7 FETCH (UID 7)")
}

// TestNoopExamineNewMail: a read-only session sees new mail too.
func TestNoopExamineNewMail(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("EXAMINE INBOX")
	e.deliver(e.inbox(), "frank@example.com", "new one", "hello")
	c.ok("NOOP").exactly(t, "* 4 EXISTS", "* 4 RECENT")
	c.ok("FETCH 4 BODY.PEEK[TEXT]").exactly(t, "* 4 FETCH (BODY[TEXT] "+lit("hello\r\n")+")")
}

// TestNoopShrunk: a drop file truncated behind the session's back (a POP3
// server emptying it) ends the session with a BYE saying why, and nothing
// is written over the file.
func TestNoopShrunk(t *testing.T) {
	onlyMbox(t)
	for _, tc := range []struct{ name, content string }{
		{"emptied", ""},
		{"shorter", mboxOf(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.login()
			c.ok("SELECT INBOX")
			c.ok(`STORE 1 +FLAGS (\Flagged)`)
			if err := os.WriteFile(e.inbox(), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			// The flag change is in memory only: the next look at the
			// file finds it shrunk.
			c.send(`A999 STORE 2 +FLAGS.SILENT (\Seen)`)
			got := c.readEOF()
			if len(got) != 1 || !strings.HasPrefix(got[0], "* BYE ") || !strings.Contains(got[0], "changed by another program") {
				t.Errorf("got %q, want a BYE with the reason", got)
			}
			e.waitClosed(1)
			if text := e.read(e.inbox()); text != tc.content {
				t.Errorf("the file was written over:\n%s", text)
			}
		})
	}
}
