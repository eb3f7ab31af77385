package session_test

import (
	"strings"
	"testing"
)

// UTF8=ACCEPT is not offered: a client that enables it anyway gets nothing
// enabled and keeps seeing (and naming) folders in modified UTF-7, so it
// can select what LIST shows it. (The IMAP library would have listed
// "Entwürfe" in UTF-8, which the input guard refuses as a name.)
func TestUTF8AcceptNotOffered(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	for _, r := range []*result{c.ok("CAPABILITY")} {
		if strings.Contains(r.Untagged[0]+" ", " UTF8=ACCEPT ") {
			t.Errorf("CAPABILITY %q", r.Untagged)
		}
	}
	if strings.Contains(c.Greeting, "UTF8=ACCEPT") {
		t.Errorf("greeting %q", c.Greeting)
	}
	c.ok(`CREATE "Entw&APw-rfe"`)
	c.ok("ENABLE UTF8=ACCEPT").exactly(t, "* ENABLED")
	listIs(t, c.ok(`LIST "" "Entw*"`), `* LIST (\Noinferiors) "/" "Entw&APw-rfe"`)
	c.ok(`SELECT "Entw&APw-rfe"`)
}
