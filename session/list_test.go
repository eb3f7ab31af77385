package session_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// markRE strips \Marked and \Unmarked: they follow the files' access
// times, which the mount options of the test machine decide.
var markRE = regexp.MustCompile(` ?\\(Marked|Unmarked)`)

func unmarked(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = markRE.ReplaceAllString(l, "")
	}
	return out
}

func listIs(t *testing.T, r *result, want ...string) {
	t.Helper()
	if got := unmarked(r.Untagged); !slices.Equal(got, want) {
		t.Errorf("LIST:\n got %q\nwant %q", got, want)
	}
}

func listTree(t *testing.T) (*env, *client) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE a")
	c.ok("CREATE b/c")
	c.ok("CREATE d/")
	c.ok(`CREATE "Entw&APw-rfe"`)
	c.ok("SUBSCRIBE a")
	return e, c
}

func TestList(t *testing.T) {
	_, c := listTree(t)
	listIs(t, c.ok(`LIST "" *`),
		`* LIST (\Noinferiors) "/" "Entw&APw-rfe"`,
		`* LIST (\Noinferiors) "/" "a"`,
		`* LIST (\Noselect \HasChildren) "/" "b"`,
		`* LIST (\Noinferiors) "/" "b/c"`,
		`* LIST (\Noselect \HasNoChildren) "/" "d"`,
		`* LIST (\Noinferiors) NIL INBOX`)
	listIs(t, c.ok(`LIST "" %%`),
		`* LIST (\Noinferiors) "/" "Entw&APw-rfe"`,
		`* LIST (\Noinferiors) "/" "a"`,
		`* LIST (\Noselect \HasChildren) "/" "b"`,
		`* LIST (\Noselect \HasNoChildren) "/" "d"`,
		`* LIST (\Noinferiors) NIL INBOX`)
	listIs(t, c.ok(`LIST "" b/%%`), `* LIST (\Noinferiors) "/" "b/c"`)
	listIs(t, c.ok(`LIST b/ %%`), `* LIST (\Noinferiors) "/" "b/c"`)
	listIs(t, c.ok(`LIST "" ""`), `* LIST (\Noselect) "/" ""`)
	listIs(t, c.ok(`LIST "" inbox`), `* LIST (\Noinferiors) NIL INBOX`)
	listIs(t, c.ok(`LIST "" Entw*`), `* LIST (\Noinferiors) "/" "Entw&APw-rfe"`)
	listIs(t, c.ok(`LIST "" nosuch`))
	listIs(t, c.ok(`LIST "" .mailboxlist`))
	listIs(t, c.ok(`LIST "" "../*"`))
	listIs(t, c.ok(`LIST "" /*`))
	listIs(t, c.ok(`LIST "" ~*`))
	c.no("SELECT .mailboxlist")
}

// TestListForeignFiles: lock files, our own files and anything that is not
// a regular file or directory are not listed; other files are.
func TestListForeignFiles(t *testing.T) {
	e := newEnv(t)
	root := e.inbox() + ".mbx/"
	e.write(root+"keep", "")
	e.write(root+"keep.lock", "")
	e.write(root+".imapd-something", "")
	e.write(root+".mailboxlist", "keep\n")
	c := e.login()
	listIs(t, c.ok(`LIST "" *`),
		`* LIST (\Noinferiors) "/" "keep"`,
		`* LIST (\Noinferiors) NIL INBOX`)
}

// TestListAnyPattern: every syntactically valid LIST pattern gets OK, with
// whatever matches (issue 9 item 4): list-mailbox characters, wildcards,
// names that could never exist (../, ~, #, //), very long ones.
func TestListAnyPattern(t *testing.T) {
	_, c := listTree(t)
	for _, p := range []string{
		"\"!#$'+,-.0123456789:;<=>?@^_`|}%*\"",
		`"&-*"`, `"..*"`, `"../*"`, `"~*"`, `"#*"`, `"/*"`, `"a//b"`, `"%/%/%/*"`,
		`"*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*%*x"`,
		`"` + strings.Repeat("x", 1000) + `"`,
		`"` + strings.Repeat("a/", 200) + `*"`,
		`"Entw&APw-rfe"`,
	} {
		r := c.cmd("LIST \"\" %s", p)
		if r.Status != "OK" {
			t.Errorf("LIST \"\" %.60s: %q", p, r.Tagged)
		}
		r = c.cmd("LSUB \"\" %s", p)
		if r.Status != "OK" {
			t.Errorf("LSUB \"\" %.60s: %q", p, r.Tagged)
		}
	}
	listIs(t, c.ok("LIST \"\" \"!#$'+,-.0123456789:;<=>?@^_`|}%%*\""))
	listIs(t, c.ok(`LIST "" "a%%"`), `* LIST (\Noinferiors) "/" "a"`)
}

// TestListPatternNotUTF7: the pattern has "&" followed by
// characters that are not modified UTF-7 (go-imap alone answered it
// NO [SERVERBUG]); it is still a valid pattern and gets OK.
func TestListPatternNotUTF7(t *testing.T) {
	_, c := listTree(t)
	c.ok("LIST \"\" \"!#$&'+,-.0123456789:;<=>?@^_`|}%%*\"")
	c.ok(`LSUB "" "&*"`)
	c.ok("NOOP")
}
