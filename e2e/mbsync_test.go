package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestMbsyncBothWays syncs a whole account with mbsync (isync) into a
// local Maildir, changes things on both sides, syncs again, and checks the
// drop file and folder files on the server side with the independent
// reader.
func TestMbsyncBothWays(t *testing.T) {
	mbsync := clientTool(t, "mbsync", "isync")
	site, host, port := demoServer(t)
	local := t.TempDir()
	rc := writeMbsyncrc(t, local, fmt.Sprintf("Host %s\nPort %s\nSSLType None\nAuthMechs LOGIN\n", host, port), `Channel all
Far :remote:
Near :local:
Patterns *
Create Both
Remove None
Expunge Both
SyncState *
`)
	sync := func(step string) {
		t.Helper()
		out, err := exec.Command(mbsync, "-c", rc, "-a").CombinedOutput()
		if err != nil {
			t.Fatalf("mbsync (%s): %v\n%s\nlog:\n%s", step, err, out, logTail(site))
		}
	}

	// 1. Pull everything.
	sync("first")
	inbox := maildirFiles(t, filepath.Join(local, "mail", "INBOX"))
	if len(inbox) != 3 {
		t.Fatalf("first sync brought %d messages, want 3: %v", len(inbox), inbox)
	}

	// 2. Change things locally: read+flag one, delete one, file a new
	// message into a new folder; and deliver a new one on the server.
	var welcome, lunch string
	for _, f := range inbox {
		b, _ := os.ReadFile(f)
		switch {
		case strings.Contains(string(b), "Subject: Welcome to imapd"):
			welcome = f
		case strings.Contains(string(b), "Subject: Lunch on Friday?"):
			lunch = f
		}
	}
	if welcome == "" || lunch == "" {
		t.Fatalf("messages not found locally: %v", inbox)
	}
	setMaildirFlags(t, welcome, "FS")
	setMaildirFlags(t, lunch, "T")
	archive := filepath.Join(local, "mail", "Archive")
	for _, d := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(archive, d), 0o700)
	}
	os.WriteFile(filepath.Join(archive, "cur", "1700000000.1.local:2,S"), []byte("From: me@example.com\nSubject: filed locally\n\nKeep this.\n"), 0o600)
	deliver(t, inboxOf(site, "alice"), "frank@example.com", "Delivered meanwhile")

	// 3. Push and pull.
	sync("second")
	got := noPseudo(storeSummary(t, inboxOf(site, "alice")))
	want := []string{
		"Welcome to imapd|1|RO|F|",
		"Quarterly report|3|O||",
		"Delivered meanwhile|4|O||",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("drop file after the second sync:\n got %q\nwant %q", got, want)
	}
	got = storeSummary(t, folderOf(site, "alice", "Archive"))
	if len(got) != 2 || got[0][:7] != "PSEUDO|" || !strings.HasPrefix(got[1], "filed locally|1|") || !strings.Contains(got[1], "|RO|") {
		t.Errorf("Archive folder file: %q", got)
	}
	if n := len(maildirFiles(t, filepath.Join(local, "mail", "INBOX"))); n != 3 {
		t.Errorf("local INBOX has %d messages after the second sync, want 3", n)
	}

	// 4. A third sync changes nothing on either side: UIDs were kept.
	before := snapshot(t, inboxOf(site, "alice"))
	sync("third")
	after := snapshot(t, inboxOf(site, "alice"))
	if before != after {
		t.Errorf("a sync with no changes changed the INBOX:\n%s\n---\n%s", before, after)
	}
	if got := noPseudo(storeSummary(t, inboxOf(site, "alice"))); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("INBOX after the third sync:\n got %q\nwant %q", got, want)
	}
}

func maildirFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for _, sub := range []string{"cur", "new"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range ents {
			files = append(files, filepath.Join(dir, sub, e.Name()))
		}
	}
	return files
}

// setMaildirFlags sets the info flags of a maildir message file.
func setMaildirFlags(t *testing.T, path, flags string) {
	t.Helper()
	base := filepath.Base(path)
	if i := strings.Index(base, ":2,"); i >= 0 {
		base = base[:i]
	}
	dest := filepath.Join(filepath.Dir(filepath.Dir(path)), "cur", base+":2,"+flags)
	if err := os.Rename(path, dest); err != nil {
		t.Fatal(err)
	}
}

// noPseudo drops the PSEUDO line of a summary (UW's pseudo message, the
// maildir uid list's header).
func noPseudo(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "PSEUDO|") {
			out = append(out, l)
		}
	}
	return out
}

// writeMbsyncrc writes the mbsync configuration of alice's account synced
// into the maildir local/mail (INBOX at local/mail/INBOX) and returns its
// path: conn says how to reach the server (Host, Port, SSLType... lines),
// channel is the Channel section.
func writeMbsyncrc(t *testing.T, local, conn, channel string) string {
	t.Helper()
	conf := "IMAPAccount demo\n" + conn + `User alice
Pass alice-secret

IMAPStore remote
Account demo

MaildirStore local
Path ` + local + `/mail/
Inbox ` + local + `/mail/INBOX
SubFolders Verbatim

` + channel
	if err := os.MkdirAll(filepath.Join(local, "mail"), 0o700); err != nil {
		t.Fatal(err)
	}
	rc := filepath.Join(local, "mbsyncrc")
	if err := os.WriteFile(rc, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return rc
}
