package maildir

import (
	"testing"
)

// Review of the maildir store: UIDs are never reused or lost.

func uidOf(t *testing.T, m *Mailbox, base string) uint32 {
	t.Helper()
	for _, msg := range m.msgs {
		if msg.base == base {
			return msg.uid
		}
	}
	t.Fatalf("%s not in the view", base)
	return 0
}

// A read-only open (EXAMINE) numbers a delivery it finds but does not
// record the number: the next read-write open numbers the new files anew,
// in name order, so a UID the EXAMINE client saw names another message.
func TestReviewReadOnlyUIDsKept(t *testing.T) {
	dir := newDir(t)
	deliver(t, dir, "2000.B.host", "Subject: b\n\nb\n")
	ro, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	seen := uidOf(t, ro, "2000.B.host")
	deliver(t, dir, "1000.A.host", "Subject: a\n\na\n") // an earlier name (another host's clock)
	rw, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := uidOf(t, rw, "2000.B.host"); got != seen {
		t.Errorf("2000.B.host was UID %d read-only, is UID %d read-write (UID %d is now 1000.A.host)", seen, got, uidOf(t, rw, "1000.A.host"))
	}
}
