package session_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"imapd/platform"
	"imapd/session"
)

func TestSelect(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	r := c.ok("SELECT INBOX")
	v := r.uidValidity(t)
	r.exactly(t,
		"* 3 EXISTS",
		"* 3 RECENT",
		"* OK [UNSEEN 1] First unseen message",
		"* OK [UIDVALIDITY "+v+"] UIDs valid",
		"* OK [UIDNEXT 4] Predicted next UID",
		`* FLAGS (\Answered \Flagged \Deleted \Draft \Seen)`,
		`* OK [PERMANENTFLAGS (\* \Answered \Flagged \Deleted \Draft \Seen)] Permanent flags`,
	)
	r.taggedIs(t, "OK [READ-WRITE] SELECT completed")

	// The UID state is in the file as soon as the mailbox is open, so
	// that another program sees what this client was told.
	if !mboxOnDisk() {
		if got := e.read(filepath.Join(e.inbox(), "imapd-uidlist")); !strings.HasPrefix(got, "imapd-uidlist 1 V"+v+" N4\n") {
			t.Errorf("imapd-uidlist %q, want UIDVALIDITY %s and UIDNEXT 4", got, v)
		}
		if m := e.onDisk(e.inbox()); len(m) != 3 || m[2].uid != "3" || strings.Contains(m[0].name, "/new/") {
			t.Errorf("maildir: %+v", m)
		}
	} else if got := headerOf(e.read(e.inbox()), 0, "X-IMAPbase"); !strings.HasPrefix(got, v+" 3") {
		t.Errorf("X-IMAPbase %q, want UIDVALIDITY %s and last UID 3", got, v)
	}

	// Selecting again answers with [CLOSED] first; \Recent was claimed.
	r = c.ok("SELECT inbox")
	if r.Untagged[0] != "* OK [CLOSED] Previous mailbox is now closed" {
		t.Errorf("reselect: first line %q", r.Untagged[0])
	}
	r.has(t, "* 3 EXISTS", "* 0 RECENT", "* OK [UNSEEN 1] First unseen message", "* OK [UIDVALIDITY "+v+"] UIDs valid")
}

func TestExamine(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	r := c.ok("EXAMINE INBOX")
	v := r.uidValidity(t)
	r.exactly(t,
		"* 3 EXISTS",
		"* 3 RECENT",
		"* OK [UNSEEN 1] First unseen message",
		"* OK [UIDVALIDITY "+v+"] UIDs valid",
		"* OK [UIDNEXT 4] Predicted next UID",
		`* FLAGS (\Answered \Flagged \Deleted \Draft \Seen)`,
		`* OK [PERMANENTFLAGS ()] Permanent flags`,
	)
	r.taggedIs(t, "OK [READ-ONLY] EXAMINE completed")
	c.logout()

	// EXAMINE does not claim \Recent: a later SELECT still sees it. (Nor
	// does it write: the UIDVALIDITY of a file without UID state is only
	// fixed by the first read-write open, as in UW.)
	c2 := e.login()
	c2.ok("SELECT INBOX").has(t, "* 3 RECENT")
}

// TestSelectRecentOnce: \Recent belongs to the first session that selects
// the mailbox read-write; after its LOGOUT a new session sees 0 RECENT.
func TestSelectRecentOnce(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX").has(t, "* 3 RECENT")
	r := c.ok("FETCH 1:3 FLAGS")
	r.exactly(t, `* 1 FETCH (FLAGS (\Recent))`, `* 2 FETCH (FLAGS (\Recent))`, `* 3 FETCH (FLAGS (\Recent))`)
	c.logout()

	if !mboxOnDisk() {
		if n, _ := os.ReadDir(filepath.Join(e.inbox(), "new")); len(n) != 0 {
			t.Errorf("new/ still holds %d files", len(n))
		}
	} else {
		status, _ := statusOf(e.read(e.inbox()))
		for i, s := range status {
			if s != "O" {
				t.Errorf("message %d: Status %q, want O (seen by a session, not read)", i+1, s)
			}
		}
	}

	c2 := e.login()
	c2.ok("SELECT INBOX").has(t, "* 3 EXISTS", "* 0 RECENT")
	c2.ok("FETCH 1:3 FLAGS").exactly(t, `* 1 FETCH (FLAGS ())`, `* 2 FETCH (FLAGS ())`, `* 3 FETCH (FLAGS ())`)
}

// TestSelectTakeover: on unix a second session selecting a mailbox another
// session of the same server holds takes it over; the first is told
// "* BYE Killed (lost mailbox lock)" and its flags are saved.
func TestSelectTakeover(t *testing.T) {
	e := newEnv(t)
	a := e.login()
	a.ok("SELECT INBOX")
	a.ok("STORE 2 +FLAGS (\\Flagged)")

	b := e.login()
	if !platform.SecondSelectTakesOver {
		// Windows: the second session gets the mailbox read-only.
		r := b.ok("SELECT INBOX")
		r.has(t, "* NO Mailbox is open by another session, access is readonly", "* OK [PERMANENTFLAGS ()] Permanent flags")
		r.taggedIs(t, "OK [READ-ONLY] SELECT completed")
		b.no("STORE 1 +FLAGS (\\Seen)")
		a.ok("NOOP").exactly(t)
		return
	}
	r := b.ok("SELECT INBOX")
	r.has(t, "* 3 EXISTS", "* 0 RECENT", "* NO Trying to get mailbox lock from another session")
	if last := r.Untagged[len(r.Untagged)-1]; last != "* NO Trying to get mailbox lock from another session" {
		t.Errorf("the lock notice should come just before the tagged reply, got last %q", last)
	}
	r.taggedIs(t, "OK [READ-WRITE] SELECT completed")

	got := a.readEOF()
	if len(got) != 1 || got[0] != "* BYE Killed (lost mailbox lock)" {
		t.Errorf("first session got %q, want only the BYE", got)
	}
	e.waitClosed(1)

	b.ok("FETCH 2 FLAGS").exactly(t, `* 2 FETCH (FLAGS (\Flagged))`)
	b.ok("STORE 3 +FLAGS (\\Answered)")
	b.ok("CHECK")
	if !mboxOnDisk() {
		if got := e.infos(e.inbox()); got != ",F,R" {
			t.Errorf("maildir flags %q, want F on 2 and R on 3", got)
		}
		return
	}
	_, xs := statusOf(e.read(e.inbox()))
	if xs[1] != "F" || xs[2] != "A" {
		t.Errorf("X-Status %q, want F on 2 and A on 3", xs)
	}
}

// TestExamineDoesNotDisturb: EXAMINE and STATUS by a second session leave
// the session holding the mailbox alone.
func TestExamineDoesNotDisturb(t *testing.T) {
	e := newEnv(t)
	a := e.login()
	a.ok("SELECT INBOX")

	b := e.login()
	b.ok("EXAMINE INBOX").taggedIs(t, "OK [READ-ONLY] EXAMINE completed")
	b.ok("STATUS INBOX (MESSAGES)").exactly(t, "* STATUS INBOX (MESSAGES 3)")
	b.no("STORE 1 +FLAGS (\\Seen)")

	a.ok("NOOP").exactly(t)
	a.ok("STORE 1 +FLAGS (\\Seen)").exactly(t, `* 1 FETCH (FLAGS (\Recent \Seen))`)
	b.logout()
	a.ok("FETCH 1 FLAGS").exactly(t, `* 1 FETCH (FLAGS (\Recent \Seen))`)
}

func TestSelectRefused(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE dir/sub")

	r := c.no("SELECT nosuchbox")
	r.taggedIs(t, "NO [NONEXISTENT] Can't open mailbox nosuchbox: no such mailbox")
	r = c.no("SELECT dir")
	r.taggedHas(t, "NO [CANNOT] ")
	r = c.no("EXAMINE dir")
	r.taggedHas(t, "NO [CANNOT] ")
	for _, name := range []string{`"../alice"`, `"/etc/passwd"`, `"dir/../dir/sub"`, `"~bob/x"`, `"dir//sub"`, `"a\\b"`} {
		r = c.cmd("SELECT %s", name)
		if r.Status != "NO" && r.Status != "BAD" {
			t.Errorf("SELECT %s: %q", name, r.Tagged)
		}
		if strings.Contains(r.Tagged, e.site.Dir) {
			t.Errorf("SELECT %s: reply shows a server path: %q", name, r.Tagged)
		}
	}

	// A failed SELECT leaves no mailbox selected; the session goes on.
	c.bad("FETCH 1 FLAGS")
	c.ok("SELECT dir/sub").has(t, "* 0 EXISTS")
	c.ok("SELECT INBOX").has(t, "* 3 EXISTS")
}

// TestSelectNoDropFile: a user whose drop file does not exist yet gets an
// empty INBOX (created on SELECT).
func TestSelectNoDropFile(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.ok("LOGIN bob bob-secret")
	r := c.ok("SELECT INBOX")
	r.has(t, "* 0 EXISTS", "* 0 RECENT", "* OK [UIDNEXT 1] Predicted next UID")
	r.lacks(t, "* OK [UNSEEN")
	c.ok("NOOP")
	c.ok("STATUS INBOX (MESSAGES UIDNEXT)").exactly(t, "* STATUS INBOX (MESSAGES 0 UIDNEXT 1)")
}

// TestSelectedStateCommands: commands of the selected state are refused
// before a SELECT, and after UNSELECT.
func TestSelectedStateCommands(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	for _, cmd := range []string{"FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "SEARCH ALL", "COPY 1 INBOX", "EXPUNGE", "CLOSE", "UNSELECT", "MOVE 1 INBOX"} {
		c.bad("%s", cmd)
	}
	c.ok("SELECT INBOX")
	c.ok("UNSELECT")
	c.bad("FETCH 1 FLAGS")
	c.ok("NOOP")
}

// TestSelectNameWithNUL: a mailbox name carrying a NUL (only possible in a
// literal) is refused and the session goes on.
func TestSelectNameWithNUL(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	tag := c.tag()
	c.sendRaw(tag + " SELECT {3}\r\n")
	if cont := c.readResponse(); !strings.HasPrefix(cont, "+ ") {
		t.Fatalf("no continuation for the literal: %q", cont)
	}
	c.sendRaw("a\x00b\r\n")
	if r := c.collect(tag); r.Status != "NO" && r.Status != "BAD" {
		t.Errorf("SELECT of a name with NUL: %q", r.Tagged)
	}
	c.ok("NOOP")
}

// TestSelectAfterExamine: a session that only EXAMINEd a mailbox is not
// disturbed when another selects it read-write.
func TestSelectAfterExamine(t *testing.T) {
	e := newEnv(t)
	stamp(e)
	a := e.login()
	a.ok("EXAMINE INBOX")
	b := e.login()
	r := b.ok("SELECT INBOX")
	r.lacks(t, "* NO ")
	r.taggedIs(t, "OK [READ-WRITE] SELECT completed")
	b.ok(`STORE 1 +FLAGS (\Flagged kw)`)
	a.ok("NOOP")
	a.ok("FETCH 2 UID").exactly(t, "* 2 FETCH (UID 2)")
}

// stamp has a session give the demo INBOX its UIDs (the first read-write
// open rewrites a file that has none; a session that has it open read-only
// then ends: its UIDVALIDITY may not be the file's).
func stamp(e *env) {
	e.t.Helper()
	c := e.login()
	c.ok("SELECT INBOX")
	c.logout()
	e.waitClosed(1)
}

// TestExamineSurvivesExpunge: a session that EXAMINEs a mailbox sees
// another session's EXPUNGE as EXPUNGE responses.
func TestExamineSurvivesExpunge(t *testing.T) {
	e := newEnv(t)
	stamp(e)
	a := e.login()
	a.ok("EXAMINE INBOX")
	b := e.login()
	b.ok("SELECT INBOX")
	b.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`)
	b.ok("EXPUNGE")
	a.ok("NOOP").exactly(t, "* 2 EXPUNGE")
	// New mail reaches the reader after the rewrite, with the UID the
	// writer gave it. (Flag changes the writer makes in place are not
	// seen by a reader, as in UW.)
	e.deliver(e.inbox(), "x@example.com", "late", "late\n")
	b.ok("NOOP")
	a.ok("NOOP").has(t, "* 3 EXISTS")
	a.ok("FETCH 1:* UID").exactly(t, "* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 4)")
	// Another expunge, with the reader between commands that may not
	// be told of it (FETCH): it learns at the next NOOP.
	b.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
	b.ok("EXPUNGE")
	a.ok("FETCH 2 UID").exactly(t, "* 2 FETCH (UID 3)")
	a.ok("NOOP").has(t, "* 1 EXPUNGE")
	a.ok("FETCH 1:* UID").exactly(t, "* 1 FETCH (UID 3)", "* 2 FETCH (UID 4)")
}

// TestSelectTakeoverDuringIdle: the kiss of death reaches an idling
// session too.
func TestSelectTakeoverDuringIdle(t *testing.T) {
	if !platform.SecondSelectTakesOver {
		t.Skip("the second session gets read-only access on this OS")
	}
	e := newEnv(t)
	a := e.login()
	a.ok("SELECT INBOX")
	a.idle()
	b := e.login()
	b.ok("SELECT INBOX").taggedIs(t, "OK [READ-WRITE] SELECT completed")
	if got := a.readEOF(); len(got) != 1 || got[0] != "* BYE Killed (lost mailbox lock)" {
		t.Errorf("idling session got %q", got)
	}
	b.ok("NOOP")
}

// TestExamineNewKeyword: a keyword another session writes into the file
// reaches a reader as "* FLAGS" before any FETCH shows it (RFC 3501
// 7.2.6); a read-only view gets no PERMANENTFLAGS.
func TestExamineNewKeyword(t *testing.T) {
	e := newEnv(t)
	stamp(e)
	a := e.login()
	a.ok("EXAMINE INBOX")
	b := e.login()
	b.ok("SELECT INBOX")
	b.ok(`STORE 1 +FLAGS.SILENT ($Label4)`)
	b.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`)
	b.ok("EXPUNGE")
	a.ok("NOOP").exactly(t,
		"* 2 EXPUNGE",
		`* FLAGS (\Answered \Flagged \Deleted \Draft \Seen $Label4)`,
		`* 1 FETCH (UID 1 FLAGS ($Label4))`)
	a.ok("FETCH 1 FLAGS").exactly(t, `* 1 FETCH (FLAGS ($Label4))`)
}

// TestSelectTakeoverRace: a command the client sent just before its
// session is told to let go must not be answered "NO No mailbox selected"
// (issue 9 item 8): the session says BYE and ends, whatever the order. The
// hooks hold the old session after it let the mailbox go and before its
// BYE until the client's FETCH has reached the session, the worst order
// (before the fix, the FETCH answered NO there).
func TestSelectTakeoverRace(t *testing.T) {
	if !platform.SecondSelectTakesOver {
		t.Skip("the second session gets read-only access on this OS")
	}
	e := newEnv(t)
	a := e.login()
	a.ok("SELECT INBOX")
	a.ok(`STORE 1 +FLAGS.SILENT (\Flagged)`)

	paused := make(chan struct{})
	proceed := make(chan struct{})
	fetching := make(chan struct{}, 1)
	var armed atomic.Bool
	remove := session.SetTestHooks(func(what string) {
		if what == "FETCH" && armed.Load() {
			select {
			case fetching <- struct{}{}:
			default:
			}
		}
	}, func() {
		close(paused)
		<-proceed
	})
	defer remove()

	b := e.login()
	b.send("B1 SELECT INBOX")
	<-paused // a has let go of INBOX and not yet said BYE
	armed.Store(true)
	a.send("A1 FETCH 1 FLAGS")
	a.send("A2 STORE 2 +FLAGS (\\Seen)")
	<-fetching // a's FETCH is at the session
	close(proceed)

	if got := a.readEOF(); !slices.Equal(got, []string{"* BYE Killed (lost mailbox lock)"}) {
		t.Errorf("the session that lost its mailbox got %q, want only the BYE", got)
	}
	r := b.collect("B1")
	r.taggedIs(t, "OK [READ-WRITE] SELECT completed")
	b.ok("FETCH 1:2 FLAGS").exactly(t, `* 1 FETCH (FLAGS (\Flagged))`, `* 2 FETCH (FLAGS ())`)
	e.waitClosed(1)
}

// TestSelectTakeoverPipelining: a client that has commands in flight when
// its session is told to let go still reads the BYE and then a clean end
// of the connection, not a reset (issue 9 item 7): the server shuts its
// write side down first and reads what the client still sends before it
// closes the socket.
func TestSelectTakeoverPipelining(t *testing.T) {
	if !platform.SecondSelectTakesOver {
		t.Skip("the second session gets read-only access on this OS")
	}
	e := newEnv(t)
	a := e.login()
	a.ok("SELECT INBOX")

	paused := make(chan struct{})
	proceed := make(chan struct{})
	remove := session.SetTestHooks(nil, func() {
		close(paused)
		<-proceed
	})
	defer remove()

	b := e.login()
	b.send("B1 SELECT INBOX")
	<-paused
	// Unread input on a's connection when its session ends: 64 KiB of
	// pipelined commands.
	var burst strings.Builder
	for i := 0; burst.Len() < 64<<10; i++ {
		fmt.Fprintf(&burst, "P%d FETCH 1:3 (FLAGS UID)\r\n", i)
	}
	a.sendRaw(burst.String())
	close(proceed)

	var got []string
	for {
		s, err := a.TryResponse()
		if err == io.EOF && s == "" {
			break
		}
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		got = append(got, s)
	}
	if !slices.Equal(got, []string{"* BYE Killed (lost mailbox lock)"}) {
		t.Errorf("got %q, want only the BYE", got)
	}
	b.collect("B1").taggedIs(t, "OK [READ-WRITE] SELECT completed")
}
