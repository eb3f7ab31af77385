package session_test

import (
	"testing"
)

func TestSubscribe(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE a")
	c.ok("CREATE b/c")
	c.ok("SUBSCRIBE a").exactly(t)
	c.ok("SUBSCRIBE b/c")
	c.ok("SUBSCRIBE INBOX")
	c.ok("SUBSCRIBE a") // twice is fine
	c.no("SUBSCRIBE nosuch").taggedHas(t, "NO [NONEXISTENT] ")
	c.refused(`SUBSCRIBE "../x"`)

	if got := e.read(e.folder(".mailboxlist")); got != "a\nb/c\nINBOX\n" {
		t.Errorf(".mailboxlist: %q", got)
	}
	c.ok(`LSUB "" *`).exactly(t,
		`* LSUB () "/" "a"`,
		`* LSUB () "/" "b/c"`,
		`* LSUB (\Noinferiors) NIL INBOX`)
	c.ok(`LSUB "" %%`).exactly(t,
		`* LSUB () "/" "a"`,
		`* LSUB (\Noselect) "/" "b"`,
		`* LSUB (\Noinferiors) NIL INBOX`)
	c.ok(`LSUB "" b/*`).exactly(t, `* LSUB () "/" "b/c"`)
	// LIST-EXTENDED (RFC 5258): the names with their LIST attributes.
	listIs(t, c.ok(`LIST (SUBSCRIBED) "" *`),
		`* LIST (\Noinferiors \Subscribed) "/" "a"`,
		`* LIST (\Noinferiors \Subscribed) "/" "b/c"`,
		`* LIST (\Noinferiors \Subscribed) NIL INBOX`)

	// The subscription file is never a folder.
	listIs(t, c.ok(`LIST "" *`),
		`* LIST (\Noinferiors) "/" "a"`,
		`* LIST (\Noselect \HasChildren) "/" "b"`,
		`* LIST (\Noinferiors) "/" "b/c"`,
		`* LIST (\Noinferiors) NIL INBOX`)

	c.ok("UNSUBSCRIBE a").exactly(t)
	c.ok("UNSUBSCRIBE a")
	c.ok(`LSUB "" *`).exactly(t, `* LSUB () "/" "b/c"`, `* LSUB (\Noinferiors) NIL INBOX`)
	if got := e.read(e.folder(".mailboxlist")); got != "b/c\nINBOX\n" {
		t.Errorf(".mailboxlist: %q", got)
	}
}
