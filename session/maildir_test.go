package session_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// maildirEnv is the maildir site with alice's INBOX maildir not there
// yet: <home>/alice.mdir (no hash_spool in the demo), holding her folders
// too.
func maildirEnv(t *testing.T) (*env, string) {
	onlyMaildir(t)
	e := newEnv(t)
	if err := os.RemoveAll(e.inbox()); err != nil {
		t.Fatal(err)
	}
	return e, e.inbox()
}

func TestMaildirSession(t *testing.T) {
	e, inbox := maildirEnv(t)
	c := e.login()
	c.ok("SELECT INBOX").has(t, "* 0 EXISTS")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if st, err := os.Stat(filepath.Join(inbox, sub)); err != nil || !st.IsDir() {
			t.Fatalf("INBOX maildir not created: %v", err)
		}
	}
	v := c.ok("APPEND INBOX (\\Seen) {%d+}\r\n%s", len(appendMsg), appendMsg).taggedHas
	v(t, "OK [APPENDUID ")
	// An MTA delivers while the session is open.
	msg := "From: mta@example.com\nSubject: delivered\n\nhello\n"
	os.WriteFile(filepath.Join(inbox, "tmp", "1765000000.1.mta"), []byte(msg), 0o600)
	os.Rename(filepath.Join(inbox, "tmp", "1765000000.1.mta"), filepath.Join(inbox, "new", "1765000000.1.mta"))
	c.ok("NOOP").has(t, "* 2 EXISTS")
	c.ok("FETCH 1:* (UID FLAGS RFC822.SIZE)").exactly(t,
		"* 1 FETCH (UID 1 FLAGS (\\Recent \\Seen) RFC822.SIZE 75)",
		"* 2 FETCH (UID 2 FLAGS (\\Recent) RFC822.SIZE 52)")
	c.ok("FETCH 2 BODY.PEEK[]").has(t, "* 2 FETCH (BODY[] {52}\r\nFrom: mta@example.com\r\nSubject: delivered\r\n\r\nhello\r\n)")
	c.ok("STORE 2 +FLAGS (\\Flagged $Work)")
	c.ok("UID SEARCH KEYWORD $Work").has(t, "* SEARCH 2")

	c.ok("CREATE Archive/2026")
	c.ok("COPY 1:2 Archive/2026").taggedHas(t, "OK [COPYUID ")
	c.ok("STORE 1 +FLAGS (\\Deleted)")
	c.ok("EXPUNGE").has(t, "* 1 EXPUNGE")
	c.ok(`LIST "" *`).exactly(t,
		`* LIST (\Noselect \HasChildren) "/" "Archive"`,
		`* LIST (\Noinferiors \Unmarked) "/" "Archive/2026"`,
		`* LIST (\Noinferiors) NIL INBOX`)
	c.ok("STATUS Archive/2026 (MESSAGES UIDNEXT UNSEEN)").has(t, `* STATUS "Archive/2026" (MESSAGES 2 UIDNEXT 3 UNSEEN 1)`)
	c.no("CREATE cur")
	c.no("CREATE Archive/2026/x")
	c.logout()

	// Flags reached the file names; a new session sees the same state.
	names, _ := os.ReadDir(filepath.Join(inbox, "cur"))
	if len(names) != 1 || !strings.HasSuffix(names[0].Name(), ":2,Fa") {
		t.Errorf("INBOX cur/: %v", names)
	}
	c = e.login()
	c.ok("SELECT INBOX").has(t, "* 1 EXISTS", "* OK [UIDNEXT 3] Predicted next UID")
	c.ok("FETCH 1 (UID FLAGS)").exactly(t, "* 1 FETCH (UID 2 FLAGS (\\Flagged $Work))")
	c.ok("RENAME Archive/2026 Old")
	c.ok("SELECT Old").has(t, "* 2 EXISTS")
	c.ok("DELETE Archive")
	c.logout()
}

// An MTA delivers (tmp/ then new/) while the client idles, selects again,
// expunges and polls: every message is seen once, with one UID that never
// changes and is never another message's, in ascending order.
func TestMaildirDeliveryDuringSession(t *testing.T) {
	e, inbox := maildirEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	const n = 60
	c.send("I1 IDLE")
	if cont := c.readResponse(); !strings.HasPrefix(cont, "+ ") {
		t.Fatalf("IDLE: %q", cont)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			name := fmt.Sprintf("1765000000.%03d.mta", i)
			tmp := filepath.Join(inbox, "tmp", name)
			os.WriteFile(tmp, []byte(fmt.Sprintf("Subject: m%03d\n\nbody\n", i)), 0o600)
			os.Rename(tmp, filepath.Join(inbox, "new", name))
		}
	}()
	for {
		line := c.readResponse()
		if strings.HasSuffix(line, " EXISTS") {
			break // told while idling
		}
	}
	c.send("DONE")
	c.collect("I1")
	uidOf := map[string]uint64{}     // subject -> UID, once seen
	subjectOf := map[uint64]string{} // UID -> subject
	expunged := map[string]bool{}
	look := func() {
		t.Helper()
		r := c.ok("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
		var last uint64
		for _, l := range r.Untagged {
			var seq, uid uint64
			if _, err := fmt.Sscanf(l, "* %d FETCH (UID %d", &seq, &uid); err != nil {
				continue // EXISTS, EXPUNGE
			}
			i := strings.Index(l, "Subject: ")
			subj := l[i : i+13]
			if uid <= last {
				t.Fatalf("UIDs not ascending: %q", r.Untagged)
			}
			last = uid
			if u, ok := uidOf[subj]; ok && u != uid {
				t.Fatalf("%s had UID %d, now %d", subj, u, uid)
			}
			if s, ok := subjectOf[uid]; ok && s != subj {
				t.Fatalf("UID %d was %s, now %s", uid, s, subj)
			}
			if expunged[subj] {
				t.Fatalf("%s seen again after its EXPUNGE", subj)
			}
			uidOf[subj], subjectOf[uid] = uid, subj
		}
	}
	for round := 0; ; round++ {
		c.ok("NOOP")
		look()
		switch round % 3 {
		case 0:
			r := c.ok("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]")
			if len(r.Untagged) > 0 && strings.Contains(r.Untagged[0], "Subject: ") {
				i := strings.Index(r.Untagged[0], "Subject: ")
				c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
				c.ok("EXPUNGE").has(t, "* 1 EXPUNGE")
				expunged[r.Untagged[0][i:i+13]] = true
			}
		case 1:
			c.ok("SELECT INBOX") // a new view while deliveries go on
		}
		select {
		case <-done:
		default:
			continue
		}
		break
	}
	c.ok("NOOP")
	look()
	if len(uidOf) != n {
		t.Errorf("%d distinct messages seen, want %d", len(uidOf), n)
	}
	r := c.ok("FETCH 1:* UID")
	if len(r.Untagged)+len(expunged) != n {
		t.Errorf("%d remaining + %d expunged, want %d", len(r.Untagged), len(expunged), n)
	}
}
