package folders

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/platform"
)

func list(t *testing.T, tr *Tree, ref string, patterns ...string) []Entry {
	t.Helper()
	out, err := tr.List(ref, patterns)
	if err != nil {
		t.Fatalf("List(%q, %q): %v", ref, patterns, err)
	}
	return out
}

func lsub(t *testing.T, tr *Tree, ref string, patterns ...string) []Entry {
	t.Helper()
	out, err := tr.ListSubscribed(ref, patterns)
	if err != nil {
		t.Fatalf("ListSubscribed(%q, %q): %v", ref, patterns, err)
	}
	return out
}

// render writes entries one per line the way a LIST reply shows them
// (without "* LIST " and with the name unquoted, "" for the empty name).
func render(entries []Entry) string {
	var b strings.Builder
	for _, e := range entries {
		attrs := make([]string, len(e.Attrs))
		for i, a := range e.Attrs {
			attrs[i] = string(a)
		}
		b.WriteString("(" + strings.Join(attrs, " ") + ") ")
		if e.Delim == 0 {
			b.WriteString("NIL ")
		} else {
			b.WriteString(`"` + string(e.Delim) + `" `)
		}
		if e.Name == "" {
			b.WriteString(`""`)
		} else {
			b.WriteString(e.Name)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func wantList(t *testing.T, got []Entry, want string) {
	t.Helper()
	if g := render(got); g != want {
		t.Fatalf("got:\n%swant:\n%s", g, want)
	}
}

// smallTree makes:
//
//	Drafts          empty file
//	Entw&APw-rfe    new mail (atime < mtime)
//	Sent            read (atime > mtime)
//	empty/          directory
//	work/proj       read
//	work/R&D        raw name made from a shell, not valid modified UTF-7
//	work/caf\xe9    Latin-1 name: not listable
//	.mailboxlist, Drafts.lock, .imapd-journal, work/proj.lock.1.2.host: hidden
func smallTree(t *testing.T) *Tree {
	t.Helper()
	tr := newTree(t)
	root := tr.Root()
	for _, n := range []string{"Drafts", "Entwürfe", "Sent", "empty/", "work/proj"} {
		mustCreate(t, tr, n)
	}
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	for _, f := range []struct {
		path         string
		content      string
		atime, mtime time.Time
	}{
		{"Entw&APw-rfe", "From x\n", t0, t0.Add(time.Second)},
		{"Sent", "From x\n", t0.Add(time.Second), t0},
		{"work/proj", "From x\n", t0.Add(time.Second), t0},
		{"Drafts", "", t0, t0.Add(time.Second)}, // empty: never \Marked
	} {
		p := filepath.Join(root, filepath.FromSlash(f.path))
		if err := os.WriteFile(p, []byte(f.content), 0o600); err != nil {
			t.Fatal(err)
		}
		setTimes(t, p, f.atime, f.mtime)
	}
	for _, f := range []string{"work/R&D", ".mailboxlist", "Drafts.lock", ".imapd-journal", "work/proj.lock.1.2.host", "work/caf\xe9"} {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(f)), nil, 0o600); err != nil {
			if strings.Contains(f, "\xe9") {
				continue // the file system refuses non-UTF-8 names (Windows)
			}
			t.Fatal(err)
		}
	}
	return tr
}

func TestListSmallTree(t *testing.T) {
	tr := smallTree(t)
	if _, ok := platform.Atime(mustStat(t, filepath.Join(tr.Root(), "Sent"))); !ok {
		t.Skip("no access times on this OS")
	}
	wantList(t, list(t, tr, "", "*"), `(\Noinferiors \Unmarked) "/" Drafts
(\Noinferiors \Marked) "/" Entwürfe
(\Noinferiors \Unmarked) "/" Sent
(\Noselect \HasNoChildren) "/" empty
(\Noselect \HasChildren) "/" work
(\Noinferiors \Unmarked) "/" work/R&D
(\Noinferiors \Unmarked) "/" work/proj
(\Noinferiors) NIL INBOX
`)
	wantList(t, list(t, tr, "", "%"), `(\Noinferiors \Unmarked) "/" Drafts
(\Noinferiors \Marked) "/" Entwürfe
(\Noinferiors \Unmarked) "/" Sent
(\Noselect \HasNoChildren) "/" empty
(\Noselect \HasChildren) "/" work
(\Noinferiors) NIL INBOX
`)
	want := `(\Noinferiors \Unmarked) "/" work/R&D
(\Noinferiors \Unmarked) "/" work/proj
`
	wantList(t, list(t, tr, "work/", "%"), want)
	wantList(t, list(t, tr, "", "work/%"), want)
	wantList(t, list(t, tr, "", "work/*"), want)
	wantList(t, list(t, tr, "work/", "*"), want)
	wantList(t, list(t, tr, "", "w%/"), `(\Noselect \HasChildren) "/" work/
`)
	wantList(t, list(t, tr, "", "work/"), `(\Noselect \HasChildren) "/" work/
`)
	wantList(t, list(t, tr, "", "Entw*"), `(\Noinferiors \Marked) "/" Entwürfe
`)
	wantList(t, list(t, tr, "", "inbox"), `(\Noinferiors) NIL INBOX
`)
	wantList(t, list(t, tr, "", "INBOX"), `(\Noinferiors) NIL INBOX
`)
	wantList(t, list(t, tr, "", "nothing*"), "")
	wantList(t, list(t, tr, ""), `(\Noselect) "/" ""
`)
	wantList(t, list(t, tr, "work/"), `(\Noselect) "/" ""
`)
	wantList(t, list(t, tr, "", "/etc/*"), "")
	wantList(t, list(t, tr, "", "~root/*"), "")
	// Several patterns: each mailbox once, in tree order.
	wantList(t, list(t, tr, "", "work", "*proj", "D%", "work"), `(\Noinferiors \Unmarked) "/" Drafts
(\Noselect \HasChildren) "/" work
(\Noinferiors \Unmarked) "/" work/proj
`)
}

func mustStat(t *testing.T, p string) os.FileInfo {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

func TestListRawAndShadowedNames(t *testing.T) {
	tr := smallTree(t)
	// The raw name opens the raw file.
	wantKind(t, tr, "work/R&D", MessageFolder)
	p, err := tr.Path("work/R&D")
	if err != nil || p != filepath.Join(tr.Root(), "work", "R&D") {
		t.Fatalf("Path = %q, %v", p, err)
	}
	// Once the canonical twin exists, it wins, and the name is listed once.
	if err := os.Mkdir(filepath.Join(tr.Root(), "work", "R&-D"), 0o700); err != nil {
		t.Fatal(err)
	}
	wantList(t, list(t, tr, "", "work/R*"), `(\Noselect \HasNoChildren) "/" work/R&D
`)
	wantKind(t, tr, "work/R&D", FolderOfFolders)
	// An on-disk name that decodes to something unusable is listed raw.
	if err := os.WriteFile(filepath.Join(tr.Root(), "work", "&AC8-"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wantList(t, list(t, tr, "", "work/&*"), `(\Noinferiors \Unmarked) "/" work/&AC8-
`)
	wantKind(t, tr, "work/&AC8-", MessageFolder)
}

func TestListMarkedFollowsTimes(t *testing.T) {
	tr := newTree(t)
	p := mustCreate(t, tr, "f")
	if _, ok := platform.Atime(mustStat(t, p)); !ok {
		t.Skip("no access times on this OS")
	}
	if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	setTimes(t, p, t0, t0.Add(time.Millisecond)) // delivered after the last read
	wantList(t, list(t, tr, "", "f"), `(\Noinferiors \Marked) "/" f
`)
	setTimes(t, p, t0, t0) // read
	wantList(t, list(t, tr, "", "f"), `(\Noinferiors \Unmarked) "/" f
`)
}

func TestListNoRoot(t *testing.T) {
	tr := newTree(t)
	wantList(t, list(t, tr, "", "*"), `(\Noinferiors) NIL INBOX
`)
}

func TestListInboxChildren(t *testing.T) {
	tr := newTree(t)
	mustCreate(t, tr, "INBOX/")
	wantList(t, list(t, tr, "", "*"), `(\HasNoChildren) "/" INBOX
`)
	mustCreate(t, tr, "INBOX/Sub")
	wantList(t, list(t, tr, "", "*"), `(\Noinferiors \Unmarked) "/" INBOX/Sub
(\HasChildren) "/" INBOX
`)
	wantList(t, list(t, tr, "", "INBOX/%"), `(\Noinferiors \Unmarked) "/" INBOX/Sub
`)
	// A root file named INBOX (any case) is never listed: the name means
	// the drop file.
	if _, err := os.Stat(filepath.Join(tr.Root(), "inbox")); err == nil {
		return // case-insensitive file system: "inbox" is the INBOX directory
	}
	if err := os.WriteFile(filepath.Join(tr.Root(), "inbox"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	wantList(t, list(t, tr, "", "%"), `(\HasChildren) "/" INBOX
`)
}

func TestListHidesDropFileInRoot(t *testing.T) {
	// imapd_mailbox_name "." style: the root holds the drop file itself.
	dir := tempDir(t)
	inbox := filepath.Join(dir, "mbox")
	if err := os.WriteFile(inbox, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	tr := New(dir, inbox, ".mailboxlist")
	mustCreate(t, tr, "Sent")
	wantList(t, list(t, tr, "", "*"), `(\Noinferiors \Unmarked) "/" Sent
(\Noinferiors) NIL INBOX
`)
}

func TestWindowsSubscriptionFileHidden(t *testing.T) {
	tr := newTree(t)
	tr = New(tr.Root(), filepath.Join(filepath.Dir(tr.Root()), "bob"), "MAILBOX.LST")
	mustCreate(t, tr, "Sent")
	if err := tr.Subscribe("Sent"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(tr.Root(), "MAILBOX.LST")); err != nil || string(b) != "Sent\n" {
		t.Fatalf("MAILBOX.LST = %q, %v", b, err)
	}
	wantList(t, list(t, tr, "", "*"), `(\Noinferiors \Unmarked) "/" Sent
(\Noinferiors) NIL INBOX
`)
	_, err := tr.Create("mailbox.lst")
	if err == nil {
		t.Fatal("Create(mailbox.lst) succeeded")
	}
}
