package e2e

import (
	"imapd/demo"
	"strings"
	"testing"
)

// TestImaplibListen runs a whole imaplib session against -listen mode and
// then reads the drop file with Python's mailbox module.
func TestImaplibListen(t *testing.T) {
	site := newSite(t)
	srv := startListen(t, site)
	host, port := hostPort(srv.Addr)
	out := runPython(t, "imaplib_session.py", host, port, "alice", "alice-secret")
	if !strings.Contains(out, "all checks passed") {
		t.Fatalf("imaplib: %s\nlog:\n%s", out, logTail(site))
	}
	checkDropAfterSession(t, site)
}

// TestImaplibInetd runs the same session with imapd spawned per connection
// by systemd-socket-activate --inetd, as inetd does.
func TestImaplibInetd(t *testing.T) {
	site := newSite(t)
	srv := startInetd(t, site)
	host, port := hostPort(srv.Addr)
	out := runPython(t, "imaplib_session.py", host, port, "alice", "alice-secret")
	if !strings.Contains(out, "all checks passed") {
		t.Fatalf("imaplib: %s\nlog:\n%s", out, logTail(site))
	}
	checkDropAfterSession(t, site)
}

// checkDropAfterSession: after imaplib_session.py, alice's drop file holds
// messages 1 and 2 with their flags and UIDs, in UW's format.
func checkDropAfterSession(t *testing.T, site *demo.Site) {
	t.Helper()
	got := noPseudo(storeSummary(t, inboxOf(site, "alice")))
	want := []string{
		"Welcome to imapd|1|RO|F|",
		"Lunch on Friday?|2|O||$Label1 Junk",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drop file after the session:\n got %q\nwant %q", got, want)
	}
}
