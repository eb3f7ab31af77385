package session_test

import (
	"strings"
	"testing"
)

func TestCopy(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE other")
	vOther := c.ok("EXAMINE other").uidValidity(t)
	c.ok("SELECT INBOX")
	c.ok(`STORE 1 +FLAGS.SILENT (\Seen \Flagged kw)`)

	r := c.ok("COPY 1:2 other")
	r.taggedIs(t, "OK [COPYUID "+vOther+" 1:2 1:2] COPY completed")
	r.exactly(t)
	r = c.ok("UID COPY 3 other")
	r.taggedIs(t, "OK [COPYUID "+vOther+" 3 3] COPY completed")
	c.ok("UID COPY 99 other").taggedIs(t, "OK COPY completed")

	// The copies keep From lines, flags, keywords and dates; the source
	// is unchanged.
	if mboxOnDisk() {
		checkCopiedMbox(t, e.read(e.folder("other")))
	} else if got := e.infos(e.folder("other")); got != "FSa,," {
		t.Errorf("copied flags in the names: %q", got)
	}
	c.ok("STATUS INBOX (MESSAGES)").exactly(t, "* STATUS INBOX (MESSAGES 3)")
	c.ok("NOOP").exactly(t)

	c.ok("SELECT other").has(t, "* 3 EXISTS", "* 0 RECENT", "* OK [UIDNEXT 4] Predicted next UID")
	r = c.ok("FETCH 1:3 (UID FLAGS INTERNALDATE)")
	r.exactly(t,
		`* 1 FETCH (UID 1 FLAGS (\Seen \Flagged kw) INTERNALDATE "23-Nov-2026 10:00:00 +0000")`,
		`* 2 FETCH (UID 2 FLAGS () INTERNALDATE "23-Nov-2026 11:00:00 +0000")`,
		`* 3 FETCH (UID 3 FLAGS () INTERNALDATE "23-Nov-2026 12:00:00 +0000")`)
	// As in UW, a copy escapes body lines starting "From " (the source
	// file holds one that is no separator as it is); a maildir keeps the
	// text as it is.
	text := msg1Text
	if mboxOnDisk() {
		text = strings.Replace(msg1Text, "\nFrom here", "\n>From here", 1)
	}
	c.ok("FETCH 1 BODY.PEEK[TEXT]").exactly(t, "* 1 FETCH (BODY[TEXT] "+lit(text)+")")
}

// checkCopiedMbox checks the folder file TestCopy wrote.
func checkCopiedMbox(t *testing.T, text string) {
	t.Helper()
	if !strings.Contains(text, "\nFrom carol@example.com Mon Nov 23 10:00:00 2026\n") || !strings.Contains(text, "\nFrom erin@example.com Mon Nov 23 12:00:00 2026\n") {
		t.Errorf("From lines not kept:\n%s", text)
	}
	status, xs := statusOf(text)
	if strings.Join(status, ",") != "RO,O,O" || strings.Join(xs, ",") != "F,," {
		t.Errorf("copied flags: Status %q X-Status %q", status, xs)
	}
}

func TestCopyRefused(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE dir/sub")
	c.ok("SELECT INBOX")
	r := c.no("COPY 1 nosuch")
	r.taggedIs(t, "NO [TRYCREATE] Must create mailbox nosuch before COPY")
	c.no("UID COPY 1 nosuch").taggedHas(t, "NO [TRYCREATE] ")
	c.no("COPY 1 dir").taggedHas(t, "NO [CANNOT] ")
	c.refused(`COPY 1 "../x"`)
	c.refused(`COPY 1 "/tmp/x"`)
	c.bad("COPY 99 dir/sub").exactly(t)
	c.ok("STATUS dir/sub (MESSAGES)").exactly(t, `* STATUS "dir/sub" (MESSAGES 0)`)
}

// TestCopySelf: COPY into the selected mailbox appends the copies; the
// client hears of them at the end of the command.
func TestCopySelf(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	v := c.ok("SELECT INBOX").uidValidity(t)
	c.ok(`STORE 2 +FLAGS.SILENT (\Answered)`)
	r := c.ok("COPY 2:3 INBOX")
	r.taggedIs(t, "OK [COPYUID "+v+" 2:3 4:5] COPY completed")
	r.has(t, "* 5 EXISTS")
	// The copies are \Recent here (RFC 3501 6.4.7).
	c.ok("FETCH 4:5 (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])").exactly(t,
		`* 4 FETCH (UID 4 FLAGS (\Recent \Answered) BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Lunch on Friday?\r\n\r\n")+")",
		`* 5 FETCH (UID 5 FLAGS (\Recent) BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Quarterly report\r\n\r\n")+")")
	c.logout()
	e.waitClosed(1)
	if n := len(e.onDisk(e.inbox())); n != 5 {
		t.Errorf("INBOX has %d messages, want 5", n)
	}
}

// TestCopyReadOnly: copying out of an EXAMINEd mailbox is fine; into it is
// not.
func TestCopyReadOnly(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE other")
	c.ok("EXAMINE INBOX")
	c.ok("COPY 1 other").taggedHas(t, "OK [COPYUID ")
	c.no("COPY 1 INBOX").taggedHas(t, "NO [CANNOT] ")
	c.ok("STATUS other (MESSAGES)").exactly(t, `* STATUS "other" (MESSAGES 1)`)
}

// TestCopyToHeld: a COPY to a mailbox another session holds goes to the
// end of the file (no COPYUID: the holder numbers them); the holder sees
// them on its next command.
func TestCopyToHeld(t *testing.T) {
	e := newEnv(t)
	b := e.login()
	b.ok("CREATE other")
	b.ok("SELECT other").has(t, "* 0 EXISTS")

	a := e.login()
	a.ok("SELECT INBOX")
	a.ok("COPY 1:2 other").taggedIs(t, "OK COPY completed")

	r := b.ok("NOOP")
	r.has(t, "* 2 EXISTS")
	b.ok("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (Subject)])").exactly(t,
		`* 1 FETCH (UID 1 BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Welcome to imapd\r\n\r\n")+")",
		`* 2 FETCH (UID 2 BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: Lunch on Friday?\r\n\r\n")+")")
	if mboxOnDisk() {
		if got := e.uidOnDisk(e.folder("other"), 1); got != "2" {
			t.Errorf("X-UID of the second copy %q, want 2 (written by the holder)", got)
		}
	} else if m := e.onDisk(e.folder("other")); len(m) != 2 || m[1].uid != "2" {
		t.Errorf("maildir: %+v", m)
	}
}
