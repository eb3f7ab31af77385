package maildir

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
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

// Other sessions (Checkpoint) and mail readers rename files in cur/ to
// change flags without the uid list lock. A directory read concurrent with
// a rename may see neither name: the sync took the message as removed,
// dropped it from the list, and the next sync numbered it again (its UID
// changed; UIDNEXT grew with no delivery).
func TestReviewRenameDuringScanKeepsUID(t *testing.T) {
	dir := newDir(t)
	base := func(i int) string { return fmt.Sprintf("17000%05d.M1P1Q%d.host-with-a-rather-long-name.example", i, i) }
	for i := range 2000 {
		if err := os.WriteFile(filepath.Join(dir, "cur", base(i)+infoSep+"2,"), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	m, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	next := m.UIDNext()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for k := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := filepath.Join(dir, "cur", base(k*100)+infoSep+"2,")
			b := filepath.Join(dir, "cur", base(k*100)+infoSep+"2,S")
			for {
				select {
				case <-stop:
					return
				default:
				}
				os.Rename(a, b)
				a, b = b, a
			}
		}()
	}
	for i := 0; i < 40 && !t.Failed(); i++ {
		o, err := Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if o.UIDNext() != next {
			t.Errorf("open %d: UIDNEXT %d, was %d: a renamed message was numbered again", i, o.UIDNext(), next)
		}
	}
	close(stop)
	wg.Wait()
}

// A file whose name holds a space (or another blank) was numbered and
// written to the uid list, whose lines are split on blanks: every later
// open failed with "bad line" - the whole maildir unusable for one odd
// file name (a user's copy, a deliverer with a blank in its host name).
func TestReviewBlankInFileName(t *testing.T) {
	dir := newDir(t)
	deliver(t, dir, "1700000000.M1P1.my host", "Subject: odd\n\nx\n")
	if runtime.GOOS != "windows" { // not in Windows file names
		deliver(t, dir, "1700000001.M1P1.tab\there", "Subject: odd\n\nx\n")
		deliver(t, dir, "1700000002.M1P1.cr\rhere", "Subject: odd\n\nx\n")
	}
	deliver(t, dir, "1700000003.M1P1.host", "Subject: fine\n\nx\n")
	for i := range 2 {
		m, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if m.Len() == 0 {
			t.Errorf("open %d: the ordinary message is missing", i)
		}
	}
}
