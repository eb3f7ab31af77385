package session_test

import (
	"slices"
	"strings"
	"testing"
)

func TestNamespace(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("NAMESPACE").exactly(t, `* NAMESPACE (("" "/")) NIL NIL`)
	r := c.ok("CAPABILITY")
	if len(r.Untagged) != 1 {
		t.Fatalf("CAPABILITY: %q", r.Untagged)
	}
	caps := strings.Fields(r.Untagged[0])
	for _, want := range []string{"IMAP4rev1", "CHILDREN", "IDLE", "LITERAL+", "MOVE", "NAMESPACE", "UIDPLUS", "UNSELECT"} {
		if !slices.Contains(caps, want) {
			t.Errorf("CAPABILITY lacks %s: %q", want, r.Untagged[0])
		}
	}
}
