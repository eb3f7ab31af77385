package session_test

import (
	"os"
	"testing"
)

func TestDelete(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE a")
	c.ok("CREATE b/c")
	c.ok("CREATE d/")

	c.ok("DELETE a").exactly(t)
	if _, err := os.Stat(e.folder("a")); !os.IsNotExist(err) {
		t.Errorf("a still there: %v", err)
	}
	c.no("DELETE b").taggedHas(t, "NO [HASCHILDREN] ")
	c.ok("DELETE b/c")
	c.ok("DELETE b")
	c.ok("DELETE d")
	c.no("DELETE nosuch").taggedHas(t, "NO [NONEXISTENT] ")
	c.no("DELETE a").taggedHas(t, "NO [NONEXISTENT] ")
	c.no("DELETE INBOX")
	c.no("DELETE inbox")
	c.refused(`DELETE "../alice"`)
	c.refused(`DELETE "/etc/passwd"`)
	c.refused(`DELETE .mailboxlist`)
	listIs(t, c.ok(`LIST "" *`), `* LIST (\Noinferiors) NIL INBOX`)
	if _, err := os.Stat(e.inbox()); err != nil {
		t.Errorf("drop file: %v", err)
	}
}

// TestDeleteInUse: a folder another session has selected can't be deleted
// (the manual's note on Outlook Express); once it lets go, it can.
func TestDeleteInUse(t *testing.T) {
	e := newEnv(t)
	a := e.login()
	a.ok("CREATE f")
	a.ok("SELECT f")

	b := e.login()
	r := b.no("DELETE f")
	r.taggedHas(t, "NO [INUSE] ")
	// Its own selected folder neither.
	a.no("DELETE f").taggedHas(t, "NO [INUSE] ")

	a.ok("UNSELECT")
	b.ok("DELETE f")
	a.no("SELECT f").taggedHas(t, "NO [NONEXISTENT] ")
}
