package folders

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mkMaildir(t *testing.T, dir string) {
	t.Helper()
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
}

func listNames(t *testing.T, tr *Tree, pattern string) []string {
	t.Helper()
	es, err := tr.List("", []string{pattern})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		attrs := make([]string, len(e.Attrs))
		for i, a := range e.Attrs {
			attrs[i] = string(a)
		}
		out = append(out, e.Name+" "+strings.Join(attrs, ","))
	}
	return out
}

// The maildir layout: the INBOX maildir is the root, folders are maildirs
// below it, directories without cur/ are folders of folders.
func TestMaildirLayout(t *testing.T) {
	inbox := filepath.Join(t.TempDir(), "alice.mdir")
	mkMaildir(t, inbox)
	os.WriteFile(filepath.Join(inbox, "imapd-uidlist"), nil, 0o600)
	tr := NewMaildir(inbox, "")

	p, err := tr.Create("Sent")
	if err != nil || p != filepath.Join(inbox, "Sent") {
		t.Fatalf("create Sent: %q %v", p, err)
	}
	mkMaildir(t, p)
	if _, err := tr.Create("Work/2026"); err != nil {
		t.Fatal(err)
	}
	if k, _ := tr.Kind("Work"); k != FolderOfFolders {
		t.Errorf("Work is %v", k)
	}
	if k, _ := tr.Kind("Work/2026"); k != MessageFolder {
		t.Errorf("Work/2026 is %v", k)
	}
	if _, err := tr.Create("Sent/x"); err == nil {
		t.Error("a folder inside a message folder was created")
	}
	for _, reserved := range []string{"cur", "new", "tmp", "imapd-uidlist"} {
		if _, err := tr.Create(reserved); err == nil {
			t.Errorf("created %s", reserved)
		}
	}
	os.WriteFile(filepath.Join(inbox, "new", "1.x"), []byte("hi\n"), 0o600)
	os.WriteFile(filepath.Join(inbox, "Sent", "new", "2.x"), []byte("hi\n"), 0o600)
	got := listNames(t, tr, "*")
	want := []string{
		"Sent \\Noinferiors,\\Marked",
		"Work \\Noselect,\\HasChildren",
		"Work/2026 \\Noinferiors,\\Unmarked",
		"INBOX \\Noinferiors",
	}
	if !slices.Equal(got, want) {
		t.Errorf("LIST *:\n got %q\nwant %q", got, want)
	}
	if err := tr.CheckMailbox(filepath.Join(inbox, "Sent")); err != nil {
		t.Error(err)
	}
	if err := tr.CheckMailbox(filepath.Join(inbox, "Work")); err == nil {
		t.Error("a folder of folders passed CheckMailbox")
	}
	if err := tr.Rename("Sent", "Work/Sent"); err != nil {
		t.Fatal(err)
	}
	if err := tr.Delete("Work/Sent"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(inbox, "Work", "Sent")); !os.IsNotExist(err) {
		t.Errorf("deleted maildir still there: %v", err)
	}
	if err := tr.Delete("Work"); err == nil {
		t.Error("deleted a folder of folders with children")
	}
}
