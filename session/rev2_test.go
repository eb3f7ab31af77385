package session_test

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// IMAP4rev2 (RFC 9051) next to IMAP4rev1, over a real connection: after
// ENABLE IMAP4rev2 mailbox names travel in UTF-8 both ways (either form
// is taken), SELECT has no RECENT, FETCH FLAGS no \Recent, SEARCH answers
// ESEARCH and refuses RECENT/NEW/OLD, SELECT of another mailbox sends
// [CLOSED].
func TestIMAP4rev2(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	caps := c.ok("CAPABILITY").Untagged[0] + " "
	for _, want := range []string{" IMAP4rev1 ", " IMAP4rev2 ", " ENABLE "} {
		if !strings.Contains(caps, want) {
			t.Errorf("CAPABILITY lacks%s: %q", want, caps)
		}
	}
	c.ok(`CREATE "Entw&APw-rfe"`)
	c.ok("ENABLE IMAP4rev2").exactly(t, "* ENABLED IMAP4rev2")

	// RFC 9051 5.1: names in UTF-8; "&" goes as "&-" (the IMAP library's
	// escape, which it reads back).
	listIs(t, c.ok(`LIST "" "Entw*"`), `* LIST (\Noinferiors) "/" "Entwürfe"`)
	c.ok(`STATUS "Entwürfe" (MESSAGES)`).exactly(t, `* STATUS "Entwürfe" (MESSAGES 0)`)
	c.ok(`STATUS "Entw&APw-rfe" (MESSAGES)`).exactly(t, `* STATUS "Entwürfe" (MESSAGES 0)`)
	c.no(`CREATE "Entwürfe"`)
	if r := c.ok(`GETQUOTAROOT "Entwürfe"`); len(r.Untagged) == 0 || !strings.HasPrefix(r.Untagged[0], `* QUOTAROOT "Entwürfe"`) {
		t.Errorf("GETQUOTAROOT in UTF-8: %q", r.Untagged)
	}
	c.ok(`CREATE "日本語"`)
	// Stored under its modified UTF-7 name, as the legacy IMAPD names it.
	if _, err := os.Stat(e.folder("&ZeVnLIqe-")); err != nil {
		t.Errorf("CREATE in UTF-8: %v", err)
	}
	listIs(t, c.ok(`LIST "" "日*"`), `* LIST (\Noinferiors) "/" "日本語"`)
	c.ok(`CREATE "a&-b"`)
	listIs(t, c.ok(`LIST "" "a&-*"`), `* LIST (\Noinferiors) "/" "a&-b"`)
	c.ok(`RENAME "日本語" "Журнал"`)
	listIs(t, c.ok(`LIST "" "Ж*"`), `* LIST (\Noinferiors) "/" "Журнал"`)
	// Hostile names: control characters (C1 too), overlong forms,
	// surrogates, a bare "&", UTF-8 inside a shift.
	for _, name := range []string{"a\u0085b", "\xc0\xaf", "\xed\xa0\x80", "a&b", "&APw\u00fc-", "a\u007fb", "\xff"} {
		c.bad(`CREATE "%s"`, name)
		c.bad(`SELECT "%s"`, name)
	}
	c.bad("CREATE {3+}\r\na\x00b")
	// The limits are those of the stored (modified UTF-7) name, whichever
	// form the client sent: one level of 200 "ü" is too long either way.
	c.no(`CREATE "%s"`, strings.Repeat("ü", 200))
	c.no(`CREATE "&%s-"`, strings.Repeat("APwA,AD8", 66)+"APw")

	r := c.ok("SELECT INBOX")
	// RFC 9051 6.3.2: SELECT sends the mailbox's LIST response.
	r.has(t, `* LIST (\Noinferiors) NIL INBOX`)
	for _, l := range r.Untagged {
		if strings.HasSuffix(l, " RECENT") {
			t.Errorf("SELECT under IMAP4rev2 has %q", l)
		}
	}
	for _, l := range c.ok("FETCH 1:* FLAGS").Untagged {
		if strings.Contains(l, `\Recent`) {
			t.Errorf("FETCH FLAGS under IMAP4rev2: %q", l)
		}
	}
	for _, l := range c.ok(`STORE 1 +FLAGS (\Flagged)`).Untagged {
		if strings.Contains(l, `\Recent`) {
			t.Errorf("STORE under IMAP4rev2: %q", l)
		}
	}
	// RFC 9051 6.4.4: "* ESEARCH (TAG ...)" for every SEARCH.
	r = c.ok("SEARCH ALL")
	if want := `* ESEARCH (TAG "` + r.Tag + `") ALL 1:3`; !slices.Equal(r.Untagged, []string{want}) {
		t.Errorf("SEARCH ALL: %q, want %q", r.Untagged, want)
	}
	r = c.ok("UID SEARCH FLAGGED")
	if want := `* ESEARCH (TAG "` + r.Tag + `") UID ALL 1`; !slices.Equal(r.Untagged, []string{want}) {
		t.Errorf("UID SEARCH FLAGGED: %q, want %q", r.Untagged, want)
	}
	// SEARCHRES under IMAP4rev2: SAVE alone still has no ESEARCH answer.
	c.ok("SEARCH RETURN (SAVE) FLAGGED").exactly(t)
	c.ok("FETCH $ (UID)").exactly(t, "* 1 FETCH (UID 1)")
	for _, key := range []string{"RECENT", "NEW", "OLD", "NOT NEW"} {
		c.bad("SEARCH %s", key)
	}
	// New mail: EXISTS without RECENT (RFC 9051 7.4.1 has no RECENT).
	e.deliver(e.inbox(), "x@example.com", "new", "new\n")
	c.ok("NOOP").exactly(t, "* 4 EXISTS")
	c.ok(`COPY 1:2 "Entwürfe"`)
	c.ok(`STATUS "Entwürfe" (MESSAGES DELETED)`).exactly(t, `* STATUS "Entwürfe" (MESSAGES 2 DELETED 0)`)
	c.ok(`STORE 2 +FLAGS.SILENT (\Deleted)`)
	c.ok("EXPUNGE").exactly(t, "* 2 EXPUNGE")
	// RFC 9051 7.1: [CLOSED] before the new mailbox's data.
	r = c.ok(`SELECT "Entwürfe"`)
	if len(r.Untagged) == 0 || r.Untagged[0] != "* OK [CLOSED] Previous mailbox is now closed" {
		t.Errorf("SELECT of another mailbox: %q", r.Untagged)
	}
	r.has(t, "* 2 EXISTS", `* LIST (\Noinferiors \Unmarked) "/" "Entwürfe"`)
	c.ok("UNSELECT")
	c.ok(`DELETE "Журнал"`)
	listIs(t, c.ok(`LIST "" "Ж*"`))
}

// ENABLE IMAP4rev2 pipelined with the commands it changes: each command
// after it is read and answered as IMAP4rev2 (the guard and the session
// follow go-imap's state, learnt before each command is judged).
func TestIMAP4rev2Pipelined(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok(`CREATE "Entw&APw-rfe"`)
	c.sendRaw("p1 SELECT INBOX\r\np2 ENABLE IMAP4rev2\r\np3 FETCH 1 FLAGS\r\np4 SEARCH NEW\r\np5 LIST \"\" \"Entwü*\"\r\np6 STATUS \"Entwürfe\" (MESSAGES)\r\n")
	c.collect("p1").taggedHas(t, "OK")
	c.collect("p2").exactly(t, "* ENABLED IMAP4rev2")
	r := c.collect("p3")
	r.taggedHas(t, "OK")
	for _, l := range r.Untagged {
		if strings.Contains(l, `\Recent`) {
			t.Errorf("FETCH FLAGS right after ENABLE IMAP4rev2: %q", l)
		}
	}
	c.collect("p4").taggedHas(t, "BAD")
	listIs(t, c.collect("p5"), `* LIST (\Noinferiors) "/" "Entwürfe"`)
	c.collect("p6").exactly(t, `* STATUS "Entwürfe" (MESSAGES 0)`)
}
