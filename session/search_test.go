package session_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
)

// searchEnv: folder "s" with 5 messages from mboxOf (internal date and Date
// header on the i-th of November 2026), plus one with an encoded subject.
func searchEnv(t *testing.T) (*env, *client) {
	e := newEnv(t)
	e.fill(e.folder("s"), mboxOf(5)+
		"From x@example.com Fri Nov 20 10:00:00 2026\n"+
		"From: =?utf-8?q?J=C3=BCrgen?= <j@example.com>\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\n"+
		"Date: Fri, 20 Nov 2026 10:00:00 +0100\n\nGrüße aus Köln\n"+strBig+"\n\n")
	c := e.login()
	c.ok("SELECT s").has(t, "* 6 EXISTS")
	c.ok(`STORE 1 +FLAGS.SILENT (\Seen \Flagged kw1)`)
	c.ok(`STORE 2 +FLAGS.SILENT (\Deleted \Answered)`)
	c.ok(`STORE 3 +FLAGS.SILENT (\Draft \Seen)`)
	return e, c
}

var strBig = fmt.Sprintf("%0500d", 0)

func TestSearch(t *testing.T) {
	_, c := searchEnv(t)
	cases := []struct{ query, want string }{
		{"ALL", "1 2 3 4 5 6"},
		{"2:4", "2 3 4"},
		{"2,4:*", "2 4 5 6"},
		{"99", ""},
		{"UID 2,4", "2 4"},
		{"UID 5:*", "5 6"},
		{"SEEN", "1 3"},
		{"UNSEEN", "2 4 5 6"},
		{"FLAGGED", "1"},
		{"UNFLAGGED", "2 3 4 5 6"},
		{"DELETED", "2"},
		{"UNDELETED", "1 3 4 5 6"},
		{"ANSWERED", "2"},
		{"UNANSWERED", "1 3 4 5 6"},
		{"DRAFT", "3"},
		{"UNDRAFT", "1 2 4 5 6"},
		{"KEYWORD kw1", "1"},
		{"KEYWORD KW1", "1"},
		{"UNKEYWORD kw1", "2 3 4 5 6"},
		{"KEYWORD nosuch", ""},
		{"RECENT", "1 2 3 4 5 6"},
		{"NEW", "2 4 5 6"},
		{"OLD", ""},
		{`SUBJECT "message 3"`, "3"},
		{`SUBJECT "MESSAGE 3"`, "3"},
		{"SUBJECT message", "1 2 3 4 5"},
		{"FROM sender2", "2"},
		{"TO alice@demo.example", "1 2 3 4 5"},
		{"CC alice", ""},
		{`HEADER Message-ID "<m4@"`, "4"},
		{`HEADER message-id ""`, "1 2 3 4 5"},
		{`HEADER X-Missing ""`, ""},
		{`BODY "body 5"`, "5"},
		{`BODY "Subject"`, ""},
		{`TEXT "Subject: message 1"`, "1"},
		{`TEXT "body 2"`, "2"},
		{"SINCE 3-Nov-2026", "3 4 5 6"},
		{"BEFORE 3-Nov-2026", "1 2"},
		{"ON 3-Nov-2026", "3"},
		{"SENTSINCE 4-Nov-2026", "4 5 6"},
		{"SENTBEFORE 2-Nov-2026", "1"},
		{"SENTON 2-Nov-2026", "2"},
		{"SINCE 1-Dec-2026", ""},
		{"LARGER 400", "6"},
		{"SMALLER 400", "1 2 3 4 5"},
		{"OR SUBJECT \"message 1\" SUBJECT \"message 2\"", "1 2"},
		{"OR SEEN DELETED", "1 2 3"},
		{"NOT SEEN", "2 4 5 6"},
		{"NOT OR SEEN DELETED", "4 5 6"},
		{"(SEEN FLAGGED)", "1"},
		{"SEEN NOT FLAGGED", "3"},
		{"OR (SEEN FLAGGED) (DELETED ANSWERED)", "1 2"},
		{"NOT NOT UID 1", "1"},
		{"UNSEEN SINCE 4-Nov-2026 SMALLER 400", "4 5"},
		{"CHARSET UTF-8 SUBJECT \"message 5\"", "5"},
		{"CHARSET US-ASCII ALL", "1 2 3 4 5 6"},
	}
	for _, tc := range cases {
		r := c.ok("SEARCH %s", tc.query)
		want := "* SEARCH"
		if tc.want != "" {
			want += " " + tc.want
		}
		if len(r.Untagged) != 1 || r.Untagged[0] != want {
			t.Errorf("SEARCH %s: got %q, want %q", tc.query, r.Untagged, want)
		}
	}
}

// TestSearchSizes: LARGER and SMALLER compare with RFC822.SIZE exactly.
func TestSearchSizes(t *testing.T) {
	_, c := searchEnv(t)
	r := c.ok("FETCH 4 RFC822.SIZE")
	m := regexp.MustCompile(`RFC822\.SIZE (\d+)`).FindStringSubmatch(r.Untagged[0])
	size, _ := strconv.Atoi(m[1])
	c.ok("SEARCH 4 LARGER %d", size-1).exactly(t, "* SEARCH 4")
	c.ok("SEARCH 4 LARGER %d", size).exactly(t, "* SEARCH")
	c.ok("SEARCH 4 SMALLER %d", size+1).exactly(t, "* SEARCH 4")
	c.ok("SEARCH 4 SMALLER %d", size).exactly(t, "* SEARCH")
}

func TestSearchUID(t *testing.T) {
	e, c := searchEnv(t)
	// Expunge 2 so that UIDs and sequence numbers differ.
	c.ok("EXPUNGE")
	c.ok("UID SEARCH ALL").exactly(t, "* SEARCH 1 3 4 5 6")
	c.ok("UID SEARCH UID 3:5").exactly(t, "* SEARCH 3 4 5")
	c.ok("UID SEARCH 2:3").exactly(t, "* SEARCH 3 4")
	c.ok("SEARCH UID 3:5").exactly(t, "* SEARCH 2 3 4")
	c.ok("UID SEARCH UNSEEN").exactly(t, "* SEARCH 4 5 6")
	c.ok("UID SEARCH UID *").exactly(t, "* SEARCH 6")
	c.ok("UID SEARCH UID 99").exactly(t, "* SEARCH")
	r := c.ok("SEARCH RETURN (MIN MAX COUNT) UNSEEN")
	r.exactly(t, fmt.Sprintf(`* ESEARCH (TAG "%s") MIN 3 MAX 5 COUNT 3`, r.Tag))
	r = c.ok("UID SEARCH RETURN (ALL) UNSEEN")
	r.exactly(t, fmt.Sprintf(`* ESEARCH (TAG "%s") UID ALL 4:6`, r.Tag))
	_ = e
}

// TestSearchEncoded: header keys match MIME encoded words decoded.
func TestSearchEncoded(t *testing.T) {
	_, c := searchEnv(t)
	c.ok("SEARCH CHARSET UTF-8 SUBJECT {%d+}\r\n%s", len("grüß"), "grüß").exactly(t, "* SEARCH 6")
	c.ok(`SEARCH CHARSET UTF-8 FROM "Jürgen"`).exactly(t, "* SEARCH 6")
	c.ok(`SEARCH FROM "j@example.com"`).exactly(t, "* SEARCH 6")
	c.ok("SEARCH CHARSET UTF-8 BODY {%d+}\r\n%s", len("Köln"), "Köln").exactly(t, "* SEARCH 6")
}

func TestSearchBad(t *testing.T) {
	_, c := searchEnv(t)
	c.refused("SEARCH BOGUS")
	c.refused("SEARCH SINCE yesterday")
	c.refused("SEARCH OR SEEN")
	c.refused("SEARCH (SEEN")
	c.no("SEARCH CHARSET KOI8-R ALL").taggedHas(t, "NO [BADCHARSET]")
	c.ok("SEARCH SEEN").exactly(t, "* SEARCH 1 3")
}

// TestESearch: SEARCH RETURN (RFC 4731) gives MIN, MAX, COUNT and ALL in
// one ESEARCH line, tagged with the command's tag; UID SEARCH says UID.
func TestESearch(t *testing.T) {
	_, c := searchEnv(t)
	r := c.ok("SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN")
	r.exactly(t, fmt.Sprintf(`* ESEARCH (TAG "%s") ALL 2,4:6 MIN 2 MAX 6 COUNT 4`, r.Tag))
	r = c.ok("UID SEARCH RETURN (COUNT) SEEN")
	r.exactly(t, fmt.Sprintf(`* ESEARCH (TAG "%s") UID COUNT 2`, r.Tag))
	r = c.ok("SEARCH RETURN () FLAGGED")
	r.exactly(t, fmt.Sprintf(`* ESEARCH (TAG "%s") ALL 1`, r.Tag))
	c.ok("SEARCH FLAGGED").exactly(t, "* SEARCH 1")
}

// TestSearchAddresses: FROM, TO, CC and BCC also match each address with
// its comments and folding removed, its decoded display name, and a
// group's name (docs/extensions.md, "SEARCH").
func TestSearchAddresses(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("a"), "From x@example.com Fri Nov 20 10:00:00 2026\n"+
		"From: <user-from (comment)@ (comment) domain.org>\n"+
		"To: group: g1@d1.org, \"Gee Two\" <g2 @\n d2.org>;, group2: g3@d3.org;\n"+
		"Cc: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.com>\n"+
		"Bcc: old@style.example (Old Style)\n"+
		"Subject: one\n\nbody\n\n"+
		"From y@example.com Fri Nov 20 11:00:00 2026\n"+
		"From: other@domain.org\nTo: undisclosed-recipients:;\nSubject: two\n\nbody\n\n")
	c := e.login()
	c.ok("SELECT a")
	cases := []struct{ query, want string }{
		{"FROM user-from@domain.org", "1"},
		{"FROM USER-FROM@DOMAIN.ORG", "1"},
		{"FROM comment", "1"}, // the raw header, as before
		{"FROM @domain.org", "1 2"},
		{"TO g2@d2.org", "1"},
		{`TO "Gee Two"`, "1"},
		{"TO group2", "1"},
		{"TO undisclosed-recipients", "2"},
		{"CC jm@example.com", "1"},
		{`CHARSET UTF-8 CC "Jürgen Müller"`, "1"},
		{`BCC "Old Style"`, "1"},
		{"BCC old@style.example", "1"},
		{"HEADER From user-from@domain.org", "1"},
		{"FROM nobody@domain.org", ""},
		{"NOT FROM user-from@domain.org", "2"},
	}
	for _, tc := range cases {
		r := c.ok("SEARCH %s", tc.query)
		want := "* SEARCH"
		if tc.want != "" {
			want += " " + tc.want
		}
		if len(r.Untagged) != 1 || r.Untagged[0] != want {
			t.Errorf("SEARCH %s: got %q, want %q", tc.query, r.Untagged, want)
		}
	}
}
