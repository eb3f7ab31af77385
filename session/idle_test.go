package session_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"imapd/mailbox"
)

func (c *client) idle() {
	c.t.Helper()
	c.send("I1 IDLE")
	if got := c.readResponse(); got != "+ idling" {
		c.t.Fatalf("IDLE: %q", got)
	}
}

func (c *client) done() *result {
	c.t.Helper()
	c.send("DONE")
	return c.collect("I1")
}

// TestIdleNewMail: mail delivered by another program is announced during
// IDLE, and gets its UID in the file without any command.
func TestIdleNewMail(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.idle()
	e.deliver(e.inbox(), "frank@example.com", "during idle", "hi")
	if before := c.waitFor("* 4 EXISTS"); len(before) != 0 {
		t.Errorf("before EXISTS: %q", before)
	}
	if got := c.readResponse(); got != "* 4 RECENT" {
		t.Errorf("after EXISTS: %q", got)
	}
	if got := e.uidOnDisk(e.inbox(), 3); got != "4" {
		t.Errorf("UID of the new message on disk %q", got)
	}
	// A second delivery, same IDLE.
	e.deliver(e.inbox(), "frank@example.com", "during idle 2", "hi")
	c.waitFor("* 5 EXISTS")
	c.waitFor("* 5 RECENT")
	r := c.done()
	r.exactly(t)
	r.taggedIs(t, "OK IDLE completed")
	c.ok("FETCH 5 UID").exactly(t, "* 5 FETCH (UID 5)")
}

// TestIdleNewKeyword: a message another session appends with a new keyword
// (raw, the mailbox being held) extends FLAGS and PERMANENTFLAGS during
// IDLE, before the EXISTS.
func TestIdleNewKeyword(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.idle()
	msg := "Subject: kw\r\n\r\nx\r\n"
	err := e.appendHeld(e.inbox(), []mailbox.NewMessage{{
		Body: strings.NewReader(msg), Size: int64(len(msg)), Keywords: []string{"Fresh"}, Sender: "a@b",
	}})
	if err != nil {
		t.Fatal(err)
	}
	before := c.waitFor("* 4 EXISTS")
	if !slices.Equal(before, []string{`* FLAGS (\Answered \Flagged \Deleted \Draft \Seen Fresh)`,
		`* OK [PERMANENTFLAGS (\* \Answered \Flagged \Deleted \Draft \Seen Fresh)] Permanent flags`}) {
		t.Errorf("before EXISTS: %q", before)
	}
	c.waitFor("* 4 RECENT")
	r := c.done()
	r.exactly(t)
	c.ok("FETCH 4 FLAGS").exactly(t, `* 4 FETCH (FLAGS (\Recent Fresh))`)
}

// TestIdleNotSelected: IDLE works in the authenticated state too.
func TestIdleNotSelected(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.idle()
	c.done().taggedIs(t, "OK IDLE completed")
	c.ok("NOOP")
}

// TestIdleBadEnd: anything but DONE ends IDLE with BAD; the session goes
// on.
func TestIdleBadEnd(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.idle()
	c.send("NOOP")
	r := c.collect("I1")
	if r.Status != "BAD" {
		t.Errorf("IDLE ended by NOOP: %q", r.Tagged)
	}
	c.ok("FETCH 1 UID").exactly(t, "* 1 FETCH (UID 1)")
}

// TestIdleShrunk: a drop file truncated during IDLE ends the session with
// a BYE; nothing is written over the file.
func TestIdleShrunk(t *testing.T) {
	onlyMbox(t)
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok(`STORE 1 +FLAGS.SILENT (\Seen)`)
	c.idle()
	if err := os.WriteFile(e.inbox(), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got := c.readEOF()
	if len(got) != 1 || !strings.HasPrefix(got[0], "* BYE ") {
		t.Errorf("got %q, want a BYE", got)
	}
	e.waitClosed(1)
	if text := e.read(e.inbox()); text != "" {
		t.Errorf("the file was written over:\n%s", text)
	}
}

// TestIdlePipelinedDone: a DONE sent with its IDLE in one write may reach
// the server before go-imap's goroutine calls Idle (idle.go): the IDLE ends
// at once and leaves nothing polling behind it. Mail that comes later is
// told by the next command, once, and an IDLE after that still reports.
func TestIdlePipelinedDone(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	for range 20 {
		c.sendRaw("I1 IDLE\r\nDONE\r\n")
		c.collect("I1").taggedIs(t, "OK IDLE completed")
	}
	e.deliver(e.inbox(), "frank@example.com", "after idle", "hi")
	c.ok("NOOP").exactly(t, "* 4 EXISTS", "* 4 RECENT")
	c.ok("NOOP").exactly(t)
	c.idle()
	e.deliver(e.inbox(), "frank@example.com", "during idle", "hi")
	c.waitFor("* 5 EXISTS")
	c.waitFor("* 5 RECENT")
	c.done().taggedIs(t, "OK IDLE completed")
	c.ok("NOOP").exactly(t)
}
