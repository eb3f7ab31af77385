package mbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/mailbox"
)

// Golden tests: the bytes we write must be the bytes UW writes, as
// docs/formats.md describes them. The expected files are in
// testdata/golden/ (mailbox files end every line with LF only; some
// X-Keywords lines end in padding spaces that matter):
//
//	spool-three.mbox          a spool of three messages DSMTP delivered
//	spool-after-expunge.mbox  that spool after flags, keywords and an EXPUNGE (formats §2)
//	folder-created.mbox       a folder just made by CREATE (formats §3)
//	folder-after-copy.mbox    that folder after COPY of two messages (formats §4)
//	spool-emptied.mbox        a spool after EXPUNGE of every message (formats §3)
//	folder-after-append.mbox  a created folder after one APPEND (formats §4)

// golden returns the content of testdata/golden/name.
func golden(t testing.TB, name string) string {
	t.Helper()
	return readFile(t, filepath.Join("testdata", "golden", name))
}

func at(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func testOpts(now time.Time) Options {
	return Options{Hostname: "vm", UseFlock: true, LockTimeout: 10 * time.Second, Now: func() time.Time { return now }, IndexDir: testIndexDir}
}

func writeFile(t testing.TB, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sameBytes(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w || i >= len(gl) || i >= len(wl) {
			t.Fatalf("%s differs at line %d:\n got %q\nwant %q\n--- got:\n%s\n--- want:\n%s", what, i+1, g, w, got, want)
		}
	}
}

// spool61 is testdata/golden/spool-three.mbox, which many tests start from
// (TestGoldenSpoolFlagsAndExpunge checks the two agree).
const spool61 = `From alice@example.com Mon Nov 23 10:00:00 2026
Return-Path: <alice@example.com>
From: alice@example.com
Subject: one
Message-ID: <m1@example.com>

Hello one.

From bob@example.com Mon Nov 23 11:00:00 2026
Return-Path: <bob@example.com>
From: bob@example.com
Subject: two
Message-ID: <m2@example.com>

Hello two.

From carol@example.com Mon Nov 23 12:00:00 2026
Return-Path: <carol@example.com>
From: carol@example.com
Subject: three
Message-ID: <m3@example.com>

Hello three.
>From the body, quoted.

`

// formats §2: flags, X-IMAPbase and padding, before and after an expunge.
func TestGoldenSpoolFlagsAndExpunge(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uwtest1")
	if golden(t, "spool-three.mbox") != spool61 {
		t.Fatal("spool61 differs from testdata/golden/spool-three.mbox")
	}
	writeFile(t, path, spool61)
	m, err := Open(path, testOpts(at(1795646713)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 || m.UIDValidity() != 1795646713 || m.UIDNext() != 4 {
		t.Fatalf("len %d validity %d next %d", m.Len(), m.UIDValidity(), m.UIDNext())
	}
	for i := 0; i < 3; i++ {
		if msg := m.Message(i); !msg.Recent || msg.UID != uint32(i+1) {
			t.Fatalf("message %d: %+v", i, msg)
		}
	}
	must(t, m.SetFlags(0, mailbox.Seen|mailbox.Flagged, nil))
	must(t, m.SetFlags(2, mailbox.Answered, []string{"$Label1", "Junk"}))
	must(t, m.SetFlags(2, mailbox.Answered|mailbox.Seen, []string{"$Label1", "Junk"}))
	must(t, m.SetFlags(1, mailbox.Deleted, nil))
	must(t, m.Checkpoint())
	msg2 := "Message-ID: <m2@example.com>\nStatus: O\nX-Status: D\nX-Keywords:" + strings.Repeat(" ", 17) + "\nX-UID: 2\n\nHello two.\n\n"
	if got := readFile(t, path); !strings.Contains(got, msg2) {
		t.Fatalf("message 2 before expunge not as UW wrote it:\n%s", got)
	}
	exp, err := m.Expunge(nil)
	must(t, err)
	if len(exp) != 1 || exp[0] != 1 {
		t.Fatalf("expunged %v", exp)
	}
	want := golden(t, "spool-after-expunge.mbox")
	sameBytes(t, "spool after expunge", readFile(t, path), want)
	must(t, m.Close())
	sameBytes(t, "spool after close", readFile(t, path), want)

	// Read back as UW left it: same UIDs, flags, keywords; nothing rewritten.
	m2, err := Open(path, testOpts(at(1795649999)))
	must(t, err)
	defer m2.Close()
	if m2.UIDValidity() != 1795646713 || m2.UIDNext() != 4 || m2.Len() != 2 {
		t.Fatalf("reopen: validity %d next %d len %d", m2.UIDValidity(), m2.UIDNext(), m2.Len())
	}
	a, b := m2.Message(0), m2.Message(1)
	if a.UID != 1 || a.Flags != mailbox.Seen|mailbox.Flagged || a.Recent || b.UID != 3 || b.Flags != mailbox.Seen|mailbox.Answered || strings.Join(b.Keywords, " ") != "$Label1 Junk" {
		t.Fatalf("reopen: %+v %+v", a, b)
	}
	if a.Size != int64(len(crlf("Return-Path: <alice@example.com>\nFrom: alice@example.com\nSubject: one\nMessage-ID: <m1@example.com>\n\nHello one.\n"))) {
		t.Fatalf("size %d", a.Size)
	}
	sameBytes(t, "spool after read-write reopen", readFile(t, path), want)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// formats §3 and §4: CREATE writes the pseudo-message; COPY 1:2 appends with the source
// From lines, flags (\Deleted too), "O", new X-UIDs, and updates X-IMAP.
func TestGoldenCreateAndCopy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "Folder1")
	writeFile(t, path, "")
	opt := testOpts(at(1795646713))
	must(t, Initialize(path, opt))
	sameBytes(t, "created folder", readFile(t, path), golden(t, "folder-created.mbox"))
	must(t, Initialize(path, opt)) // not empty: no-op
	sameBytes(t, "created folder", readFile(t, path), golden(t, "folder-created.mbox"))

	v, uids, err := AppendTo(path, []mailbox.NewMessage{
		{Body: strings.NewReader(crlf("Return-Path: <alice@example.com>\nMessage-ID: <m1@example.com>\n\nHello one.\n")),
			Flags: mailbox.Seen | mailbox.Flagged, FromLine: "From alice@example.com Mon Nov 23 10:00:00 2026"},
		{Body: strings.NewReader(crlf("Return-Path: <bob@example.com>\nMessage-ID: <m2@example.com>\n\nHello two.\n")),
			Flags: mailbox.Deleted, FromLine: "From bob@example.com Mon Nov 23 11:00:00 2026"},
	}, testOpts(at(1795646799)))
	must(t, err)
	if v != 1795646713 || len(uids) != 2 || uids[0] != 1 || uids[1] != 2 {
		t.Fatalf("COPYUID %d %v", v, uids)
	}
	want := golden(t, "folder-after-copy.mbox")
	sameBytes(t, "folder after COPY", readFile(t, path), want)

	st, err := Stat(path, testOpts(at(1795646800)))
	must(t, err)
	if st != (mailbox.Status{Messages: 2, Recent: 0, Unseen: 1, UIDNext: 3, UIDValidity: 1795646713, Size: st.Size, Deleted: 1, DeletedSize: st.DeletedSize}) || st.Size == 0 || st.DeletedSize == 0 {
		t.Fatalf("status %+v", st)
	}
	sameBytes(t, "folder after STATUS", readFile(t, path), want)
}

// formats §3: EXPUNGE of every message of the spool writes a pseudo-message that
// keeps UIDVALIDITY and uidlast.
func TestGoldenExpungeAll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uwtest1")
	var b strings.Builder
	for i := 1; i <= 5; i++ {
		block := appendBlock(nil, nil, mailbox.Deleted, nil, true, uint32(i))
		if i == 1 {
			block = appendBlock(nil, baseLine(1795646816, 5, nil), mailbox.Deleted, nil, true, 1)
		}
		b.WriteString("From x@example.com Mon Nov 23 10:00:00 2026\nSubject: s\n" + string(block) + "\nbody\n\n")
	}
	writeFile(t, path, b.String())
	m, err := Open(path, testOpts(at(1795646817)))
	must(t, err)
	sameBytes(t, "spool after open", readFile(t, path), b.String())
	exp, err := m.Expunge(nil)
	must(t, err)
	if len(exp) != 5 || m.Len() != 0 || m.UIDNext() != 6 {
		t.Fatalf("expunged %v len %d next %d", exp, m.Len(), m.UIDNext())
	}
	want := golden(t, "spool-emptied.mbox")
	sameBytes(t, "emptied spool", readFile(t, path), want)
	must(t, m.Close())
	m2, err := Open(path, testOpts(at(1795647000)))
	must(t, err)
	defer m2.Close()
	if m2.Len() != 0 || m2.UIDNext() != 6 || m2.UIDValidity() != 1795646816 {
		t.Fatalf("reopen: len %d next %d validity %d", m2.Len(), m2.UIDNext(), m2.UIDValidity())
	}
	sameBytes(t, "emptied spool after reopen", readFile(t, path), want)
}

// formats §4: the APPEND From line, the normal layout, and the raw layout used
// while another process holds the mailbox, rewritten by the holder.
func TestGoldenAppend(t *testing.T) {
	if got := newFromLine("uwtest1@vm", time.Date(2026, 11, 24, 10, 11, 12, 0, time.FixedZone("", 3600))); got != "From uwtest1@vm Tue Nov 24 10:11:12 2026 +0100" {
		t.Fatalf("From line %q", got)
	}
	if got := newFromLine("uwtest1@vm", at(1795646817)); got != "From uwtest1@vm Wed Nov 25 22:46:57 2026 +0000" {
		t.Fatalf("From line %q", got)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "Folder2")
	writeFile(t, path, "")
	must(t, Initialize(path, testOpts(at(1795646713))))
	date := time.Date(2026, 11, 24, 10, 11, 12, 0, time.FixedZone("", 3600))
	v, uids, err := AppendTo(path, []mailbox.NewMessage{{
		Body: strings.NewReader("From: w@example.com\r\nSubject: append\r\n\r\nbody\r\n"), Date: date, Sender: "uwtest1@vm"}}, testOpts(at(1795646800)))
	must(t, err)
	if v != 1795646713 || len(uids) != 1 || uids[0] != 1 {
		t.Fatalf("APPENDUID %d %v", v, uids)
	}
	want := golden(t, "folder-after-append.mbox")
	sameBytes(t, "normal append", readFile(t, path), want)

	// Another session holds the folder: raw append.
	holder, err := Open(path, testOpts(at(1795646900)))
	must(t, err)
	defer holder.Close()
	if holder.Len() != 1 || !holder.Message(0).Recent {
		t.Fatalf("holder: %d %+v", holder.Len(), holder.Message(0))
	}
	must(t, AppendRaw(path, []mailbox.NewMessage{{
		Body:  strings.NewReader("From: w@example.com\r\nSubject: raw-append\r\n\r\nbody\r\n"),
		Flags: mailbox.Seen | mailbox.Flagged, Keywords: nil, Date: date, Sender: "uwtest1@vm"}}, testOpts(at(1795646900))))
	raw := "From uwtest1@vm Tue Nov 24 10:11:12 2026 +0100\nStatus: R\nX-Status: F\nX-Keywords:\nFrom: w@example.com\nSubject: raw-append\n\nbody\n\n"
	if got := readFile(t, path); !strings.HasSuffix(got, raw) {
		t.Fatalf("raw append:\n%s", got)
	}
	u, err := holder.Sync()
	must(t, err)
	if u.NewMessages != 1 || holder.Len() != 2 {
		t.Fatalf("sync: %+v len %d", u, holder.Len())
	}
	nm := holder.Message(1)
	if nm.UID != 2 || nm.Flags != mailbox.Seen|mailbox.Flagged || !nm.Recent {
		t.Fatalf("raw message as seen by the holder: %+v", nm)
	}
	normal := "From uwtest1@vm Tue Nov 24 10:11:12 2026 +0100\nFrom: w@example.com\nSubject: raw-append\nStatus: RO\nX-Status: F\nX-Keywords:" + strings.Repeat(" ", 16) + "\nX-UID: 2\n\nbody\n\n"
	must(t, holder.Checkpoint())
	got := readFile(t, path)
	if !strings.HasSuffix(got, normal) || !strings.Contains(got, "X-IMAP: 1795646713 0000000002\n") {
		t.Fatalf("holder's rewrite:\n%s", got)
	}

	// Normal append into an empty file: the first message carries X-IMAPbase.
	p2 := filepath.Join(dir, "empty")
	writeFile(t, p2, "")
	v, uids, err = AppendTo(p2, []mailbox.NewMessage{{Body: strings.NewReader("Subject: x\r\n\r\nhi\r\n"), Date: date, Sender: "uwtest1@vm"}}, testOpts(at(1795646801)))
	must(t, err)
	want2 := "From uwtest1@vm Tue Nov 24 10:11:12 2026 +0100\nSubject: x\nX-IMAPbase: 1795646801 1\nStatus: \nX-Status: \nX-Keywords:" + strings.Repeat(" ", 80-25-9-11-11) + "\nX-UID: 1\n\nhi\n\n"
	if v != 1795646801 || uids[0] != 1 {
		t.Fatalf("APPENDUID %d %v", v, uids)
	}
	sameBytes(t, "append into empty file", readFile(t, p2), want2)
}
