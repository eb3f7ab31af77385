package session_test

import (
	"strings"
	"testing"
)

// SEARCHRES (RFC 5182), over a real connection. The folder "s" of
// searchEnv: 6 messages; 1 \Seen \Flagged kw1, 2 \Deleted \Answered,
// 3 \Draft \Seen; UIDs 1 to 6.

func TestSearchResAdvertised(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	if r := c.ok("CAPABILITY"); !strings.Contains(r.Untagged[0]+" ", " SEARCHRES ") {
		t.Errorf("CAPABILITY %q lacks SEARCHRES", r.Untagged)
	}
}

// RFC 5182 2.2, example 1: SEARCH RETURN (SAVE) answers nothing but the
// tagged OK; FETCH $ fetches what it found.
func TestSearchResSaveThenFetch(t *testing.T) {
	_, c := searchEnv(t)
	c.ok(`SEARCH RETURN (SAVE) SEEN SINCE 1-Feb-1994 NOT FROM "Smith"`).exactly(t)
	c.ok("FETCH $ (UID FLAGS)").exactly(t,
		`* 1 FETCH (UID 1 FLAGS (\Recent \Seen \Flagged kw1))`,
		`* 3 FETCH (UID 3 FLAGS (\Recent \Seen \Draft))`)
	// A SEARCH without SAVE leaves "$" alone.
	c.ok("SEARCH DELETED").exactly(t, "* SEARCH 2")
	c.ok("UID FETCH $ (FLAGS)").exactly(t,
		`* 1 FETCH (UID 1 FLAGS (\Recent \Seen \Flagged kw1))`,
		`* 3 FETCH (UID 3 FLAGS (\Recent \Seen \Draft))`)
}

// RFC 5182 2.3: SEARCH ... SAVE and the commands using "$" may be
// pipelined; they run in order.
func TestSearchResPipelined(t *testing.T) {
	_, c := searchEnv(t)
	c.sendRaw("p1 SEARCH RETURN (SAVE) FLAGGED\r\np2 FETCH $ (UID)\r\np3 STORE $ +FLAGS (\\Answered)\r\n")
	var got []string
	for {
		l := c.readResponse()
		got = append(got, l)
		if strings.HasPrefix(l, "p3 ") {
			break
		}
	}
	want := []string{
		"p1 OK SEARCH completed",
		"* 1 FETCH (UID 1)",
		"p2 OK FETCH completed",
		`* 1 FETCH (FLAGS (\Recent \Seen \Answered \Flagged kw1))`,
		"p3 OK STORE completed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("pipelined:\n got %q\nwant %q", got, want)
	}
}

// "$" means the same messages in sequence-number and UID commands: STORE $
// answers like STORE (no UID), UID STORE $ like UID STORE.
func TestSearchResUIDAndSeq(t *testing.T) {
	_, c := searchEnv(t)
	c.ok("UID SEARCH RETURN (SAVE) UNSEEN").exactly(t)
	c.ok(`STORE $ +FLAGS (\Flagged)`).exactly(t,
		`* 2 FETCH (FLAGS (\Recent \Answered \Flagged \Deleted))`,
		`* 4 FETCH (FLAGS (\Recent \Flagged))`,
		`* 5 FETCH (FLAGS (\Recent \Flagged))`,
		`* 6 FETCH (FLAGS (\Recent \Flagged))`)
	c.ok(`UID STORE $ -FLAGS (\Flagged)`).exactly(t,
		`* 2 FETCH (UID 2 FLAGS (\Recent \Answered \Deleted))`,
		`* 4 FETCH (UID 4 FLAGS (\Recent))`,
		`* 5 FETCH (UID 5 FLAGS (\Recent))`,
		`* 6 FETCH (UID 6 FLAGS (\Recent))`)
	// As a search key, alone, with others, under NOT and OR, and after UID.
	c.ok("SEARCH $").exactly(t, "* SEARCH 2 4 5 6")
	c.ok("SEARCH $ DELETED").exactly(t, "* SEARCH 2")
	c.ok("SEARCH NOT $").exactly(t, "* SEARCH 1 3")
	c.ok("SEARCH OR $ 1").exactly(t, "* SEARCH 1 2 4 5 6")
	c.ok("UID SEARCH UID $ UNDELETED").exactly(t, "* SEARCH 4 5 6")
	// A SAVE that uses "$" refines it.
	c.ok("SEARCH RETURN (SAVE) $ UNDELETED").exactly(t)
	c.ok("FETCH $ (UID)").exactly(t, "* 4 FETCH (UID 4)", "* 5 FETCH (UID 5)", "* 6 FETCH (UID 6)")
}

// RFC 5182 2.4: SAVE with other return options answers them in ESEARCH;
// with only MIN and/or MAX, "$" holds just those messages.
func TestSearchResWithESearch(t *testing.T) {
	_, c := searchEnv(t)
	okTagged(t, c, "T001", "SEARCH RETURN (SAVE MIN MAX) UNSEEN").exactly(t, `* ESEARCH (TAG "T001") MIN 2 MAX 6`)
	c.ok("FETCH $ (UID)").exactly(t, "* 2 FETCH (UID 2)", "* 6 FETCH (UID 6)")
	okTagged(t, c, "T003", "SEARCH RETURN (MIN SAVE) UNSEEN").exactly(t, `* ESEARCH (TAG "T003") MIN 2`)
	c.ok("FETCH $ (UID)").exactly(t, "* 2 FETCH (UID 2)")
	okTagged(t, c, "T005", "SEARCH RETURN (SAVE MAX COUNT) UNSEEN").exactly(t, `* ESEARCH (TAG "T005") MAX 6 COUNT 4`)
	c.ok("FETCH $ (UID)").exactly(t, "* 2 FETCH (UID 2)", "* 4 FETCH (UID 4)", "* 5 FETCH (UID 5)", "* 6 FETCH (UID 6)")
	okTagged(t, c, "T007", "UID SEARCH RETURN (ALL SAVE) SEEN").exactly(t, `* ESEARCH (TAG "T007") UID ALL 1,3`)
	c.ok("FETCH $ (UID)").exactly(t, "* 1 FETCH (UID 1)", "* 3 FETCH (UID 3)")
	// Nothing found: "$" is empty, valid, and matches nothing.
	c.ok("SEARCH RETURN (SAVE) KEYWORD nosuch").exactly(t)
	c.ok("FETCH $ (UID)").exactly(t)
	c.ok("SEARCH $").exactly(t, "* SEARCH")
	c.ok(`STORE $ +FLAGS (\Seen)`).exactly(t)
}

// RFC 5182 2.1: "$" follows expunges (it holds messages, not numbers),
// COPY and MOVE take it, UID EXPUNGE $ removes exactly it, and a new
// SELECT empties it.
func TestSearchResExpungeCopySelect(t *testing.T) {
	_, c := searchEnv(t)
	c.ok("CREATE t")
	c.ok("SEARCH RETURN (SAVE) 1:4").exactly(t)
	c.ok("EXPUNGE").exactly(t, "* 2 EXPUNGE")
	c.ok("FETCH $ (UID)").exactly(t, "* 1 FETCH (UID 1)", "* 2 FETCH (UID 3)", "* 3 FETCH (UID 4)")
	c.ok("COPY $ t").taggedHas(t, "OK [COPYUID ")
	c.ok(`STORE $ +FLAGS.SILENT (\Deleted)`).exactly(t)
	c.ok("UID EXPUNGE $").exactly(t, "* 1 EXPUNGE", "* 1 EXPUNGE", "* 1 EXPUNGE")
	c.ok("FETCH 1:* (UID)").exactly(t, "* 1 FETCH (UID 5)", "* 2 FETCH (UID 6)")
	c.ok("SEARCH RETURN (SAVE) ALL").exactly(t)
	c.ok("MOVE $ t").has(t, "* 1 EXPUNGE")
	c.ok("STATUS t (MESSAGES)").exactly(t, `* STATUS "t" (MESSAGES 5)`)
	c.ok("SELECT t")
	c.ok("FETCH $ (UID)").exactly(t)
	c.ok("SEARCH RETURN (SAVE) 2").exactly(t)
	c.ok("UNSELECT")
	c.ok("EXAMINE t")
	c.ok("FETCH $ (UID)").exactly(t)
}

// Before any SAVE, "$" is empty; hostile forms of it are BAD (the guard);
// a BAD SEARCH ... SAVE leaves "$" alone.
func TestSearchResEdges(t *testing.T) {
	_, c := searchEnv(t)
	c.ok("FETCH $ (UID)").exactly(t)
	c.ok("UID EXPUNGE $").exactly(t)
	c.ok("SEARCH RETURN (SAVE) 5").exactly(t)
	for _, bad := range []string{"FETCH $5 (UID)", "FETCH 1,$ (UID)", "SEARCH $:2", "SEARCH RETURN (SAVE) FROBNICATE", "SEARCH RETURN (SAVE"} {
		c.bad("%s", bad)
	}
	c.ok("FETCH $ (UID)").exactly(t, "* 5 FETCH (UID 5)")
}

// okTagged runs a command with the given tag (for answers that name it).
func okTagged(t *testing.T, c *client, tag, command string) *result {
	t.Helper()
	r := &result{c.Tagged(tag, command)}
	if r.Status != "OK" {
		t.Fatalf("%s: %s", command, r.Tagged)
	}
	return r
}

// A SEARCH ... SAVE answered NO (an unknown charset) empties "$"
// (RFC 5182 2.1); one without SAVE leaves it alone.
func TestSearchResBadCharset(t *testing.T) {
	_, c := searchEnv(t)
	c.ok("SEARCH RETURN (SAVE) 5").exactly(t)
	c.no("SEARCH RETURN (SAVE) CHARSET KOI8-R ALL").taggedHas(t, "NO [BADCHARSET] ")
	c.ok("FETCH $ (UID)").exactly(t)
	c.ok("SEARCH RETURN (SAVE) 4").exactly(t)
	c.no("SEARCH CHARSET KOI8-R ALL")
	c.ok("FETCH $ (UID)").exactly(t, "* 4 FETCH (UID 4)")
	c.ok("SEARCH RETURN (SAVE) CHARSET utf-8 5").exactly(t)
	c.ok("FETCH $ (UID)").exactly(t, "* 5 FETCH (UID 5)")
}
