package mbox

import (
	"path/filepath"
	"testing"
)

// With lock_id (a spool shared by several hosts) readers do not go on the
// file lock alone: they take the dot-lock as writers do.
func TestClusterReadersTakeTheDotLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	ro := testOpts(at(1))
	ro.ReadOnly = true
	ro.LockID = "mail1"
	readers := 0
	testReadLocked = func(string) { readers++ }
	defer func() { testReadLocked = nil }()
	m, err := Open(path, ro)
	must(t, err)
	if m.Len() != 3 {
		t.Fatalf("%d messages", m.Len())
	}
	must(t, m.Close())
	if _, err := Stat(path, ro); err != nil {
		t.Fatal(err)
	}
	if readers != 0 {
		t.Fatalf("%d readers on the file lock alone with lock_id set", readers)
	}
}
