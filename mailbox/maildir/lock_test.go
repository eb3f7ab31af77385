package maildir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"imapd/mailbox"
)

// The maildir policy of the dot-lock (package dotlock tests the rules): a
// lock of another host is broken when older than staleLock.
func TestLockAgeRule(t *testing.T) {
	dir := newDir(t)
	lock := filepath.Join(dir, lockName)
	os.WriteFile(lock, []byte("123 elsewhere\n"), 0o600)
	if _, err := lockList(dir, 20*time.Millisecond); !errors.Is(err, mailbox.ErrLocked) {
		t.Fatalf("young foreign lock: %v", err)
	}
	old := time.Now().Add(-2 * staleLock)
	os.Chtimes(lock, old, old)
	unlock, err := lockList(dir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}
