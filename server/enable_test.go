package server

import (
	"slices"
	"strings"
	"testing"
)

// ENABLE IMAP4rev2 (RFC 9051) switches the connection to IMAP4rev2;
// UTF8=ACCEPT (not advertised) enables nothing.
func TestEnableIMAP4rev2(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	login(t, c)
	caps := c.Tagged("c0", "CAPABILITY").Lines()[0]
	if !strings.HasPrefix(caps, "* CAPABILITY IMAP4rev1 ") {
		t.Errorf("CAPABILITY does not start with IMAP4rev1 (as the legacy IMAPD's): %q", caps)
	}
	for _, on := range []string{" IMAP4rev1 ", " IMAP4rev2 ", " BINARY "} {
		if !strings.Contains(caps+" ", on) {
			t.Errorf("CAPABILITY lacks%s: %q", on, caps)
		}
	}
	if strings.Contains(caps+" ", " UTF8=ACCEPT ") {
		t.Errorf("CAPABILITY offers UTF8=ACCEPT: %q", caps)
	}
	// Before ENABLE: IMAP4rev1 answers.
	if sel := c.Tagged("s9", "SELECT INBOX").Lines(); !slices.Contains(sel, "* 0 RECENT") {
		t.Errorf("SELECT before ENABLE IMAP4rev2 lacks RECENT: %q", sel)
	}
	if got := c.Tagged("s0", "SEARCH ALL").Lines(); !slices.Equal(got, []string{"* SEARCH 1", "s0 OK SEARCH completed"}) {
		t.Errorf("SEARCH before ENABLE IMAP4rev2: %q", got)
	}
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"e5 ENABLE utf8=accept", []string{"* ENABLED", "e5 OK ENABLE completed"}},
		{"e4 ENABLE X-UNKNOWN", []string{"* ENABLED", "e4 OK ENABLE completed"}},
		{"e1 ENABLE IMAP4rev2 UTF8=ACCEPT", []string{"* ENABLED IMAP4rev2", "e1 OK ENABLE completed"}},
	} {
		tag := tc.cmd[:2]
		if got := c.Tagged(tag, tc.cmd[3:]).Lines(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	sel := c.Tagged("s1", "SELECT INBOX").Lines()
	// RFC 9051 7.1: [CLOSED] when a selected mailbox is left by SELECT.
	if !slices.Contains(sel, "* OK [CLOSED] Previous mailbox is now closed") {
		t.Errorf("re-SELECT under IMAP4rev2 lacks [CLOSED]: %q", sel)
	}
	for _, l := range sel {
		if strings.HasSuffix(l, " RECENT") {
			t.Errorf("SELECT after ENABLE IMAP4rev2 has RECENT: %q", sel)
		}
	}
	// RFC 9051 6.4.4: every SEARCH is answered by ESEARCH.
	if got := c.Tagged("s2", "SEARCH ALL").Lines(); !slices.Equal(got, []string{`* ESEARCH (TAG "s2") ALL 1`, "s2 OK SEARCH completed"}) {
		t.Errorf("SEARCH after ENABLE IMAP4rev2: %q", got)
	}
	for _, key := range []string{"RECENT", "NEW", "OLD", "NOT RECENT"} {
		got := c.Tagged("s3", "SEARCH "+key).Lines()
		if len(got) != 1 || !strings.HasPrefix(got[0], "s3 BAD ") {
			t.Errorf("SEARCH %s under IMAP4rev2: %q, want BAD", key, got)
		}
	}
	// "SUBJECT NEW" is a string argument, not the key.
	if got := c.Tagged("s4", "SEARCH SUBJECT NEW").Lines(); len(got) != 2 || !strings.HasPrefix(got[1], "s4 OK") {
		t.Errorf("SEARCH SUBJECT NEW under IMAP4rev2: %q", got)
	}
	for _, l := range c.Tagged("f1", "FETCH 1 FLAGS").Lines() {
		if strings.Contains(l, `\Recent`) {
			t.Errorf("FETCH FLAGS under IMAP4rev2 shows \\Recent: %q", l)
		}
	}
}
