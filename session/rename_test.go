package session_test

import (
	"testing"
)

func TestRename(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("a"), mboxOf(2))
	c := e.login()
	v := c.ok("SELECT a").uidValidity(t) // stamps the file (EXAMINE could not)
	c.ok("UNSELECT")
	c.ok("CREATE b/c")

	c.ok("RENAME a x").exactly(t)
	c.ok("SELECT x").has(t, "* 2 EXISTS", "* OK [UIDVALIDITY "+v+"] UIDs valid")
	c.ok("UNSELECT")
	c.ok("RENAME b bb")
	c.ok("RENAME x bb/x")
	c.ok("RENAME bb/c top")
	listIs(t, c.ok(`LIST "" *`),
		`* LIST (\Noselect \HasChildren) "/" "bb"`,
		`* LIST (\Noinferiors) "/" "bb/x"`,
		`* LIST (\Noinferiors) "/" "top"`,
		`* LIST (\Noinferiors) NIL INBOX`)

	c.no("RENAME nosuch y").taggedHas(t, "NO [NONEXISTENT] ")
	c.no("RENAME top bb/x").taggedHas(t, "NO [ALREADYEXISTS] ")
	c.no("RENAME bb bb/inside").taggedHas(t, "NO [CANNOT] ")
	c.no("RENAME top bb/x/below").taggedHas(t, "NO [CANNOT] ")
	c.no("RENAME top INBOX").taggedHas(t, "NO [ALREADYEXISTS] ")
	c.refused(`RENAME top "../out"`)
	c.refused(`RENAME "../alice" mine`)
	c.ok("STATUS bb/x (MESSAGES)").exactly(t, `* STATUS "bb/x" (MESSAGES 2)`)
}

// TestRenameInbox: RENAME INBOX moves the messages, flags kept, to the new
// folder; INBOX stays, empty, with its UID state.
func TestRenameInbox(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	v := c.ok("SELECT INBOX").uidValidity(t)
	c.ok(`STORE 2 +FLAGS.SILENT (\Flagged kw)`)
	c.ok("UNSELECT")

	c.ok("RENAME INBOX old").exactly(t)
	c.ok("SELECT INBOX").has(t, "* 0 EXISTS", "* OK [UIDVALIDITY "+v+"] UIDs valid", "* OK [UIDNEXT 4] Predicted next UID")
	c.ok("SELECT old").has(t, "* 3 EXISTS")
	c.ok("FETCH 1:3 (FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])").exactly(t,
		`* 1 FETCH (FLAGS () BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Welcome to imapd\r\n\r\n")+")",
		`* 2 FETCH (FLAGS (\Flagged kw) BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Lunch on Friday?\r\n\r\n")+")",
		`* 3 FETCH (FLAGS () BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Quarterly report\r\n\r\n")+")")
	if n := len(e.subjectsOn(e.inbox())); n != 0 {
		t.Errorf("drop file still holds %d messages", n)
	}

	// To an existing name, or to a folder of folders: refused, nothing moves.
	e.deliver(e.inbox(), "x@example.com", "new", "new mail")
	c.no("RENAME INBOX old").taggedHas(t, "NO [ALREADYEXISTS] ")
	c.no("RENAME INBOX dir/").taggedHas(t, "NO ")
	c.ok("STATUS INBOX (MESSAGES)").exactly(t, "* STATUS INBOX (MESSAGES 1)")
}

// TestRenameInUse: a folder another session has selected can't be renamed;
// INBOX neither.
func TestRenameInUse(t *testing.T) {
	e := newEnv(t)
	a := e.login()
	a.ok("CREATE f")
	a.ok("SELECT f")
	b := e.login()
	b.no("RENAME f g").taggedHas(t, "NO [INUSE] ")
	a.ok("SELECT INBOX")
	r := b.no("RENAME INBOX g")
	r.taggedHas(t, "NO [INUSE] ")
	b.ok("RENAME f g")
	a.ok("NOOP").exactly(t)
	a.ok("FETCH 1 UID").exactly(t, "* 1 FETCH (UID 1)")
	if len(e.onDisk(e.inbox())) != 3 {
		t.Errorf("INBOX emptied")
	}
}

// TestRenameParentOfHeld: renaming a folder of folders moves the folders
// in it; one of them selected by another session must not be pulled away
// from under it.
func TestRenameParentOfHeld(t *testing.T) {
	e := newEnv(t)
	a := e.login()
	a.ok("CREATE d/f")
	a.ok("SELECT d/f")
	a.ok("APPEND d/f {%d+}\r\n%s", len(appendMsg), appendMsg)
	b := e.login()
	b.no("RENAME d e").taggedIs(t, "NO [INUSE] Can't rename mailbox d: f in it is in use by a session")
	a.ok("FETCH 1 UID").exactly(t, "* 1 FETCH (UID 1)")
	a.ok("UNSELECT")
	b.ok("RENAME d e")
	a.ok("SELECT e/f").has(t, "* 1 EXISTS")
}
