package maildir

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"imapd/mailbox"
)

func newDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(tempDir(t), "alice.mdir")
	if err := Create(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func msg(body string, f mailbox.Flags, kws ...string) mailbox.NewMessage {
	return mailbox.NewMessage{Body: strings.NewReader(body), Size: int64(len(body)), Flags: f, Keywords: kws}
}

func read(t *testing.T, m *Mailbox, i int) string {
	t.Helper()
	r, err := m.Open(i)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != m.Message(i).Size {
		t.Errorf("message %d: read %d bytes, size says %d", i, len(b), m.Message(i).Size)
	}
	return string(b)
}

// deliver does what an MTA does: write in tmp/, rename into new/.
func deliver(t *testing.T, dir, name, body string) {
	t.Helper()
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		t.Fatal(err)
	}
}

func TestAppendAndReopen(t *testing.T) {
	dir := newDir(t)
	validity, uids, err := AppendTo(dir, []mailbox.NewMessage{
		msg("Subject: one\r\n\r\nbody\r\n", mailbox.Seen),
		msg("Subject: two\n\nlf only\n", mailbox.Flagged|mailbox.Deleted, "$Label1", "Work"),
		msg("Subject: three\r\n\r\nbare\rcr\r\n", 0, "work"),
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if validity == 0 || !slices.Equal(uids, []uint32{1, 2, 3}) {
		t.Fatalf("validity %d uids %v", validity, uids)
	}
	m, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Len() != 3 || m.UIDNext() != 4 || m.UIDValidity() != validity {
		t.Fatalf("len %d next %d validity %d", m.Len(), m.UIDNext(), m.UIDValidity())
	}
	want := []string{"Subject: one\r\n\r\nbody\r\n", "Subject: two\r\n\r\nlf only\r\n", "Subject: three\r\n\r\nbare\rcr\r\n"}
	for i, w := range want {
		if got := read(t, m, i); got != w {
			t.Errorf("message %d: %q, want %q", i, got, w)
		}
	}
	if got := m.Message(1); got.Flags != mailbox.Flagged|mailbox.Deleted || !slices.Equal(got.Keywords, []string{"$Label1", "Work"}) {
		t.Errorf("message 2: %+v", got)
	}
	if got := m.Message(2).Keywords; !slices.Equal(got, []string{"Work"}) {
		t.Errorf("keyword case: %v", got)
	}
	// The names' order is not the order of delivery (the microseconds in
	// them are not zero-padded), so compare the flag parts as a set.
	names, _ := os.ReadDir(filepath.Join(dir, "cur"))
	var infos []string
	for _, n := range names {
		_, info, _ := strings.Cut(n.Name(), infoSep)
		infos = append(infos, info)
	}
	slices.Sort(infos)
	if !slices.Equal(infos, []string{"2,FTab", "2,S", "2,b"}) {
		t.Errorf("cur/: %v", names)
	}
}

func TestDeliveryTakenInOnce(t *testing.T) {
	dir := newDir(t)
	m, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range n {
			deliver(t, dir, fmt.Sprintf("1700000000.%04d.mta", i), fmt.Sprintf("Subject: %d\n\nhi\n", i))
		}
	}()
	seen := 0
	for seen < n {
		u, err := m.Sync()
		if err != nil {
			t.Fatal(err)
		}
		seen += u.NewMessages
		if u.NewMessages == 0 {
			runtimeYield()
		}
	}
	wg.Wait()
	if u, _ := m.Sync(); u.NewMessages != 0 || m.Len() != n {
		t.Fatalf("len %d, extra %d", m.Len(), u.NewMessages)
	}
	uids := map[uint32]bool{}
	subjects := map[string]bool{}
	for i := range m.Len() {
		mm := m.Message(i)
		if uids[mm.UID] || !mm.Recent {
			t.Fatalf("message %d: uid %d twice or not recent", i, mm.UID)
		}
		uids[mm.UID] = true
		subjects[strings.SplitN(read(t, m, i), "\r\n", 2)[0]] = true
	}
	if len(subjects) != n {
		t.Errorf("%d distinct messages, want %d", len(subjects), n)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "new")); len(left) != 0 {
		t.Errorf("new/ not emptied: %d left", len(left))
	}
	m.Close()
	m2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Len() != n || m2.Message(0).Recent {
		t.Errorf("reopen: len %d recent %v", m2.Len(), m2.Message(0).Recent)
	}
}

func runtimeYield() { runtime.Gosched() }

func TestExpungeNeverReusesUIDs(t *testing.T) {
	dir := newDir(t)
	AppendTo(dir, []mailbox.NewMessage{msg("a\n", 0), msg("b\n", mailbox.Deleted), msg("c\n", mailbox.Deleted)}, Options{})
	m, _ := Open(dir, Options{})
	gone, err := m.Expunge(nil)
	if err != nil || !slices.Equal(gone, []int{1, 2}) || m.Len() != 1 {
		t.Fatalf("expunge: %v %v len %d", gone, err, m.Len())
	}
	m.Close()
	_, uids, err := AppendTo(dir, []mailbox.NewMessage{msg("d\n", 0)}, Options{})
	if err != nil || !slices.Equal(uids, []uint32{4}) {
		t.Fatalf("append after expunge: %v %v", uids, err)
	}
	m, _ = Open(dir, Options{})
	if m.Len() != 2 || m.Message(0).UID != 1 || m.Message(1).UID != 4 {
		t.Errorf("after reopen: %d messages, uids %d %d", m.Len(), m.Message(0).UID, m.Message(1).UID)
	}
}

func TestTwoSessions(t *testing.T) {
	dir := newDir(t)
	AppendTo(dir, []mailbox.NewMessage{msg("Subject: x\n\nbody\n", 0)}, Options{})
	a, _ := Open(dir, Options{})
	b, _ := Open(dir, Options{})
	if err := a.SetFlags(0, mailbox.Seen|mailbox.Answered, []string{"Todo"}); err != nil {
		t.Fatal(err)
	}
	if err := a.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	// b still has the old name: reading finds the renamed file.
	if got := read(t, b, 0); got != "Subject: x\r\n\r\nbody\r\n" {
		t.Errorf("b read %q", got)
	}
	if _, err := b.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := b.Message(0); got.Flags != mailbox.Seen|mailbox.Answered || !slices.Equal(got.Keywords, []string{"Todo"}) {
		t.Errorf("b sees %+v", got)
	}
	// a removes it; b keeps it in view until its own expunge.
	a.SetFlags(0, mailbox.Deleted, nil)
	if _, err := a.Expunge(nil); err != nil {
		t.Fatal(err)
	}
	b.Sync()
	if _, err := b.Open(0); err == nil {
		t.Error("b opened a removed message")
	}
	if gone, err := b.Expunge(nil); err != nil || !slices.Equal(gone, []int{0}) {
		t.Errorf("b expunge: %v %v", gone, err)
	}
}

func TestForeignFilesAndFlags(t *testing.T) {
	dir := newDir(t)
	body := "Subject: mta\n\nline\n"
	name := "1700000001.M1P2.mta" + infoSep + "2,PS" // passed + seen, set by another tool
	if err := os.WriteFile(filepath.Join(dir, "cur", name), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	m, _ := Open(dir, Options{})
	if m.Len() != 1 || m.Message(0).Size != int64(len(body)+3) || m.Message(0).Flags != mailbox.Seen {
		t.Fatalf("foreign: %+v", m.Message(0))
	}
	m.SetFlags(0, mailbox.Seen|mailbox.Flagged, nil)
	m.Close()
	if _, err := os.Stat(filepath.Join(dir, "cur", "1700000001.M1P2.mta"+infoSep+"2,FPS")); err != nil {
		t.Errorf("P not kept in order: %v", err)
	}
	// Files that are not messages are ignored.
	os.WriteFile(filepath.Join(dir, "cur", ".hidden"), nil, 0o600)
	m, _ = Open(dir, Options{})
	if m.Len() != 1 {
		t.Errorf("len %d", m.Len())
	}
}

func TestTooManyKeywords(t *testing.T) {
	dir := newDir(t)
	AppendTo(dir, []mailbox.NewMessage{msg("a\n", 0)}, Options{})
	m, _ := Open(dir, Options{})
	var kws []string
	for i := range maxKeywords {
		kws = append(kws, fmt.Sprintf("k%d", i))
	}
	if err := m.SetFlags(0, 0, kws); err != nil {
		t.Fatal(err)
	}
	if err := m.SetFlags(0, 0, append(kws, "one-more")); !errors.Is(err, mailbox.ErrTooManyKeywords) {
		t.Errorf("27th keyword: %v", err)
	}
}

func TestCrashLeftovers(t *testing.T) {
	dir := newDir(t)
	AppendTo(dir, []mailbox.NewMessage{msg("a\n", 0)}, Options{})
	// A crash mid-write leaves the temporary list; a crash while locked
	// leaves an old lock file.
	os.WriteFile(filepath.Join(dir, uidlistName+".tmp"), []byte("garbage"), 0o600)
	lock := filepath.Join(dir, lockName)
	os.WriteFile(lock, []byte("99999\n"), 0o600)
	old := time.Now().Add(-3 * staleLock)
	os.Chtimes(lock, old, old)
	m, err := Open(dir, Options{LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 1 || m.Message(0).UID != 1 {
		t.Errorf("after crash: len %d", m.Len())
	}
	// A fresh lock is waited for, then ErrLocked.
	os.WriteFile(lock, nil, 0o600)
	if _, err := Open(dir, Options{LockTimeout: 20 * time.Millisecond}); !errors.Is(err, mailbox.ErrLocked) {
		t.Errorf("held lock: %v", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	dir := newDir(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	all := map[uint32]bool{}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				_, uids, err := AppendTo(dir, []mailbox.NewMessage{msg(fmt.Sprintf("g%d i%d\n", g, i), 0)}, Options{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, u := range uids {
					if all[u] {
						t.Errorf("uid %d twice", u)
					}
					all[u] = true
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	m, _ := Open(dir, Options{})
	if m.Len() != 80 || len(all) != 80 {
		t.Errorf("len %d, uids %d", m.Len(), len(all))
	}
}

func TestStatDoesNotTakeIn(t *testing.T) {
	dir := newDir(t)
	AppendTo(dir, []mailbox.NewMessage{msg("a\n", mailbox.Seen)}, Options{})
	deliver(t, dir, "1700000002.x.mta", "new\n")
	st, err := Stat(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The appended message waits in new/ too: \Recent for the next
	// session, as an appended message of an mbox.
	if st.Messages != 2 || st.Recent != 2 || st.Unseen != 1 || st.UIDNext != 3 || st.Size != 3+5 {
		t.Errorf("stat %+v", st)
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "new")); len(left) != 2 {
		t.Error("Stat moved new/ files")
	}
	m, _ := Open(dir, Options{})
	if m.Len() != 2 || m.Message(1).UID != 2 || !m.Message(1).Recent {
		t.Errorf("open after stat: %+v", m.Message(1))
	}
}

// A folder deleted and created again in the same second gets a greater
// UIDVALIDITY: the user's high-water mark (issue 9.1 for maildir).
func TestValidityMark(t *testing.T) {
	root := tempDir(t)
	now := time.Unix(1765000000, 0)
	opt := Options{ValidityFile: filepath.Join(root, ValidityFileName), Now: func() time.Time { return now }}
	dir := filepath.Join(root, "Work")
	var seen []uint32
	for range 3 {
		if err := Create(dir, opt); err != nil {
			t.Fatal(err)
		}
		m, err := Open(dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, m.UIDValidity())
		if err := removeTree(dir); err != nil {
			t.Fatal(err)
		}
	}
	if seen[0] != 1765000000 || seen[1] <= seen[0] || seen[2] <= seen[1] {
		t.Errorf("UIDVALIDITY of a folder created three times in one second: %v", seen)
	}
	now = now.Add(-time.Hour) // the clock set back
	Create(dir, opt)
	if m, _ := Open(dir, opt); m.UIDValidity() <= seen[2] {
		t.Errorf("after the clock went back: %d, not above %d", m.UIDValidity(), seen[2])
	}
}

// TestExpungeAfterAnotherRename: another session renamed a message's file
// (a flag change) after this view last looked. The expunge must remove the
// file by its present name, or keep the message when \Deleted was taken
// off; never drop it from the uid list while the file stays, which would
// number it again.
func TestExpungeAfterAnotherRename(t *testing.T) {
	for _, tc := range []struct {
		name  string
		later mailbox.Flags // b's flags after a looked
		left  int
	}{
		{"still deleted", mailbox.Deleted | mailbox.Flagged, 0},
		{"undeleted", mailbox.Flagged, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newDir(t)
			AppendTo(dir, []mailbox.NewMessage{msg("Subject: x\n\nbody\n", 0)}, Options{})
			a, _ := Open(dir, Options{})
			b, _ := Open(dir, Options{})
			b.SetFlags(0, mailbox.Deleted, nil)
			if err := b.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Sync(); err != nil || a.Message(0).Flags != mailbox.Deleted {
				t.Fatalf("a sees %+v, %v", a.Message(0), err)
			}
			b.SetFlags(0, tc.later, nil)
			if err := b.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			gone, err := a.Expunge(nil)
			if err != nil || len(gone) != 1-tc.left {
				t.Fatalf("expunge: %v %v", gone, err)
			}
			files, _ := os.ReadDir(filepath.Join(dir, "cur"))
			if len(files) != tc.left {
				t.Errorf("%d files left in cur/, want %d", len(files), tc.left)
			}
			a.Close()
			b.Close()
			m, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if m.Len() != tc.left || tc.left == 1 && m.Message(0).UID != 1 {
				t.Errorf("reopen: %d messages, next UID %d", m.Len(), m.UIDNext())
			}
			if m.UIDNext() != 2 {
				t.Errorf("UIDNEXT %d: the message was numbered again", m.UIDNext())
			}
		})
	}
}
