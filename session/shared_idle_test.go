package session_test

import (
	"testing"
	"time"
)

// sharedPair: two sessions of alice with INBOX (the 3 demo messages)
// selected read-write in one process, with imapd_shared_mailboxes; IDLE
// looks at the file only once an hour, so what an idling session learns
// comes from the other session waking it (the tracker).
func sharedPair(t *testing.T) (a, b *client) {
	e := newEnv(t, "imapd_shared_mailboxes true")
	e.stop() // served again with a new IdlePoll
	e.deps.IdlePoll = time.Hour
	e.start()
	a, b = e.login(), e.login()
	a.ok("SELECT INBOX").taggedIs(t, "OK [READ-WRITE] SELECT completed")
	r := b.ok("SELECT INBOX")
	r.taggedIs(t, "OK [READ-WRITE] SELECT completed")
	r.lacks(t, "* NO Trying")
	return a, b
}

// TestSharedIdleWakes: an idling session is told at once of the other
// session's flag change, new message and expunge.
func TestSharedIdleWakes(t *testing.T) {
	a, b := sharedPair(t)
	a.send("I1 IDLE")
	a.waitFor("+ idling")
	b.ok(`STORE 2 +FLAGS (\Flagged)`).has(t, `* 2 FETCH (FLAGS (\Flagged))`)
	b.ok("CHECK") // flags are saved in batches: now
	a.waitFor(`* 2 FETCH (UID 2 FLAGS (\Recent \Flagged))`)
	b.ok("APPEND INBOX {%d+}\r\n%s", len(appendMsg), appendMsg)
	a.waitFor("* 4 EXISTS")
	b.ok(`STORE 1 +FLAGS (\Deleted)`)
	b.ok("EXPUNGE").has(t, "* 1 EXPUNGE")
	a.waitFor("* 1 EXPUNGE")
	a.send("DONE")
	a.waitFor("I1 OK IDLE completed")
	a.ok("UID FETCH 1:* (FLAGS)").exactly(t,
		`* 1 FETCH (UID 2 FLAGS (\Recent \Flagged))`,
		`* 2 FETCH (UID 3 FLAGS (\Recent))`,
		`* 3 FETCH (UID 4 FLAGS ())`) // \Recent went to the appending session
}

// TestSharedExpungeWaits: a message the other session expunged keeps its
// number during commands that use sequence numbers (its body refused with
// NO [EXPUNGEISSUED]); the next command that may say EXPUNGE does.
func TestSharedExpungeWaits(t *testing.T) {
	a, b := sharedPair(t)
	b.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`)
	b.ok("EXPUNGE").exactly(t, "* 2 EXPUNGE")
	a.ok("FETCH 1:3 (UID)").exactly(t,
		"* 1 FETCH (UID 1)",
		"* 2 FETCH (UID 2)",
		"* 3 FETCH (UID 3)")
	r := a.no("FETCH 2 (BODY.PEEK[])")
	r.taggedHas(t, "NO [EXPUNGEISSUED]")
	r.lacks(t, "* 2 EXPUNGE")
	a.ok(`STORE 3 +FLAGS (\Seen)`).exactly(t, `* 3 FETCH (FLAGS (\Recent \Seen))`)
	a.ok("NOOP").has(t, "* 2 EXPUNGE")
	a.ok("FETCH 1:* (UID FLAGS)").exactly(t,
		`* 1 FETCH (UID 1 FLAGS (\Recent))`,
		`* 2 FETCH (UID 3 FLAGS (\Recent \Seen))`)
	a.ok("CHECK")
	b.ok("NOOP").has(t, `* 2 FETCH (UID 3 FLAGS (\Seen))`)
}
