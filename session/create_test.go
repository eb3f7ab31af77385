package session_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreate(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE a").exactly(t)
	// A new folder holds UW's internal-data message: UIDVALIDITY is fixed.
	if text := e.read(e.folder("a")); !strings.Contains(text, "\nX-IMAP: ") {
		t.Errorf("new folder:\n%s", text)
	}
	if fi, err := os.Stat(e.folder("a")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("folder file: %v %v", fi, err)
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
	entries, _ := os.ReadDir(e.inbox() + ".mbx")
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	if strings.Join(names, ",") != "a" {
		t.Errorf("folder root holds %q", names)
	}
	c.ok("NOOP")
}
