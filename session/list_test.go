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
	onlyMbox(t) // names of mbox folder trees (the maildir's own: folders/maildir_test.go)
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

// TestListSpecialUse: SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154),
// after its section 5 examples, with the folders named as there through
// imapd_special_use: LIST shows the attribute, LIST (SPECIAL-USE) lists
// only such folders, CREATE (USE ...) is honoured for the configured name
// and refused with NO [USEATTR] (nothing created) otherwise.
func TestListSpecialUse(t *testing.T) {
	e := newEnv(t, `imapd_special_use \Sent SentMail`, `imapd_special_use \drafts MyDrafts`,
		`imapd_special_use \Trash Trash`, `imapd_special_use \Junk Spam Mail`)
	c := e.login()
	if r := c.ok("CAPABILITY"); !strings.Contains(r.Untagged[0], " SPECIAL-USE") || !strings.Contains(r.Untagged[0], " CREATE-SPECIAL-USE") {
		t.Errorf("CAPABILITY %q", r.Untagged)
	}
	c.ok("CREATE ToDo")
	c.ok("CREATE Projects/Foo")
	c.ok("CREATE SentMail")
	c.ok(`CREATE MyDrafts (USE (\Drafts))`)
	c.ok(`CREATE "Spam Mail" (USE (\Junk))`)
	c.ok("CREATE Trash/") // a folder of folders: no special use
	listIs(t, c.ok(`LIST "" "%%"`),
		`* LIST (\Noinferiors \Drafts) "/" "MyDrafts"`,
		`* LIST (\Noselect \HasChildren) "/" "Projects"`,
		`* LIST (\Noinferiors \Sent) "/" "SentMail"`,
		`* LIST (\Noinferiors \Junk) "/" "Spam Mail"`,
		`* LIST (\Noinferiors) "/" "ToDo"`,
		`* LIST (\Noselect \HasNoChildren) "/" "Trash"`,
		`* LIST (\Noinferiors) NIL INBOX`)
	listIs(t, c.ok(`LIST (SPECIAL-USE) "" "*"`),
		`* LIST (\Noinferiors \Drafts) "/" "MyDrafts"`,
		`* LIST (\Noinferiors \Sent) "/" "SentMail"`,
		`* LIST (\Noinferiors \Junk) "/" "Spam Mail"`)
	listIs(t, c.ok(`LIST "" "S*" RETURN (SPECIAL-USE)`),
		`* LIST (\Noinferiors \Sent) "/" "SentMail"`,
		`* LIST (\Noinferiors \Junk) "/" "Spam Mail"`)

	// RFC 6154 5.3: a use the server cannot give is refused, nothing made.
	c.no(`CREATE Everything (USE (\All))`).taggedHas(t, "NO [USEATTR] ")
	c.no(`CREATE Elsewhere (USE (\Sent))`).taggedHas(t, "NO [USEATTR] ")
	c.no(`CREATE SentMail2 (USE (\Sent \Drafts))`).taggedHas(t, "NO [USEATTR] ")
	c.no(`CREATE Trash (USE (\Sent))`).taggedHas(t, "NO [USEATTR] ")
	listIs(t, c.ok(`LIST "" "E*"`))
	c.ok("SELECT SentMail")
}

// TestListSpecialUseDefault: without imapd_special_use, the folder names
// clients create: Archive, Drafts, Junk, Sent, Trash.
func TestListSpecialUseDefault(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	for _, n := range []string{"Archive", "Drafts", "Junk", "Sent", "Trash", "sent"} {
		c.ok("CREATE %s", n)
	}
	c.ok(`CREATE Other (USE ())`)
	listIs(t, c.ok(`LIST (SPECIAL-USE) "" "*"`),
		`* LIST (\Noinferiors \Archive) "/" "Archive"`,
		`* LIST (\Noinferiors \Drafts) "/" "Drafts"`,
		`* LIST (\Noinferiors \Junk) "/" "Junk"`,
		`* LIST (\Noinferiors \Sent) "/" "Sent"`,
		`* LIST (\Noinferiors \Trash) "/" "Trash"`)
	_ = e
}

// TestListStatus: LIST-STATUS (RFC 5819), after its section 5 example: a
// STATUS follows the LIST of each selectable mailbox, none for a folder of
// folders; the selected mailbox gets what its client was told; items not
// offered are BAD, before anything is listed.
func TestListStatus(t *testing.T) {
	e, c := listTree(t)
	if r := c.ok("CAPABILITY"); !strings.Contains(r.Untagged[0], " LIST-STATUS") {
		t.Errorf("CAPABILITY %q lacks LIST-STATUS", r.Untagged)
	}
	listIs(t, c.ok(`LIST "" %% RETURN (STATUS (MESSAGES UNSEEN))`),
		`* LIST (\Noinferiors) "/" "Entw&APw-rfe"`,
		`* STATUS "Entw&APw-rfe" (MESSAGES 0 UNSEEN 0)`,
		`* LIST (\Noinferiors) "/" "a"`,
		`* STATUS "a" (MESSAGES 0 UNSEEN 0)`,
		`* LIST (\Noselect \HasChildren) "/" "b"`,
		`* LIST (\Noselect \HasNoChildren) "/" "d"`,
		`* LIST (\Noinferiors) NIL INBOX`,
		`* STATUS INBOX (MESSAGES 3 UNSEEN 3)`)
	c.ok("SELECT INBOX")
	c.ok(`STORE 1 +FLAGS.SILENT (\Seen)`)
	e.deliver(e.inbox(), "x@example.com", "new", "new\n")
	// The selected mailbox: what the client was told (3), not the file
	// (4); the new mail follows as EXISTS.
	listIs(t, c.ok(`LIST "" "INBOX" RETURN (STATUS (MESSAGES UNSEEN UIDNEXT))`),
		`* LIST (\Noinferiors) NIL INBOX`,
		`* STATUS INBOX (MESSAGES 3 UIDNEXT 4 UNSEEN 2)`,
		"* 4 EXISTS", "* 4 RECENT")
	listIs(t, c.ok(`LIST "" "b/*" RETURN (STATUS (SIZE RECENT))`),
		`* LIST (\Noinferiors) "/" "b/c"`,
		`* STATUS "b/c" (SIZE 0 RECENT 0)`)
	c.bad(`LIST "" %% RETURN (STATUS (BOGUS))`).exactly(t)
	// Without the return option, plain LIST as before.
	listIs(t, c.ok(`LIST "" a`), `* LIST (\Noinferiors) "/" "a"`)
}
