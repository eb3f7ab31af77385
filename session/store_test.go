package session_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStore(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")

	c.ok(`STORE 1 +FLAGS (\Seen \Flagged)`).exactly(t, `* 1 FETCH (FLAGS (\Recent \Seen \Flagged))`)
	c.ok(`STORE 1 -FLAGS (\Flagged)`).exactly(t, `* 1 FETCH (FLAGS (\Recent \Seen))`)
	c.ok(`STORE 1:2 FLAGS (\Answered \Draft)`).exactly(t,
		`* 1 FETCH (FLAGS (\Recent \Answered \Draft))`,
		`* 2 FETCH (FLAGS (\Recent \Answered \Draft))`)
	c.ok(`STORE 2 FLAGS ()`).exactly(t, `* 2 FETCH (FLAGS (\Recent))`)
	c.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`).exactly(t)
	c.ok(`STORE 2 -FLAGS.SILENT (\Deleted)`).exactly(t)
	c.ok(`STORE 3 FLAGS.SILENT (\Seen)`).exactly(t)
	// A single flag without parentheses; system flags in any case.
	c.ok(`STORE 3 +FLAGS \flagged`).exactly(t, `* 3 FETCH (FLAGS (\Recent \Seen \Flagged))`)
	// \Recent can't be set or cleared by a client.
	c.ok(`STORE 3 -FLAGS (\Recent)`).exactly(t, `* 3 FETCH (FLAGS (\Recent \Seen \Flagged))`)
	c.ok(`STORE 2 +FLAGS (\Recent)`).exactly(t, `* 2 FETCH (FLAGS (\Recent))`)

	// UID STORE says the UID.
	c.ok(`UID STORE 2 +FLAGS (\Seen)`).exactly(t, `* 2 FETCH (UID 2 FLAGS (\Recent \Seen))`)
	c.ok(`UID STORE 2:3 -FLAGS.SILENT (\Seen)`).exactly(t)
	c.ok(`UID STORE 99 +FLAGS (\Seen)`).exactly(t)
	c.ok("FETCH 1:3 FLAGS").exactly(t,
		`* 1 FETCH (FLAGS (\Recent \Answered \Draft))`,
		`* 2 FETCH (FLAGS (\Recent))`,
		`* 3 FETCH (FLAGS (\Recent \Flagged))`)

	// The file has them once CHECK is answered.
	c.ok("CHECK")
	if !mboxOnDisk() {
		if got := e.infos(e.inbox()); got != "DR,,F" {
			t.Errorf("maildir flags %q, want DR,,F", got)
		}
		return
	}
	status, xs := statusOf(e.read(e.inbox()))
	if strings.Join(status, ",") != "O,O,O" || strings.Join(xs, ",") != "AT,,F" {
		t.Errorf("file: Status %q X-Status %q", status, xs)
	}
}

// TestStoreKeywords: a new keyword extends the mailbox's FLAGS and
// PERMANENTFLAGS, announced before the FETCH that shows it (RFC 3501
// 7.2.6, as UW), and the keywords reach the file.
func TestStoreKeywords(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	r := c.ok(`STORE 3 +FLAGS ($Label1 Junk \Answered)`)
	r.exactly(t,
		`* FLAGS (\Answered \Flagged \Deleted \Draft \Seen $Label1 Junk)`,
		`* OK [PERMANENTFLAGS (\* \Answered \Flagged \Deleted \Draft \Seen $Label1 Junk)] Permanent flags`,
		`* 3 FETCH (FLAGS (\Recent \Answered $Label1 Junk))`)
	// A keyword the mailbox knows: no new FLAGS.
	c.ok(`STORE 1 +FLAGS (Junk)`).exactly(t, `* 1 FETCH (FLAGS (\Recent Junk))`)
	// Keywords are matched without regard to case (as UW).
	c.ok(`STORE 3 -FLAGS (junk)`).exactly(t, `* 3 FETCH (FLAGS (\Recent \Answered $Label1))`)
	c.ok(`STORE 3 +FLAGS (JUNK)`).exactly(t, `* 3 FETCH (FLAGS (\Recent \Answered $Label1 Junk))`)
	c.ok(`STORE 3 -FLAGS (Junk)`).exactly(t, `* 3 FETCH (FLAGS (\Recent \Answered $Label1))`)
	c.ok(`UID STORE 1 FLAGS (NonJunk)`).exactly(t,
		`* FLAGS (\Answered \Flagged \Deleted \Draft \Seen $Label1 Junk NonJunk)`,
		`* OK [PERMANENTFLAGS (\* \Answered \Flagged \Deleted \Draft \Seen $Label1 Junk NonJunk)] Permanent flags`,
		`* 1 FETCH (UID 1 FLAGS (\Recent NonJunk))`)

	c.ok("CHECK")
	if !mboxOnDisk() {
		if got := e.read(filepath.Join(e.inbox(), "imapd-keywords")); got != "$Label1\nJunk\nNonJunk\n" {
			t.Errorf("imapd-keywords %q", got)
		}
		if got := e.infos(e.inbox()); got != "c,,Ra" {
			t.Errorf("maildir flags %q", got)
		}
	} else {
		checkKeywordsMbox(t, e.read(e.inbox()))
	}

	// A new session sees them in FLAGS, PERMANENTFLAGS and FETCH.
	c.logout()
	c2 := e.login()
	c2.ok("SELECT INBOX").has(t,
		`* FLAGS (\Answered \Flagged \Deleted \Draft \Seen $Label1 Junk NonJunk)`,
		`* OK [PERMANENTFLAGS (\* \Answered \Flagged \Deleted \Draft \Seen $Label1 Junk NonJunk)] Permanent flags`)
	c2.ok("FETCH 1:3 FLAGS").exactly(t,
		`* 1 FETCH (FLAGS (NonJunk))`,
		`* 2 FETCH (FLAGS ())`,
		`* 3 FETCH (FLAGS (\Answered $Label1))`)
}

func TestStoreRefused(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("EXAMINE INBOX")
	r := c.no(`STORE 1 +FLAGS (\Seen)`)
	r.taggedHas(t, "NO [CANNOT] ")
	c.no(`UID STORE 1 +FLAGS (\Seen)`)

	c.ok("SELECT INBOX")
	r = c.bad(`STORE 1 +FLAGS (\Bogus)`)
	r.taggedIs(t, `BAD Unknown system flag \Bogus`)
	c.bad(`STORE 99 +FLAGS (\Seen)`).exactly(t)
	r = c.bad("STORE 1 +FLAGS (%s)", strings.Repeat("k", 51))
	r.taggedHas(t, "BAD Keyword ")
	c.bad(`STORE 1 +FLAGS (a(b)`)
	c.bad(`STORE 1 BOGUS (\Seen)`)
	c.bad(`STORE 1 +FLAGS`)
	// Nothing of the refused commands was applied.
	c.ok("FETCH 1 FLAGS").exactly(t, `* 1 FETCH (FLAGS (\Recent))`)
}

// TestStoreTooManyKeywords: a mailbox holds 30 keywords at most (UW's
// limit, kept in the file; 26 in a maildir, the letters a..z); the next is
// refused with a reason.
func TestStoreTooManyKeywords(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	limit := 30
	if !mboxOnDisk() {
		limit = 26
	}
	var kws []string
	for i := range limit {
		kws = append(kws, "kw"+string(rune('a'+i/10))+string(rune('0'+i%10)))
	}
	c.ok("STORE 1 +FLAGS.SILENT (%s)", strings.Join(kws, " "))
	r := c.no("STORE 2 +FLAGS (onetoomany)")
	r.taggedHas(t, "NO [LIMIT] ")
	c.ok("FETCH 2 FLAGS").exactly(t, `* 2 FETCH (FLAGS (\Recent))`)
}

// TestStoreSaved: flags stored are saved in batches (session/flush.go):
// not by the next command, but by CHECK, CLOSE, UNSELECT, EXPUNGE, SELECT
// of another mailbox, IDLE, LOGOUT, the end of the session for any
// reason, and the flush timer; the file then has them.
func TestStoreSaved(t *testing.T) {
	ends := []struct {
		name  string
		delay time.Duration // the session's FlushDelay
		end   func(e *env, c *client)
	}{
		{"CHECK", time.Hour, func(e *env, c *client) { c.ok("CHECK") }},
		{"CLOSE", time.Hour, func(e *env, c *client) { c.ok("CLOSE") }},
		{"UNSELECT", time.Hour, func(e *env, c *client) { c.ok("UNSELECT") }},
		{"EXPUNGE", time.Hour, func(e *env, c *client) { c.ok("EXPUNGE") }},
		{"SELECT other", time.Hour, func(e *env, c *client) { c.ok("SELECT other") }},
		{"LOGOUT", time.Hour, func(e *env, c *client) { c.logout() }},
		{"connection drop", time.Hour, func(e *env, c *client) { c.conn.Close(); e.waitClosed(1) }},
		{"server shutdown", time.Hour, func(e *env, c *client) { e.stop(); e.start() }},
		{"IDLE", time.Hour, func(e *env, c *client) {
			c.send("I1 IDLE")
			c.waitFor("+ idling") // saved before the continuation
		}},
		{"flush timer", 10 * time.Millisecond, func(e *env, c *client) {
			// Nothing to wait on but the file itself, for the whole state
			// checked below: the STORE's flags and the FETCH's \Seen may be
			// saved by two timers (a round trip over 10 ms between the
			// commands), so the keyword alone may be on disk before message
			// 3's \Seen. A maildir's flags are read from its names only:
			// reading the files races with the renames that save them.
			deadline := time.Now().Add(readLimit)
			saved := func() bool {
				if mboxOnDisk() {
					text := e.read(e.inbox())
					status, xs := statusOf(text)
					return strings.Join(status, ",") == "O,RO,RO" && strings.Join(xs, ",") == ",F," &&
						headerOf(text, 1, "X-Keywords") == "kw"
				}
				var infos []string
				for _, sub := range []string{"cur", "new"} {
					entries, _ := os.ReadDir(filepath.Join(e.inbox(), sub))
					for _, de := range entries {
						_, info, _ := strings.Cut(de.Name(), maildirInfoSep+"2,")
						infos = append(infos, info)
					}
				}
				slices.Sort(infos)
				return slices.Equal(infos, []string{"", "FSa", "S"})
			}
			for time.Now().Before(deadline) && !saved() {
				time.Sleep(5 * time.Millisecond)
			}
		}},
	}
	for _, tc := range ends {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.stop() // (the server reads deps)
			e.deps.FlushDelay = tc.delay
			e.start()
			c := e.login()
			c.ok("CREATE other")
			c.ok("SELECT INBOX")
			before := e.snapshot(e.inbox())
			c.ok(`STORE 2 +FLAGS.SILENT (\Flagged \Seen kw)`)
			c.ok("FETCH 3 BODY[TEXT]")
			if tc.delay > time.Minute {
				// A command that does not save leaves the file alone.
				c.ok("NOOP")
				if e.snapshot(e.inbox()) != before {
					t.Errorf("NOOP wrote the file")
				}
			}
			tc.end(e, c)
			if !mboxOnDisk() {
				if got := e.infos(e.inbox()); got != ",FSa,S" {
					t.Errorf("maildir flags %q", got)
				}
				return
			}
			text := e.read(e.inbox())
			status, xs := statusOf(text)
			if strings.Join(status, ",") != "O,RO,RO" || strings.Join(xs, ",") != ",F," {
				t.Errorf("Status %q X-Status %q", status, xs)
			}
			if got := headerOf(text, 1, "X-Keywords"); got != "kw" {
				t.Errorf("X-Keywords %q", got)
			}
		})
	}
}

// checkKeywordsMbox checks the drop file TestStoreKeywords wrote.
func checkKeywordsMbox(t *testing.T, text string) {
	t.Helper()
	if got := headerOf(text, 0, "X-IMAPbase"); !strings.HasSuffix(got, " $Label1 Junk NonJunk") {
		t.Errorf("X-IMAPbase %q, want the keywords", got)
	}
	if got := headerOf(text, 0, "X-Keywords"); got != "NonJunk" {
		t.Errorf("message 1 X-Keywords %q", got)
	}
	if got := headerOf(text, 2, "X-Keywords"); got != "$Label1" {
		t.Errorf("message 3 X-Keywords %q", got)
	}
}
