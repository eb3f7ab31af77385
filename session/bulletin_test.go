package session_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Bulletins arrive in the INBOX at login, once, From bulletin_from, even
// when the user logs in several times at once.
func TestBulletinsAtLogin(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, "bulletin_path "+dir, "bulletin_from IT Department")
	os.WriteFile(filepath.Join(dir, "1.txt"), []byte("The server stops at 22:00.\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "2.txt"), []byte("Subject: New webmail\nX-Priority: 1\n\nTry it.\n"), 0o644)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.login()
			c.logout()
		}()
	}
	wg.Wait()
	c := e.login()
	c.ok("SELECT INBOX").has(t, "* 5 EXISTS")
	r := c.ok("FETCH 4:5 (BODY.PEEK[HEADER.FIELDS (FROM TO SUBJECT X-PRIORITY)])")
	all := strings.Join(r.Untagged, "\n")
	for _, want := range []string{"From: IT Department <postmaster@demo.example>", "To: alice@demo.example",
		"Subject: Bulletin 1", "Subject: New webmail", "X-Priority: 1"} {
		if !strings.Contains(all, want) {
			t.Errorf("lacks %q:\n%s", want, all)
		}
	}
	c.logout()
	if got := e.read(e.inbox() + ".bul"); got != "* 2\n" {
		t.Errorf("state %q", got)
	}
	// bob has no drop file yet: it is made for his bulletins.
	c = e.dial()
	c.ok("LOGIN bob bob-secret")
	c.ok("SELECT INBOX").has(t, "* 2 EXISTS")
}
