package session_test

import (
	"slices"
	"testing"
)

func TestMove(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("src"), mboxOf(6))
	c := e.login()
	c.ok("CREATE dst")
	vDst := c.ok("EXAMINE dst").uidValidity(t)
	c.ok("SELECT src")
	// A message flagged \Deleted but not moved stays.
	c.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	c.ok(`STORE 3 +FLAGS.SILENT (\Flagged)`)

	r := c.ok("MOVE 2:3,5 dst")
	r.exactly(t, "* OK [COPYUID "+vDst+" 2:3,5 1:3] COPY completed", "* 2 EXPUNGE", "* 2 EXPUNGE", "* 3 EXPUNGE")
	r.taggedIs(t, "OK MOVE completed")
	c.ok("FETCH 1:* (UID FLAGS)").exactly(t,
		`* 1 FETCH (UID 1 FLAGS (\Recent \Deleted))`,
		`* 2 FETCH (UID 4 FLAGS (\Recent))`,
		`* 3 FETCH (UID 6 FLAGS (\Recent))`)

	r = c.ok("UID MOVE 6 dst")
	r.exactly(t, "* OK [COPYUID "+vDst+" 6 4] COPY completed", "* 3 EXPUNGE")
	c.ok("UID MOVE 99 dst").exactly(t)

	c.ok("SELECT dst").has(t, "* 4 EXISTS")
	c.ok("FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])").exactly(t,
		`* 1 FETCH (UID 1 FLAGS () BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: message 2\r\n\r\n")+")",
		`* 2 FETCH (UID 2 FLAGS (\Flagged) BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: message 3\r\n\r\n")+")",
		`* 3 FETCH (UID 3 FLAGS () BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: message 5\r\n\r\n")+")",
		`* 4 FETCH (UID 4 FLAGS () BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: message 6\r\n\r\n")+")")
	c.logout()
	e.waitClosed(1)
	if n := len(e.onDisk(e.folder("src"))); n != 2 {
		t.Errorf("src has %d messages, want 2", n)
	}
}

func TestMoveRefused(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE dir/sub")
	c.ok("SELECT INBOX")
	c.no("MOVE 1 nosuch").taggedIs(t, "NO [TRYCREATE] Must create mailbox nosuch before MOVE")
	c.no("MOVE 1 dir").taggedHas(t, "NO [CANNOT] ")
	c.bad("MOVE 9 dir/sub").exactly(t)
	c.ok("NOOP").exactly(t)
	c.ok("EXAMINE INBOX")
	c.no("MOVE 1 dir/sub").taggedHas(t, "NO [CANNOT] ")
	c.ok("STATUS INBOX (MESSAGES)").exactly(t, "* STATUS INBOX (MESSAGES 3)")
	c.ok(`STATUS dir/sub (MESSAGES)`).exactly(t, `* STATUS "dir/sub" (MESSAGES 0)`)
}

// TestMoveSelf: MOVE into the selected mailbox puts the message at the end.
func TestMoveSelf(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	v := c.ok("SELECT INBOX").uidValidity(t)
	r := c.ok("MOVE 1 INBOX")
	r.exactly(t, "* OK [COPYUID "+v+" 1 4] COPY completed", "* 1 EXPUNGE", "* 3 EXISTS", "* 3 RECENT")
	c.ok("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])").exactly(t,
		`* 1 FETCH (UID 2 BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Lunch on Friday?\r\n\r\n")+")",
		`* 2 FETCH (UID 3 BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Quarterly report\r\n\r\n")+")",
		`* 3 FETCH (UID 4 BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Welcome to imapd\r\n\r\n")+")")
	if s := e.subjectsOn(e.inbox()); len(s) != 3 || slices.Index(s, "Welcome to imapd") != 2 {
		t.Errorf("INBOX after MOVE to itself: %q", s)
	}
}
