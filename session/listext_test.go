package session_test

import (
	"strings"
	"testing"
)

// LIST-EXTENDED (RFC 5258), over a real connection, on a tree shaped after
// the RFC's examples (section 5). Folders hold messages or folders, not
// both, so "Fruit" and "Vegetable" are folders of folders here.
// Subscribed: INBOX, Fruit/banana, Fruit/peach (deleted since), Tofu,
// Vegetable/broccoli, Gone/x (deleted since, with Gone).
func listExtTree(t *testing.T) (*env, *client) {
	e := newEnv(t)
	c := e.login()
	for _, f := range []string{"Fruit/apple", "Fruit/banana", "Fruit/peach", "Tofu", "Vegetable/broccoli", "Vegetable/corn", "Gone/x"} {
		c.ok("CREATE %s", f)
	}
	for _, f := range []string{"INBOX", "Fruit/banana", "Fruit/peach", "Tofu", "Vegetable/broccoli", "Gone/x"} {
		c.ok("SUBSCRIBE %s", f)
	}
	c.ok("DELETE Fruit/peach")
	c.ok("DELETE Gone/x")
	c.ok("DELETE Gone")
	return e, c
}

func TestListExtendedAdvertised(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	if r := c.ok("CAPABILITY"); !strings.Contains(r.Untagged[0]+" ", " LIST-EXTENDED ") {
		t.Errorf("CAPABILITY %q lacks LIST-EXTENDED", r.Untagged)
	}
}

// RFC 5258 5, example 2: LIST (SUBSCRIBED) gives the subscribed names with
// \Subscribed and their attributes; a name that no longer exists is
// \NonExistent.
func TestListExtendedSubscribed(t *testing.T) {
	_, c := listExtTree(t)
	listIs(t, c.ok(`LIST (SUBSCRIBED) "" "*"`),
		`* LIST (\Noinferiors \Subscribed) NIL INBOX`,
		`* LIST (\Noinferiors \Subscribed) "/" "Fruit/banana"`,
		`* LIST (\NonExistent \Subscribed) "/" "Fruit/peach"`,
		`* LIST (\Noinferiors \Subscribed) "/" "Tofu"`,
		`* LIST (\Noinferiors \Subscribed) "/" "Vegetable/broccoli"`,
		`* LIST (\NonExistent \Subscribed) "/" "Gone/x"`)
	// Unlike LSUB, "%%" adds no levels above subscribed names.
	listIs(t, c.ok(`LIST (SUBSCRIBED) "" "%%"`),
		`* LIST (\Noinferiors \Subscribed) NIL INBOX`,
		`* LIST (\Noinferiors \Subscribed) "/" "Tofu"`)
	listIs(t, c.ok(`LSUB "" "%%"`),
		`* LSUB (\Noinferiors) NIL INBOX`,
		`* LSUB (\Noselect) "/" "Fruit"`,
		`* LSUB () "/" "Tofu"`,
		`* LSUB (\Noselect) "/" "Vegetable"`,
		`* LSUB (\Noselect) "/" "Gone"`)
	// REMOTE changes nothing: there are no remote mailboxes.
	listIs(t, c.ok(`LIST (REMOTE SUBSCRIBED) "" "Fruit/*"`),
		`* LIST (\Noinferiors \Subscribed) "/" "Fruit/banana"`,
		`* LIST (\NonExistent \Subscribed) "/" "Fruit/peach"`)
	// With LIST-STATUS: a status for those that exist.
	listIs(t, c.ok(`LIST (SUBSCRIBED) "" "Fruit/*" RETURN (STATUS (MESSAGES))`),
		`* LIST (\Noinferiors \Subscribed) "/" "Fruit/banana"`,
		`* STATUS "Fruit/banana" (MESSAGES 0)`,
		`* LIST (\NonExistent \Subscribed) "/" "Fruit/peach"`)
}

// RFC 5258 5, examples 3 and 6: RETURN (CHILDREN), RETURN (SUBSCRIBED) and
// several patterns.
func TestListExtendedReturn(t *testing.T) {
	_, c := listExtTree(t)
	listIs(t, c.ok(`LIST () "" "%%" RETURN (CHILDREN)`),
		`* LIST (\Noselect \HasChildren) "/" "Fruit"`,
		`* LIST (\Noinferiors) "/" "Tofu"`,
		`* LIST (\Noselect \HasChildren) "/" "Vegetable"`,
		`* LIST (\Noinferiors) NIL INBOX`)
	listIs(t, c.ok(`LIST "" ("INBOX" "Fruit/%%" "Tofu") RETURN (SUBSCRIBED CHILDREN)`),
		`* LIST (\Noinferiors) "/" "Fruit/apple"`,
		`* LIST (\Noinferiors \Subscribed) "/" "Fruit/banana"`,
		`* LIST (\Noinferiors \Subscribed) "/" "Tofu"`,
		`* LIST (\Noinferiors \Subscribed) NIL INBOX`)
	listIs(t, c.ok(`LIST "" ("Vegetable/*" "*corn") RETURN (SUBSCRIBED)`),
		`* LIST (\Noinferiors \Subscribed) "/" "Vegetable/broccoli"`,
		`* LIST (\Noinferiors) "/" "Vegetable/corn"`)
}

// RFC 5258 5, examples 8 and 9: RECURSIVEMATCH lists the names that match
// and have a subscribed name below them, with CHILDINFO ("SUBSCRIBED").
func TestListExtendedRecursiveMatch(t *testing.T) {
	_, c := listExtTree(t)
	listIs(t, c.ok(`LIST (SUBSCRIBED RECURSIVEMATCH) "" "%%"`),
		`* LIST (\Noinferiors \Subscribed) NIL INBOX`,
		`* LIST (\Noselect \HasChildren) "/" "Fruit" (CHILDINFO ("SUBSCRIBED"))`,
		`* LIST (\Noinferiors \Subscribed) "/" "Tofu"`,
		`* LIST (\Noselect \HasChildren) "/" "Vegetable" (CHILDINFO ("SUBSCRIBED"))`,
		`* LIST (\NonExistent) "/" "Gone" (CHILDINFO ("SUBSCRIBED"))`)
	listIs(t, c.ok(`LIST (SUBSCRIBED RECURSIVEMATCH) "" "Fruit*" RETURN (CHILDREN)`),
		`* LIST (\Noselect \HasChildren) "/" "Fruit" (CHILDINFO ("SUBSCRIBED"))`,
		`* LIST (\Noinferiors \Subscribed) "/" "Fruit/banana"`,
		`* LIST (\NonExistent \Subscribed) "/" "Fruit/peach"`)
	// Without a subscribed name below, nothing is added.
	listIs(t, c.ok(`LIST (SUBSCRIBED RECURSIVEMATCH) "" "T%%"`),
		`* LIST (\Noinferiors \Subscribed) "/" "Tofu"`)
	// RECURSIVEMATCH alone, and unknown options, are BAD (RFC 5258 3).
	c.bad(`LIST (RECURSIVEMATCH) "" "%%"`).exactly(t)
	c.bad(`LIST (BOGUS) "" "%%"`).exactly(t)
	c.bad(`LIST () "" "%%" RETURN (BOGUS)`).exactly(t)
	c.bad(`LIST () "" ()`).exactly(t)
}
