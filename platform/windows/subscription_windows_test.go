package windows_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"imapd/folders"
	"imapd/internal/testdir"
	"imapd/platform/windows"
)

// (An external test: folders imports platform, which imports this package.)

// TestSubscriptionFileRoundTrip writes MAILBOX.LST through the folders
// package on a real Windows file system (Wine's), reads it back, and checks
// that a legacy file with CRLF lines, named in another case, is read too and
// never listed as a mailbox.
func TestSubscriptionFileRoundTrip(t *testing.T) {
	dir := testdir.New(t)
	inbox := filepath.Join(dir, "alice")
	root := inbox + ".mbx"
	if err := os.WriteFile(inbox, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tree := folders.New(root, inbox, windows.SubscriptionFile)
	if _, err := tree.Create("Work"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Work", "INBOX"} {
		if err := tree.Subscribe(n); err != nil {
			t.Fatalf("subscribe %s: %v", n, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(root, "MAILBOX.LST"))
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "Work\nINBOX\n" {
		t.Errorf("MAILBOX.LST = %q", data)
	}
	if got := subscribed(t, tree); !slices.Equal(got, []string{"INBOX", "Work"}) {
		t.Errorf("LSUB = %v", got)
	}

	// A legacy NT file: CRLF lines, lower-case name. The file system is
	// case-insensitive, so it is the same file.
	if err := os.Remove(filepath.Join(root, "MAILBOX.LST")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "mailbox.lst"), []byte("Work\r\nINBOX\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := subscribed(t, tree); !slices.Equal(got, []string{"INBOX", "Work"}) {
		t.Errorf("LSUB from a CRLF mailbox.lst = %v", got)
	}
	entries, err := tree.List("", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name != "INBOX" && e.Name != "Work" {
			t.Errorf("LIST shows %q", e.Name)
		}
	}
}

func subscribed(t *testing.T, tree *folders.Tree) []string {
	t.Helper()
	entries, err := tree.ListSubscribed("", []string{"*"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name)
	}
	slices.Sort(names)
	return names
}
