package session_test

import (
	"strings"
	"testing"
)

// TestBadInput: malformed commands get BAD (or NO) with a reason, and the
// session goes on with its mailbox still selected.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	for _, cmd := range []string{
		"NOOP extra",
		"SELECT",
		"FETCH",
		"FETCH 1 (FLAGS",
		"STORE 1 +FLAGS (\\Seen",
		"UID FROB 1",
		"COPY 1",
		"SEARCH",
		"STATUS INBOX",
		"LIST",
		"CREATE",
		"RENAME a",
		"APPEND",
		"LOGIN alice alice-secret",
		"CAPABILITY x",
	} {
		r := c.refused("%s", cmd)
		if r.Tagged == "NO" || r.Tagged == "BAD" {
			t.Errorf("%s: no reason given", cmd)
		}
	}
	c.ok("FETCH 1 UID").exactly(t, "* 1 FETCH (UID 1)")
}

// TestBigLiteral: literals over 4 KiB outside APPEND are refused before they
// are sent; the session goes on.
func TestBigLiteral(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	r := c.cmd("SELECT {5000}")
	r.taggedHas(t, "NO [TOOBIG] ")
	c.ok("SELECT INBOX").has(t, "* 3 EXISTS")
}

// TestHugeLine: a command line over go-imap's 50 KiB limit is refused, and
// the rest of it is not taken for commands.
func TestHugeLine(t *testing.T) {
	e := newEnv(t)
	for _, line := range []string{
		`A1 SELECT "` + strings.Repeat("x", 70000) + `"`,
		"A1 FETCH 1 (" + strings.Repeat("FLAGS ", 12000) + "UID)",
		"A1 NOOP " + strings.Repeat("x", 70000),
	} {
		c := e.login()
		c.ok("SELECT INBOX")
		c.sendRaw(line + "\r\n")
		r := c.collect("A1")
		if r.Status != "BAD" || len(r.Untagged) != 0 {
			t.Errorf("%.20s...: %q %q", line, r.Untagged, r.Tagged)
		}
		c.ok("FETCH 1 UID").exactly(t, "* 1 FETCH (UID 1)")
	}
}
