package server

import (
	"slices"
	"strings"
	"testing"
)

// ENABLE IMAP4rev2 and UTF8=ACCEPT (not advertised) enable nothing:
// go-imap keeps answering as IMAP4rev1 (RECENT in SELECT, SEARCH not
// ESEARCH, folder names in modified UTF-7).
func TestEnableIMAP4rev2Refused(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	login(t, c)
	for _, tc := range []struct {
		cmd  string
		want []string
	}{
		{"e1 ENABLE IMAP4rev2", []string{"* ENABLED", "e1 OK ENABLE completed"}},
		{"e2 ENABLE imap4rev2 IMAP4REV2", []string{"* ENABLED", "e2 OK ENABLE completed"}},
		{"e3 ENABLE IMAP4rev2 UTF8=ACCEPT", []string{"* ENABLED", "e3 OK ENABLE completed"}},
		{"e5 ENABLE utf8=accept", []string{"* ENABLED", "e5 OK ENABLE completed"}},
		{"e4 ENABLE X-UNKNOWN", []string{"* ENABLED", "e4 OK ENABLE completed"}},
	} {
		tag := tc.cmd[:2]
		if got := c.Tagged(tag, tc.cmd[3:]).Lines(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	sel := c.Tagged("s1", "SELECT INBOX").Lines()
	if !slices.Contains(sel, "* 0 RECENT") {
		t.Errorf("SELECT after ENABLE IMAP4rev2 lacks RECENT (IMAP4rev2 behaviour): %q", sel)
	}
	if got := c.Tagged("s2", "SEARCH ALL").Lines(); !slices.Equal(got, []string{"* SEARCH 1", "s2 OK SEARCH completed"}) {
		t.Errorf("SEARCH after ENABLE IMAP4rev2: %q", got)
	}
	caps := c.Tagged("c1", "CAPABILITY").Lines()[0]
	if !strings.Contains(caps+" ", " BINARY ") {
		t.Errorf("CAPABILITY lacks BINARY: %q", caps)
	}
	for _, off := range []string{" IMAP4rev2", " UTF8=ACCEPT"} {
		if strings.Contains(caps+" ", off+" ") {
			t.Errorf("CAPABILITY offers%s: %q", off, caps)
		}
	}
}
