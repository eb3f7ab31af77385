package session_test

import (
	"strings"
	"testing"
)

func TestExpunge(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("f"), mboxOf(6))
	c := e.login()
	v := c.ok("SELECT f").uidValidity(t)
	c.ok(`STORE 2,3,5 +FLAGS.SILENT (\Deleted)`)
	r := c.ok("EXPUNGE")
	r.exactly(t, "* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE")
	c.ok("FETCH 1:* UID").exactly(t, "* 1 FETCH (UID 1)", "* 2 FETCH (UID 4)", "* 3 FETCH (UID 6)")
	c.ok("EXPUNGE").exactly(t)

	if got := strings.Join(e.subjectsOn(e.folder("f")), ","); got != "message 1,message 4,message 6" {
		t.Errorf("file holds %s", got)
	}
	// UIDs and UIDNEXT survive.
	c.logout()
	c = e.login()
	r = c.ok("SELECT f")
	r.has(t, "* 3 EXISTS", "* OK [UIDVALIDITY "+v+"] UIDs valid", "* OK [UIDNEXT 7] Predicted next UID")
	c.ok("FETCH 1:* UID").exactly(t, "* 1 FETCH (UID 1)", "* 2 FETCH (UID 4)", "* 3 FETCH (UID 6)")
}

func TestUIDExpunge(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("f"), mboxOf(6))
	c := e.login()
	c.ok("SELECT f")
	c.ok(`STORE 1:4,6 +FLAGS.SILENT (\Deleted)`)
	// UID 5 is not \Deleted: 2, 3 and 6 go.
	c.ok("UID EXPUNGE 2:3,5:6").exactly(t, "* 2 EXPUNGE", "* 2 EXPUNGE", "* 4 EXPUNGE")
	c.ok("FETCH 1:* (UID FLAGS)").exactly(t,
		`* 1 FETCH (UID 1 FLAGS (\Recent \Deleted))`,
		`* 2 FETCH (UID 4 FLAGS (\Recent \Deleted))`,
		`* 3 FETCH (UID 5 FLAGS (\Recent))`)
	c.ok("UID EXPUNGE 5:*").exactly(t)
	c.ok("UID EXPUNGE 4:*").exactly(t, "* 2 EXPUNGE")
	if got := strings.Join(e.subjectsOn(e.folder("f")), ","); got != "message 1,message 5" {
		t.Errorf("file holds %s", got)
	}
}

// TestExpungeAll: an emptied mailbox keeps its UID state (in the
// internal-data message, as UW).
func TestExpungeAll(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	v := c.ok("SELECT INBOX").uidValidity(t)
	c.ok(`STORE 1:* +FLAGS.SILENT (\Deleted)`)
	c.ok("EXPUNGE").exactly(t, "* 1 EXPUNGE", "* 1 EXPUNGE", "* 1 EXPUNGE")
	c.bad("FETCH 1:* UID").exactly(t) // no messages, so no sequence (as UW)
	c.ok("UID FETCH 1:* UID").exactly(t)
	c.logout()
	c = e.login()
	c.ok("SELECT INBOX").has(t, "* 0 EXISTS", "* OK [UIDVALIDITY "+v+"] UIDs valid", "* OK [UIDNEXT 4] Predicted next UID")
	if n := len(e.onDisk(e.inbox())); n != 0 {
		t.Errorf("INBOX holds %d messages", n)
	}
	if text := ""; mboxOnDisk() && !strings.Contains(e.read(e.inbox()), "X-IMAP: ") {
		t.Errorf("emptied drop file has no internal-data message:\n%s", text)
	}
}

// TestExpungeWithNewMail: mail delivered before EXPUNGE survives it and is
// announced after the expunges.
func TestExpungeWithNewMail(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`)
	e.deliver(e.inbox(), "frank@example.com", "late", "just in")
	r := c.ok("EXPUNGE")
	r.exactly(t, "* 2 EXPUNGE", "* 3 EXISTS", "* 3 RECENT")
	c.ok("FETCH 3 (UID BODY.PEEK[HEADER.FIELDS (Subject)])").exactly(t,
		`* 3 FETCH (UID 4 BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: late\r\n\r\n")+")")
	if got := strings.Join(e.subjectsOn(e.inbox()), ","); got != "Welcome to imapd,Quarterly report,late" {
		t.Errorf("drop file holds %s", got)
	}
}

// TestExpungeReadOnly: EXPUNGE of an EXAMINEd mailbox removes nothing and
// says so with NO (it answered OK before: the client believed the messages
// gone); CLOSE of it answers OK and removes nothing (RFC 3501 6.4.2).
func TestExpungeReadOnly(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c.ok("EXAMINE INBOX")
	for _, cmd := range []string{"EXPUNGE", "UID EXPUNGE 1"} {
		r := c.no("%s", cmd)
		r.exactly(t)
		if r.Tagged != "NO [READ-ONLY] Expunge ignored on readonly mailbox" {
			t.Errorf("%s: %q", cmd, r.Tagged)
		}
	}
	c.ok("FETCH 1 FLAGS").exactly(t, `* 1 FETCH (FLAGS (\Deleted))`)
	c.ok("CLOSE").exactly(t)
	c.ok("SELECT INBOX").has(t, "* 3 EXISTS")
}
