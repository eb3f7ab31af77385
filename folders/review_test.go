package folders

import (
	"os"
	"path/filepath"
	"testing"
)

// Review of the maildir layout: Dovecot's LAYOUT=fs and mbsync's
// "SubFolders Verbatim" (which NewMaildir says it follows) let a maildir
// hold child maildirs ("a" with cur/ and "a/b" with its own cur/). Here a
// maildir is a message folder without children, so "a/b" is not listed,
// and DELETE "a" removed the whole directory: "a/b" and its mail with it,
// a folder the client could not even see.
func TestReviewMaildirDeleteKeepsChildMaildir(t *testing.T) {
	inbox := filepath.Join(t.TempDir(), "alice.mdir")
	mkMaildir(t, inbox)
	tr := NewMaildir(inbox, "")
	mkMaildir(t, filepath.Join(inbox, "a"))
	child := filepath.Join(inbox, "a", "b")
	mkMaildir(t, child)
	mail := filepath.Join(child, "cur", "1700000000.M1P1.host:2,S")
	if err := os.WriteFile(mail, []byte("Subject: keep me\n\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := tr.Delete("a")
	if _, serr := os.Stat(mail); serr != nil {
		t.Errorf("DELETE a (err %v) removed the child maildir a/b and its mail: %v", err, serr)
	}
}
