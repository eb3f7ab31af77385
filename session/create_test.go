package session_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE a").exactly(t)
	if mboxOnDisk() {
		// A new folder holds UW's internal-data message: UIDVALIDITY is
		// fixed.
		if text := e.read(e.folder("a")); !strings.Contains(text, "\nX-IMAP: ") {
			t.Errorf("new folder:\n%s", text)
		}
		if fi, err := os.Stat(e.folder("a")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("folder file: %v %v", fi, err)
		}
	} else {
		// A new maildir has its uid list: UIDVALIDITY is fixed.
		if text := e.read(filepath.Join(e.folder("a"), "imapd-uidlist")); !strings.HasPrefix(text, "imapd-uidlist 1 V") {
			t.Errorf("new maildir's uid list %q", text)
		}
		for _, sub := range []string{"cur", "new", "tmp"} {
			if fi, err := os.Stat(filepath.Join(e.folder("a"), sub)); err != nil || !fi.IsDir() {
				t.Errorf("maildir %s/: %v", sub, err)
			}
		}
	}
	st := c.ok("STATUS a (MESSAGES UIDNEXT UIDVALIDITY)")
	v := c.ok("SELECT a").uidValidity(t)
	st.exactly(t, `* STATUS "a" (MESSAGES 0 UIDNEXT 1 UIDVALIDITY `+v+")")

	// "b/c": b holds folders, c messages.
	c.ok("CREATE b/c")
	if fi, err := os.Stat(e.folder("b")); err != nil || !fi.IsDir() {
		t.Errorf("b is not a directory: %v", err)
	}
	c.ok("SELECT b/c").has(t, "* 0 EXISTS")
	c.no("SELECT b").taggedHas(t, "NO [CANNOT] ")
	// "d/": only the folder of folders; a folder can go in it later.
	c.ok("CREATE d/")
	c.no("SELECT d")
	c.ok("CREATE d/e")
	c.ok("STATUS d/e (MESSAGES)").exactly(t, `* STATUS "d/e" (MESSAGES 0)`)
	// A message folder can't hold folders.
	c.no("CREATE a/x").taggedHas(t, "NO [CANNOT] ")
	c.no("CREATE a/").taggedHas(t, "NO ")
}

func TestCreateRefused(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE a")
	c.no("CREATE a").taggedHas(t, "NO [ALREADYEXISTS] ")
	c.no("CREATE INBOX").taggedHas(t, "NO [ALREADYEXISTS] ")
	c.no("CREATE inbox").taggedHas(t, "NO [ALREADYEXISTS] ")
	c.no("CREATE .mailboxlist")
	for _, name := range []string{`"../x"`, `"/tmp/x"`, `"~bob"`, `"#news.x"`, `"x//y"`, `"x/../y"`, `"."`, `".."`, `"x.lock"`, `"` + strings.Repeat("n", 300) + `"`} {
		r := c.refused("CREATE %s", name)
		if strings.Contains(r.Tagged, e.site.Dir) {
			t.Errorf("CREATE %s: reply shows a server path: %q", name, r.Tagged)
		}
	}
	// Nothing was made outside the folder root.
	for _, p := range []string{filepath.Join(e.site.Spool, "x"), filepath.Join(e.site.Dir, "x"), filepath.Join(e.site.Spool, "bob")} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
	entries, _ := os.ReadDir(e.folder(""))
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	want := ".imapd-uidvalidity,a"
	if !mboxOnDisk() {
		// The INBOX maildir holds the folders.
		want = ".imapd-uidvalidity,a,cur,new,tmp"
	}
	if strings.Join(names, ",") != want {
		t.Errorf("folder root holds %q (want a and the UIDVALIDITY mark)", names)
	}
	c.ok("NOOP")
}

// statusValidity returns the UIDVALIDITY of a STATUS reply.
func statusValidity(t *testing.T, r *result) uint64 {
	t.Helper()
	for _, l := range r.Untagged {
		if _, rest, ok := strings.Cut(l, "UIDVALIDITY "); ok {
			v, err := strconv.ParseUint(strings.TrimSuffix(rest, ")"), 10, 32)
			if err == nil {
				return v
			}
		}
	}
	t.Fatalf("no UIDVALIDITY in %q", r.Untagged)
	return 0
}

// TestCreateValidity: a mailbox deleted and created again gets a greater
// UIDVALIDITY, within the same second too (RFC 3501 2.3.1.1); the user's
// high-water mark in .imapd-uidvalidity keeps it so across restarts and a
// clock set back, and LIST never shows the mark.
func TestCreateValidity(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	msg := "Subject: x\r\n\r\nx\r\n"
	var last uint64
	for i := range 5 {
		c.ok("CREATE a")
		c.ok("APPEND a {%d+}\r\n%s", len(msg), msg)
		r := c.ok("STATUS a (UIDNEXT UIDVALIDITY)")
		v := statusValidity(t, r)
		if i > 0 && v <= last {
			t.Fatalf("round %d: UIDVALIDITY %d after %d", i, v, last)
		}
		r.exactly(t, fmt.Sprintf(`* STATUS "a" (UIDNEXT 2 UIDVALIDITY %d)`, v))
		if got := strings.TrimSpace(e.read(e.folder(".imapd-uidvalidity"))); got != strconv.FormatUint(v, 10) {
			t.Errorf("mark %q, want %d", got, v)
		}
		last = v
		c.ok("DELETE a")
	}

	// A mark from the future (the clock was set back since): new
	// mailboxes go above it, after a restart as well.
	future := last + 1_000_000
	e.write(e.folder(".imapd-uidvalidity"), fmt.Sprintf("%d\n", future))
	c.logout()
	e.stop()
	e.start()
	c = e.login()
	c.ok("CREATE b")
	if v := statusValidity(t, c.ok("STATUS b (UIDVALIDITY)")); v != future+1 {
		t.Errorf("after the mark %d: UIDVALIDITY %d", future, v)
	}
	c.ok("CREATE a")
	if v := statusValidity(t, c.ok("STATUS a (UIDVALIDITY)")); v != future+2 {
		t.Errorf("UIDVALIDITY %d, want %d", v, future+2)
	}
	listIs(t, c.ok(`LIST "" *`),
		`* LIST (\Noinferiors) "/" "a"`,
		`* LIST (\Noinferiors) "/" "b"`,
		`* LIST (\Noinferiors) NIL INBOX`)
	c.no("CREATE .imapd-uidvalidity")
	c.no("SELECT .imapd-uidvalidity")

	if !mboxOnDisk() {
		return // mbox only from here: UIDs in the file's status headers
	}
	// A folder whose UIDs went backwards is renumbered with a new,
	// greater UIDVALIDITY (UW's rule), above the mark too.
	e.write(e.folder("r"), "From a@b Mon Nov 23 10:00:00 2026\nX-IMAPbase: 1000 9\nX-UID: 5\n\none\n\n"+
		"From a@b Mon Nov 23 10:00:00 2026\nX-UID: 3\n\ntwo\n\n")
	r := c.ok("STATUS r (UIDNEXT UIDVALIDITY)")
	r.exactly(t, fmt.Sprintf(`* STATUS "r" (UIDNEXT 3 UIDVALIDITY %d)`, future+3))
	if got := headerOf(e.read(e.folder("r")), 0, "X-IMAPbase"); !strings.HasPrefix(got, fmt.Sprintf("%d 2", future+3)) {
		t.Errorf("X-IMAPbase %q", got)
	}
}
