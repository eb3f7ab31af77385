package folders

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func readSubs(t *testing.T, tr *Tree) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(tr.Root(), ".mailboxlist"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// umaskedPerm returns perm as the process umask leaves it for a new file.
func umaskedPerm(t *testing.T, perm fs.FileMode) fs.FileMode {
	t.Helper()
	p := filepath.Join(tempDir(t), "probe")
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o777)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(p)
	return perm & fi.Mode().Perm()
}

func TestSubscriptions(t *testing.T) {
	tr := newTree(t)
	for _, n := range []string{"Drafts", "Entwürfe", "work/proj", "empty/"} {
		mustCreate(t, tr, n)
	}
	for _, n := range []string{"Drafts", "inbox", "Entwürfe", "work/proj", "Drafts", "INBOX", "Entwürfe"} {
		if err := tr.Subscribe(n); err != nil {
			t.Fatalf("Subscribe(%q): %v", n, err)
		}
	}
	const want = "Drafts\nINBOX\nEntw&APw-rfe\nwork/proj\n"
	if got := readSubs(t, tr); got != want {
		t.Fatalf("subscription file %q, want %q", got, want)
	}
	if runtime.GOOS != "windows" {
		wantMode(t, filepath.Join(tr.Root(), ".mailboxlist"), false, umaskedPerm(t, 0o644))
	}
	wantErr(t, tr.Subscribe("nope"), imap.ResponseCodeNonExistent, "Can't subscribe nope: not a mailbox")
	wantErr(t, tr.Subscribe("Drafts/x"), imap.ResponseCodeNonExistent, "not a mailbox")

	// The subscription file is never listed.
	wantList(t, list(t, tr, "", "*"), `(\Noinferiors \Unmarked) "/" Drafts
(\Noinferiors \Unmarked) "/" Entwürfe
(\Noselect \HasNoChildren) "/" empty
(\Noselect \HasChildren) "/" work
(\Noinferiors \Unmarked) "/" work/proj
(\Noinferiors) NIL INBOX
`)
	wantList(t, lsub(t, tr, "", "*"), `() "/" Drafts
(\Noinferiors) NIL INBOX
() "/" Entwürfe
() "/" work/proj
`)
	// "%" shows work, not subscribed itself, as \Noselect.
	wantList(t, lsub(t, tr, "", "%"), `() "/" Drafts
(\Noinferiors) NIL INBOX
() "/" Entwürfe
(\Noselect) "/" work
`)
	wantList(t, lsub(t, tr, "work/", "%"), `() "/" work/proj
`)
	wantList(t, lsub(t, tr, "", "in%"), `(\Noinferiors) NIL INBOX
`)
	wantList(t, lsub(t, tr, "", ""), "")
	wantList(t, lsub(t, tr, ""), "")

	// A directory can be subscribed (UW accepts it too); once subscribed
	// itself, work is no longer an implied \Noselect level.
	if err := tr.Subscribe("work"); err != nil {
		t.Fatal(err)
	}
	wantList(t, lsub(t, tr, "", "w%"), `() "/" work
`)

	if err := tr.Unsubscribe("Entwürfe"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Unsubscribe("work/"); err != nil {
		t.Fatal(err)
	}
	if got := readSubs(t, tr); got != "Drafts\nINBOX\nwork/proj\n" {
		t.Fatalf("after Unsubscribe: %q", got)
	}
	if err := tr.Unsubscribe("never-subscribed"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Unsubscribe("Inbox"); err != nil {
		t.Fatal(err)
	}
	// A deleted mailbox can still be unsubscribed.
	if err := tr.Delete("work/proj"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Unsubscribe("work/proj"); err != nil {
		t.Fatal(err)
	}
	if got := readSubs(t, tr); got != "Drafts\n" {
		t.Fatalf("after Unsubscribe: %q", got)
	}
	if runtime.GOOS != "windows" {
		wantMode(t, filepath.Join(tr.Root(), ".mailboxlist"), false, umaskedPerm(t, 0o644))
	}
	if _, err := os.Lstat(filepath.Join(tr.Root(), subTemp)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("temporary file left behind")
	}
}

func TestSubscriptionFileLegacyContent(t *testing.T) {
	tr := newTree(t)
	mustCreate(t, tr, "a")
	// CRLF lines, a remote name, a blank line, an undecodable line, no
	// final newline.
	legacy := "a\r\n{imap.example.com}INBOX\n\nbad\x01name\nold/gone"
	if err := os.WriteFile(filepath.Join(tr.Root(), ".mailboxlist"), []byte(legacy), 0o644); err != nil {
		t.Fatal(err)
	}
	wantList(t, lsub(t, tr, "", "*"), `() "/" a
() "/" old/gone
`)
	if err := tr.Subscribe("INBOX"); err != nil {
		t.Fatal(err)
	}
	if got := readSubs(t, tr); got != legacy+"\nINBOX\n" {
		t.Fatalf("got %q", got)
	}
	if err := tr.Unsubscribe("a"); err != nil {
		t.Fatal(err)
	}
	if got := readSubs(t, tr); got != "{imap.example.com}INBOX\nbad\x01name\nold/gone\nINBOX\n" {
		t.Fatalf("got %q", got)
	}
}

func TestSubscribeInboxMakesRoot(t *testing.T) {
	tr := newTree(t)
	wantList(t, lsub(t, tr, "", "*"), "")
	if err := tr.Subscribe("INBOX"); err != nil {
		t.Fatal(err)
	}
	wantMode(t, tr.Root(), true, 0o700)
	if got := readSubs(t, tr); got != "INBOX\n" {
		t.Fatalf("got %q", got)
	}
}
