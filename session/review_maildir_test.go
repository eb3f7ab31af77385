package session_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReviewMaildirExpungeRenamed: a session expunges messages whose files
// another program renamed since it last looked (flag changes, as another
// server's session or a mail reader makes): one still \Deleted there goes,
// one whose \Deleted was taken off stays with its UID; no file is left
// behind to be numbered again, and a new delivery gets a new UID.
func TestReviewMaildirExpungeRenamed(t *testing.T) {
	onlyMaildir(t)
	e := newEnv(t)
	a := e.login()
	a.ok("SELECT INBOX")
	a.ok(`STORE 1:3 +FLAGS.SILENT (\Deleted)`)
	a.ok("CHECK")
	cur := filepath.Join(e.inbox(), "cur")
	des, err := os.ReadDir(cur)
	if err != nil {
		t.Fatal(err)
	}
	if len(des) != 3 {
		t.Fatalf("cur: %d files", len(des))
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	// The files sort in delivery order (the harness names them so).
	rename := func(old, new string) {
		t.Helper()
		if err := os.Rename(filepath.Join(cur, old), filepath.Join(cur, new)); err != nil {
			t.Fatal(err)
		}
	}
	base2, info2, _ := strings.Cut(names[1], ":2,")
	rename(names[1], base2+":2,"+strings.ReplaceAll(info2, "T", ""))
	base3, info3, _ := strings.Cut(names[2], ":2,")
	rename(names[2], base3+":2,F"+info3)
	r := a.ok("EXPUNGE")
	var exp []string
	for _, l := range r.Untagged {
		if strings.HasSuffix(l, " EXPUNGE") {
			exp = append(exp, l)
		}
	}
	if strings.Join(exp, ",") != "* 1 EXPUNGE,* 2 EXPUNGE" {
		t.Errorf("EXPUNGE: %q", r.Untagged)
	}
	a.ok("UID FETCH 1:* (UID)").has(t, "* 1 FETCH (UID 2)")
	a.logout()
	e.waitClosed(1)
	des, _ = os.ReadDir(cur)
	if len(des) != 1 || !strings.HasPrefix(des[0].Name(), base2) {
		t.Fatalf("files left: %v (want message 2's only)", des)
	}
	e.deliver(e.inbox(), "frank@example.com", "new", "hi")
	c := e.login()
	c.ok("SELECT INBOX")
	c.ok("UID FETCH 1:* (UID)").exactly(t, "* 1 FETCH (UID 2)", "* 2 FETCH (UID 4)")
	c.logout()
}
