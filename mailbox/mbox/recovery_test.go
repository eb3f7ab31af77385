package mbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imapd/folders"
	"imapd/mailbox"
)

// crashOnce makes the rewrite stop at stage the first time it gets there.
func crashOnce(t *testing.T, stage string) *bool {
	crashed := new(bool)
	testCrash = func(s string) bool {
		if s == stage && !*crashed {
			*crashed = true
			return true
		}
		return false
	}
	t.Cleanup(func() { testCrash = nil })
	return crashed
}

func countSubject(s, subj string) int { return strings.Count(s, "Subject: "+subj) }

// crashStamping opens a fresh spool61 file read-write, which stamps (grows)
// it, and crashes the rewrite at stage; the dead process's dot-lock is
// removed as a restart would after 5 minutes.
func crashStamping(t *testing.T, path, stage string) {
	t.Helper()
	writeFile(t, path, spool61)
	crashed := crashOnce(t, stage)
	_, err := Open(path, testOpts(at(100)))
	testCrash = nil
	if !*crashed || !errors.Is(err, errCrash) {
		t.Fatalf("no crash at %s: %v", stage, err)
	}
	os.Remove(path + ".lock")
}

// After a crash in a growing rewrite the file ends in NUL bytes or our own
// bytes, not "\n": an MTA then writes "\n" before its From line. Recovery
// must keep that message.
func TestRecoveryKeepsDeliveryStartingWithNewline(t *testing.T) {
	for _, stage := range []string{"extended", "half"} {
		t.Run(stage, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "inbox")
			crashStamping(t, path, stage)
			deliver(t, path, "\n"+delivery)
			m, err := Open(path, testOpts(at(200)))
			must(t, err)
			defer m.Close()
			got := readFile(t, path)
			if countSubject(got, "after the crash") != 1 || m.Len() != 4 {
				t.Fatalf("delivered message lost by recovery: %d messages\n%q", m.Len(), got)
			}
		})
	}
}

// A crash after the journal was written but before the extension reached
// the disk leaves the file at its old size; mail delivered then may put a
// From line exactly where the grown file would have ended. Recovery must
// not take the mail before it for its own bytes.
func TestRecoveryKeepsDeliveriesWhenExtensionWasLost(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	crashStamping(t, path, "extended")
	orig := int64(len(spool61))
	st, err := os.Stat(path)
	must(t, err)
	gap := int(st.Size() - orig)
	must(t, os.Truncate(path, orig)) // the extension never reached the disk
	hdr := "From mta@example.com Tue Nov 24 10:00:00 2026\nSubject: first\n\n"
	if gap < len(hdr)+2 {
		t.Fatalf("growth %d too small for the test", gap)
	}
	first := hdr + strings.Repeat("x", gap-len(hdr)-2) + "\n\n"
	second := "From mta@example.com Tue Nov 24 10:00:01 2026\nSubject: second\n\nhello\n\n"
	deliver(t, path, first+second)
	m, err := Open(path, testOpts(at(200)))
	must(t, err)
	defer m.Close()
	got := readFile(t, path)
	if countSubject(got, "first") != 1 || countSubject(got, "second") != 1 || m.Len() != 5 {
		t.Fatalf("after recovery: first=%d second=%d, %d messages\n%q", countSubject(got, "first"), countSubject(got, "second"), m.Len(), got)
	}
}

// Same, when only part of the extension reached the disk (NULs, then mail).
func TestRecoveryKeepsDeliveryAfterPartialExtension(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	crashStamping(t, path, "extended")
	orig := int64(len(spool61))
	must(t, os.Truncate(path, orig+3))
	deliver(t, path, "\n"+delivery)
	m, err := Open(path, testOpts(at(200)))
	must(t, err)
	defer m.Close()
	if got := readFile(t, path); countSubject(got, "after the crash") != 1 || m.Len() != 4 || strings.Contains(got, "\x00") {
		t.Fatalf("after recovery, %d messages:\n%q", m.Len(), got)
	}
}

// The journal and tail file names start with ".imapd", which folders
// reserves: a folder cannot be called like the journal of another folder,
// and a folder named like the old journal name is left alone.
func TestJournalNamesAreReservedFolderNames(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "bob")
	writeFile(t, inbox, "")
	tr := folders.New(inbox+".mbx", inbox, ".mailboxlist")
	foo, err := tr.Create("foo")
	must(t, err)
	for _, p := range []string{journalPath(foo), sidePath(foo), sideTmpPath(foo), orphanPrefix + "foo.1"} {
		if _, err := tr.Create(filepath.Base(p)); err == nil {
			t.Errorf("CREATE %q accepted", filepath.Base(p))
		}
	}
	victim, err := tr.Create(".foo.imapd-journal") // the name journals had before
	must(t, err)
	opt := Options{UseFlock: true}
	must(t, Initialize(victim, opt))
	_, _, err = AppendTo(victim, []mailbox.NewMessage{{Body: strings.NewReader("Subject: precious\n\nkeep me\n"), Sender: "a@b"}}, opt)
	must(t, err)
	must(t, Initialize(foo, opt))
	m, err := Open(foo, opt)
	must(t, err)
	m.Close()
	if got := readFile(t, victim); countSubject(got, "precious") != 1 {
		t.Fatalf("folder %q damaged by SELECT foo: %q", ".foo.imapd-journal", got)
	}
}

// After a crash, RENAME must first call Recover (the journal is found by
// name); and a journal left for a file that was renamed or deleted is never
// applied to a new file of that name: it is moved aside.
func TestJournalFollowsFileNotName(t *testing.T) {
	setup := func(t *testing.T) (*folders.Tree, string) {
		dir := t.TempDir()
		inbox := filepath.Join(dir, "bob")
		writeFile(t, inbox, "")
		tr := folders.New(inbox+".mbx", inbox, ".mailboxlist")
		foo, err := tr.Create("foo")
		must(t, err)
		writeFile(t, foo, spool61)
		crashed := crashOnce(t, "half")
		_, err = Open(foo, testOpts(at(100)))
		testCrash = nil
		if !*crashed || !errors.Is(err, errCrash) {
			t.Fatalf("no crash: %v", err)
		}
		os.Remove(foo + ".lock")
		return tr, foo
	}
	t.Run("recover-then-rename", func(t *testing.T) {
		tr, foo := setup(t)
		must(t, Recover(foo, Options{UseFlock: true}))
		must(t, tr.Rename("foo", "bar"))
		bar, _ := tr.Path("bar")
		if got := readFile(t, bar); got != spool61 {
			t.Fatalf("renamed file not recovered:\n%q", got)
		}
		must(t, Recover(foo, Options{UseFlock: true})) // nothing left: no-op
	})
	t.Run("stale-journal-new-file", func(t *testing.T) {
		tr, foo := setup(t)
		must(t, tr.Rename("foo", "bar")) // without Recover
		foo2, err := tr.Create("foo")
		must(t, err)
		must(t, Initialize(foo2, testOpts(at(300))))
		m, err := Open(foo2, testOpts(at(400)))
		must(t, err)
		defer m.Close()
		if got := readFile(t, foo2); m.Len() != 0 || strings.Contains(got, "Subject: one") {
			t.Fatalf("stale journal applied to the new folder: %d messages\n%q", m.Len(), got)
		}
		if _, err := os.Stat(journalPath(foo)); err == nil {
			t.Fatal("stale journal left in place")
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(foo), orphanPrefix+"foo.1")); err != nil {
			t.Fatalf("stale journal not kept aside: %v", err)
		}
	})
	t.Run("recover-reports-orphan", func(t *testing.T) {
		tr, foo := setup(t)
		must(t, tr.Delete("foo"))
		if err := Recover(foo, Options{UseFlock: true}); !errors.Is(err, ErrOrphanJournal) {
			t.Fatalf("Recover of a deleted mailbox with a journal: %v", err)
		}
	})
}

// A complete journal another process left (it crashed while we held the
// mailbox open) is recovered, never removed, before our own rewrite; our
// rewrite then reports ErrChanged.
func TestRewriteRecoversJournalLeftByOthers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	a, err := Open(path, testOpts(at(100)))
	must(t, err)
	defer a.Close()
	stamped := readFile(t, path)
	b, err := Open(path, testOpts(at(100)))
	must(t, err)
	must(t, b.SetFlags(0, mailbox.Deleted, nil))
	crashed := crashOnce(t, "half")
	_, err = b.Expunge(nil)
	testCrash = nil
	b.rf.Close()
	if !*crashed || !errors.Is(err, errCrash) {
		t.Fatalf("no crash: %v", err)
	}
	os.Remove(path + ".lock")
	must(t, a.SetFlags(2, mailbox.Flagged, nil))
	if err := a.Checkpoint(); !errors.Is(err, mailbox.ErrChanged) {
		t.Fatalf("Checkpoint over another process's journal: %v, want ErrChanged", err)
	}
	if got := readFile(t, path); got != stamped {
		t.Fatalf("file not recovered:\n%q\nwant\n%q", got, stamped)
	}
	if _, err := os.Stat(journalPath(path)); err == nil {
		t.Fatal("journal left")
	}
}

// When the uidlast update after an append fails, AppendTo reports the
// error with nothing appended and uidlast unchanged: the retry gets the
// same UID and the UIDVALIDITY stays.
func TestAppendToFailureLeavesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "folder")
	writeFile(t, path, spool61)
	m, err := Open(path, testOpts(at(100)))
	must(t, err)
	must(t, m.Close())
	before := readFile(t, path)
	st0, err := Stat(path, testOpts(at(100)))
	must(t, err)
	msg := []mailbox.NewMessage{{Body: strings.NewReader("Subject: m4\n\nhi\n"), Sender: "a@b"}}
	crashOnce(t, "patch")
	if _, _, err := AppendTo(path, msg, testOpts(at(150))); !errors.Is(err, errInjected) {
		t.Fatalf("AppendTo: %v, want the injected failure", err)
	}
	testCrash = nil
	if got := readFile(t, path); got != before {
		t.Fatalf("failed AppendTo changed the file:\n%q", got)
	}
	if _, err := os.Stat(journalPath(path)); err == nil {
		t.Fatal("journal left")
	}
	msg[0].Body = strings.NewReader("Subject: m4\n\nhi\n")
	v, uids, err := AppendTo(path, msg, testOpts(at(160)))
	must(t, err)
	st1, err := Stat(path, testOpts(at(170)))
	must(t, err)
	if v != st0.UIDValidity || st1.UIDValidity != st0.UIDValidity || len(uids) != 1 || uids[0] != st0.UIDNext || st1.UIDNext != st0.UIDNext+1 {
		t.Fatalf("after retry: validity %d/%d (was %d), uids %v, uidnext %d (was %d)", v, st1.UIDValidity, st0.UIDValidity, uids, st1.UIDNext, st0.UIDNext)
	}
}

// A crash after AppendTo wrote its messages but before the uidlast patch
// loses nothing and renumbers nothing.
func TestAppendToCrashBeforePatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "folder")
	writeFile(t, path, spool61)
	m, err := Open(path, testOpts(at(100)))
	must(t, err)
	must(t, m.Close())
	st0, err := Stat(path, testOpts(at(100)))
	must(t, err)
	// Simulate: journal the patch, append, crash (journal left).
	h, err := lockMailbox(path, &Options{UseFlock: true}, true, 0)
	must(t, err)
	mm := &Mailbox{path: path, opt: testOpts(at(100))}
	must(t, mm.loadAll(h))
	mm.uidLast++
	p := mm.buildPlan(nil)
	if len(p.patches) != 1 || p.tail >= 0 {
		t.Fatalf("plan: %d patches, tail %d", len(p.patches), p.tail)
	}
	j, err := patchJournal(path, h.f, p.patches)
	must(t, err)
	j.f.Close()
	deliver(t, path, "From a@b Tue Nov 24 10:00:00 2026\nSubject: m4\nX-UID: 4\n\nhi\n\n")
	h.release()
	st1, err := Stat(path, testOpts(at(200)))
	must(t, err)
	if st1.UIDValidity != st0.UIDValidity || st1.Messages != st0.Messages+1 || st1.UIDNext != st0.UIDNext+1 {
		t.Fatalf("after recovery: %+v, before %+v", st1, st0)
	}
}

// A read-only session notices an expunge by another program followed by
// new mail of exactly the same size (Sync compares more than the size).
func TestSyncNoticesSameSizeRewrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	m, err := Open(path, testOpts(at(100)))
	must(t, err)
	must(t, m.Close())
	ro, err := Open(path, Options{ReadOnly: true, UseFlock: true})
	must(t, err)
	defer ro.Close()
	if _, err := ro.Sync(); err != nil { // unchanged: fine
		t.Fatal(err)
	}
	old := readFile(t, path)
	cut := int(ro.msgs[1].start)
	hdr := "From mta@example.com Tue Nov 24 10:00:00 2026\nSubject: new\n\n"
	nm := hdr + strings.Repeat("x", cut-len(hdr)-2) + "\n\n"
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteAt([]byte(old[cut:]+nm), 0)
	must(t, err)
	must(t, f.Close())
	fi, err := os.Stat(path)
	must(t, err)
	if fi.Size() != int64(len(old)) {
		t.Fatalf("size %d, want %d", fi.Size(), len(old))
	}
	later := ro.fi.ModTime().Add(10 * 1e9)
	must(t, os.Chtimes(path, later, later))
	if _, err := ro.Sync(); !errors.Is(err, mailbox.ErrChanged) {
		t.Fatalf("Sync after a same-size rewrite: %v, want ErrChanged", err)
	}
}

// Our own time updates (a flag change by another session of ours, the
// read marks) do not make Sync fail.
func TestSyncSameSizeFlagChangeIsFine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	m, err := Open(path, testOpts(at(100)))
	must(t, err)
	ro, err := Open(path, Options{ReadOnly: true, UseFlock: true})
	must(t, err)
	defer ro.Close()
	must(t, m.SetFlags(1, mailbox.Seen, nil))
	must(t, m.Checkpoint())
	must(t, m.Close())
	later := ro.fi.ModTime().Add(10 * 1e9)
	must(t, os.Chtimes(path, later, later))
	if _, err := ro.Sync(); err != nil {
		t.Fatalf("Sync after a flag change: %v", err)
	}
}

// Releasing never removes a dot-lock that is no longer ours, and seizing a
// stale lock leaves no stray files.
func TestDotLockOwnership(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	opt := Options{UseFlock: true}
	h, err := lockMailbox(path, &opt, true, 0)
	must(t, err)
	// Someone took our lock for stale and made their own.
	must(t, os.Remove(path+".lock"))
	writeFile(t, path+".lock", "")
	must(t, os.Chtimes(path+".lock", at(5000), at(5000))) // made later than ours
	must(t, h.release())
	if _, err := os.Stat(path + ".lock"); err != nil {
		t.Fatalf("release removed a lock that was not ours: %v", err)
	}
	old := at(1000)
	must(t, os.Chtimes(path+".lock", old, old))
	h, err = lockMailbox(path, &opt, true, 0)
	must(t, err)
	must(t, h.release())
	ents, err := os.ReadDir(filepath.Dir(path))
	must(t, err)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("files left after seizing a stale lock: %v", names)
	}
}
