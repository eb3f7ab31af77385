package session_test

import (
	"strings"
	"testing"
)

// TestClose: CLOSE expunges silently; UNSELECT does not expunge.
func TestClose(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("f"), mboxOf(4))
	c := e.login()
	c.ok("SELECT f")
	c.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c.ok("UNSELECT").exactly(t)
	if n := len(e.subjectsOn(e.folder("f"))); n != 4 {
		t.Errorf("UNSELECT expunged: %d messages left", n)
	}
	c.ok("SELECT f").has(t, "* 4 EXISTS")
	c.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`)
	c.ok("CLOSE").exactly(t)
	if got := strings.Join(e.subjectsOn(e.folder("f")), ","); got != "message 3,message 4" {
		t.Errorf("after CLOSE the file holds %s", got)
	}
	c.bad("FETCH 1 UID")
	c.ok("SELECT f").has(t, "* 2 EXISTS")
}

// TestCloseReadOnly: CLOSE of an EXAMINEd mailbox closes it silently,
// without expunging (RFC 3501 6.4.2).
func TestCloseReadOnly(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c.ok("EXAMINE INBOX")
	c.ok("CLOSE").exactly(t)
	c.bad("FETCH 1 UID")
	c.ok("SELECT INBOX").has(t, "* 3 EXISTS")
}

// TestCloseShrunk: CLOSE of a mailbox whose file shrank behind the
// session's back ends the session with a BYE, without writing.
func TestCloseShrunk(t *testing.T) {
	onlyMbox(t)
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok(`STORE 1:2 +FLAGS.SILENT (\Deleted)`)
	e.fill(e.inbox(), mboxOf(1))
	c.send("A999 CLOSE")
	got := c.readEOF()
	if len(got) == 0 || !strings.HasPrefix(got[0], "* BYE ") {
		t.Errorf("CLOSE of a shrunk mailbox: %q", got)
	}
	e.waitClosed(1)
	if text := e.read(e.inbox()); text != mboxOf(1) {
		t.Errorf("the file was written over:\n%s", text)
	}
}
