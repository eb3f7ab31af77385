package session_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

const appendMsg = "From: w@example.com\r\nSubject: appended\r\n\r\nbody line\r\nFrom me, a body line\r\n"

// appendCmd sends APPEND with a synchronizing literal, waiting for the
// continuation as a client must.
func (c *client) appendSync(mailbox, flagsAndDate, msg string) *result {
	c.t.Helper()
	tag := c.tag()
	args := mailbox
	if flagsAndDate != "" {
		args += " " + flagsAndDate
	}
	c.send(fmt.Sprintf("%s APPEND %s {%d}", tag, args, len(msg)))
	if cont := c.readResponse(); !strings.HasPrefix(cont, "+ ") {
		c.t.Fatalf("APPEND: no continuation: %q", cont)
	}
	c.sendRaw(msg + "\r\n")
	return c.collect(tag)
}

func TestAppend(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE other")
	v := c.ok("EXAMINE other").uidValidity(t)
	c.ok("UNSELECT")

	r := c.appendSync("other", `(\Seen $Label1) "24-Nov-2026 10:11:12 +0100"`, appendMsg)
	r.taggedIs(t, "OK [APPENDUID "+v+" 1] APPEND completed")
	// LITERAL+ works as well.
	r = c.ok("APPEND other {%d+}\r\n%s", len(appendMsg), appendMsg)
	r.taggedIs(t, "OK [APPENDUID "+v+" 2] APPEND completed")

	if mboxOnDisk() {
		checkAppendedMbox(t, e.read(e.folder("other")))
	} else {
		// Flags in the names (S, keyword slot a), LF line ends, no
		// From-line quoting.
		msgs := e.onDisk(e.folder("other"))
		if len(msgs) != 2 || msgs[0].uid != "1" || msgs[0].info != "Sa" || msgs[1].info != "" {
			t.Fatalf("maildir: %+v", msgs)
		}
		if !strings.Contains(msgs[0].text, "\nFrom me, a body line\n") || strings.Contains(msgs[0].text, "\r") {
			t.Errorf("body not stored with LF line ends:\n%s", msgs[0].text)
		}
	}

	c.ok("SELECT other").has(t, "* 2 EXISTS", "* 2 RECENT", "* OK [UIDNEXT 3] Predicted next UID")
	want := strings.Replace(appendMsg, "\nFrom me", "\n>From me", 1)
	date := "24-Nov-2026 10:11:12 +0100"
	if !mboxOnDisk() {
		// A maildir keeps the body as sent and the internal date as the
		// file's time, without its zone (docs/maildir.md).
		want = appendMsg
		date = time.Date(2026, 11, 24, 9, 11, 12, 0, time.UTC).Local().Format("02-Jan-2006 15:04:05 -0700")
	}
	c.ok("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])").exactly(t,
		fmt.Sprintf(`* 1 FETCH (FLAGS (\Recent \Seen $Label1) RFC822.SIZE %d INTERNALDATE "%s" BODY[] %s)`, len(want), date, lit(want)))
}

// checkAppendedMbox checks the folder file TestAppend wrote.
func checkAppendedMbox(t *testing.T, text string) {
	t.Helper()
	msgs := splitMbox(text)
	if len(msgs) != 3 { // the internal-data message and the two
		t.Fatalf("folder has %d parts:\n%s", len(msgs), text)
	}
	if !strings.HasPrefix(msgs[1], "From alice@imap.test Tue Nov 24 10:11:12 2026 +0100\n") {
		t.Errorf("From line of the appended message: %q", strings.SplitN(msgs[1], "\n", 2)[0])
	}
	if !strings.Contains(msgs[1], "\n>From me, a body line\n") || strings.Contains(msgs[1], "\r") {
		t.Errorf("body not stored as mbox text:\n%s", msgs[1])
	}
	status, _ := statusOf(text)
	if status[0] != "R" || status[1] != "" {
		t.Errorf("Status %q, want R then empty (both \\Recent)", status)
	}
}

// TestAppendSelected: APPEND to the selected mailbox tells the client of
// the new message at the end of the command.
func TestAppendSelected(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	v := c.ok("SELECT INBOX").uidValidity(t)
	r := c.ok("APPEND INBOX (\\Flagged) {%d+}\r\n%s", len(appendMsg), appendMsg)
	r.exactly(t, "* 4 EXISTS", "* 4 RECENT")
	r.taggedIs(t, "OK [APPENDUID "+v+" 4] APPEND completed")
	c.ok("FETCH 4 (UID FLAGS)").exactly(t, `* 4 FETCH (UID 4 FLAGS (\Recent \Flagged))`)
	if mboxOnDisk() {
		if got := e.uidOnDisk(e.inbox(), 3); got != "4" {
			t.Errorf("X-UID %q", got)
		}
	} else if m := e.onDisk(e.inbox()); len(m) != 4 || m[3].uid != "4" || m[3].info != "F" {
		t.Errorf("maildir: %+v", m)
	}
	// A new keyword: FLAGS and PERMANENTFLAGS come first, before the
	// message can be fetched.
	r = c.ok("APPEND INBOX (Todo) {%d+}\r\n%s", len(appendMsg), appendMsg)
	r.exactly(t, `* FLAGS (\Answered \Flagged \Deleted \Draft \Seen Todo)`,
		`* OK [PERMANENTFLAGS (\* \Answered \Flagged \Deleted \Draft \Seen Todo)] Permanent flags`,
		"* 5 EXISTS", "* 5 RECENT")
	c.ok("FETCH 5 FLAGS").exactly(t, `* 5 FETCH (FLAGS (\Recent Todo))`)
}

// TestAppendHeld: APPEND to a mailbox another session holds is written raw
// at the end (no APPENDUID); the holder numbers it.
func TestAppendHeld(t *testing.T) {
	e := newEnv(t)
	b := e.login()
	b.ok("SELECT INBOX")
	a := e.login()
	r := a.ok("APPEND INBOX (\\Seen) {%d+}\r\n%s", len(appendMsg), appendMsg)
	r.taggedIs(t, "OK APPEND completed")
	b.ok("NOOP").has(t, "* 4 EXISTS")
	b.ok("FETCH 4 (UID FLAGS)").exactly(t, `* 4 FETCH (UID 4 FLAGS (\Recent \Seen))`)
}

// TestAppendExamined: APPEND to the mailbox this session has EXAMINEd goes
// raw to the end of the file; the session sees it on its next command.
func TestAppendExamined(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("EXAMINE INBOX")
	r := c.ok("APPEND INBOX {%d+}\r\n%s", len(appendMsg), appendMsg)
	r.has(t, "* 4 EXISTS")
	c.ok("FETCH 4 BODY.PEEK[HEADER.FIELDS (Subject)]").exactly(t,
		`* 4 FETCH (BODY[HEADER.FIELDS ("Subject")] `+lit("Subject: appended\r\n\r\n")+")")
	c.ok("SELECT INBOX").has(t, "* 4 EXISTS", "* OK [UIDNEXT 5] Predicted next UID")
}

// TestAppendStatusHeaders: status headers a client sends are not taken
// for the message's state.
func TestAppendStatusHeaders(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	msg := "Status: RO\r\nX-Status: DF\r\nX-UID: 77\r\nX-Keywords: evil\r\nSubject: sneaky\r\n\r\nhi\r\n"
	c.ok("APPEND INBOX {%d+}\r\n%s", len(msg), msg).taggedHas(t, "OK [APPENDUID ")
	c.ok("SELECT INBOX").has(t, "* 4 EXISTS", "* OK [UIDNEXT 5] Predicted next UID")
	c.ok("FETCH 4 (UID FLAGS)").exactly(t, `* 4 FETCH (UID 4 FLAGS (\Recent))`)
	r := c.ok("FETCH 4 BODY.PEEK[HEADER]")
	if !mboxOnDisk() {
		// A maildir keeps the message as sent: those lines are text there,
		// never taken for state (checked above).
		return
	}
	if strings.Contains(r.Untagged[0], "\r\nStatus:") || strings.Contains(r.Untagged[0], "\r\nX-UID:") || !strings.Contains(r.Untagged[0], "sneaky") {
		t.Errorf("header: %q", r.Untagged)
	}
}

func TestAppendRefused(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE dir/sub")

	r := c.no("APPEND nosuch {%d+}\r\n%s", len(appendMsg), appendMsg)
	r.taggedIs(t, "NO [TRYCREATE] Must create mailbox nosuch before APPEND")
	r = c.appendSync("nosuch", "", appendMsg)
	if r.Status != "NO" || !strings.HasPrefix(r.Tagged, "NO [TRYCREATE]") {
		t.Errorf("APPEND to a missing folder: %q", r.Tagged)
	}
	c.no("APPEND dir {%d+}\r\n%s", len(appendMsg), appendMsg).taggedHas(t, "NO [CANNOT] ")
	c.bad("APPEND dir/sub (\\Bogus) {%d+}\r\n%s", len(appendMsg), appendMsg)
	c.refused(`APPEND "../x" {%d+}`+"\r\n%s", len(appendMsg), appendMsg)
	// A bad date is refused before the literal is asked for. (With a
	// LITERAL+ literal go-imap would read the message as commands.)
	c.refused("APPEND dir/sub \"31-Feb-2026 99:00:00 +0000\" {%d}", len(appendMsg))

	// An over-size literal is refused before it is sent.
	r = c.cmd("APPEND dir/sub {%d}", 200<<20)
	r.taggedHas(t, "NO [TOOBIG] ")

	c.ok("STATUS dir/sub (MESSAGES)").exactly(t, `* STATUS "dir/sub" (MESSAGES 0)`)
	c.ok("APPEND dir/sub {%d+}\r\n%s", len(appendMsg), appendMsg)
	c.ok("STATUS dir/sub (MESSAGES)").exactly(t, `* STATUS "dir/sub" (MESSAGES 1)`)
}

// TestAppendNoDropFile: APPEND to INBOX of a user without a drop file
// makes it.
func TestAppendNoDropFile(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.ok("LOGIN bob bob-secret")
	c.ok("APPEND INBOX {%d+}\r\n%s", len(appendMsg), appendMsg).taggedHas(t, "OK [APPENDUID ")
	c.ok("SELECT INBOX").has(t, "* 1 EXISTS")
	if s := e.subjectsOn(e.inboxOf("bob")); !slices.Equal(s, []string{"appended"}) {
		t.Errorf("bob's INBOX holds %q", s)
	}
}
