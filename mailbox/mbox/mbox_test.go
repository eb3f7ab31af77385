package mbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/mailbox"
)

func TestFromLine(t *testing.T) {
	utc := time.UTC
	cases := []struct {
		line string
		ok   bool
		want time.Time
	}{
		{"From user Wed Dec  2 05:53 1992", true, time.Date(1992, 12, 2, 5, 53, 0, 0, time.Local)},
		{"From user Wed Dec  2 05:53:22 1992", true, time.Date(1992, 12, 2, 5, 53, 22, 0, time.Local)},
		{"From user Wed Dec  2 05:53 PST 1992", true, time.Date(1992, 12, 2, 5, 53, 0, 0, time.FixedZone("", -8*3600))},
		{"From user Wed Dec  2 05:53:22 PST 1992", true, time.Date(1992, 12, 2, 5, 53, 22, 0, time.FixedZone("", -8*3600))},
		{"From user Wed Dec  2 05:53 -0700 1992", true, time.Date(1992, 12, 2, 5, 53, 0, 0, time.FixedZone("", -7*3600))},
		{"From user Wed Dec  2 05:53:22 -0700 1992", true, time.Date(1992, 12, 2, 5, 53, 22, 0, time.FixedZone("", -7*3600))},
		{"From user Wed Dec  2 05:53 1992 PST", true, time.Date(1992, 12, 2, 5, 53, 0, 0, time.FixedZone("", -8*3600))},
		{"From user Wed Dec  2 05:53:22 1992 PST", true, time.Date(1992, 12, 2, 5, 53, 22, 0, time.FixedZone("", -8*3600))},
		{"From user Wed Dec  2 05:53 1992 -0700", true, time.Date(1992, 12, 2, 5, 53, 0, 0, time.FixedZone("", -7*3600))},
		{"From user Wed Dec  2 05:53:22 1992 +0000", true, time.Date(1992, 12, 2, 5, 53, 22, 0, utc)},
		{"From user Wed Dec  2 05:53:22 1992 remote from elsewhere", true, time.Date(1992, 12, 2, 5, 53, 22, 0, time.Local)},
		{"From a b c@x Mon Nov 23 10:00:00 2026", true, time.Date(2026, 11, 23, 10, 0, 0, 0, time.Local)},
		{"From uwtest1@vm Tue Nov 24 10:11:12 2026 +0100\r", true, time.Date(2026, 11, 24, 10, 11, 12, 0, time.FixedZone("", 3600))},
		{"From pntest@161.29.2.46 Sat Dec 26 09:37:48 1998", true, time.Date(1998, 12, 26, 9, 37, 48, 0, time.Local)},
		{"From me", false, time.Time{}},
		{"From me to you, with love and regards", false, time.Time{}},
		{"From the body, quoted.", false, time.Time{}},
		{">From user Wed Dec  2 05:53 1992", false, time.Time{}},
		{"from user Wed Dec  2 05:53 1992", false, time.Time{}},
		{"From user Wed Dec 2 05:53 1992", false, time.Time{}},
		{"From user Wed Dec  2 0553 1992x", false, time.Time{}},
		{"From Wed Dec  2 05:53 1992", false, time.Time{}}, // 26 characters
	}
	for _, c := range cases {
		d, ok := fromDate([]byte(c.line + "\n"))
		if ok != c.ok {
			t.Errorf("%q: valid %v, want %v", c.line, ok, c.ok)
			continue
		}
		if ok && !d.Equal(c.want) {
			t.Errorf("%q: date %v, want %v", c.line, d, c.want)
		}
	}
}

// readMsg returns what a client gets for message i and checks its size.
func readMsg(t testing.TB, m *Mailbox, i int) string {
	t.Helper()
	rc, err := m.Open(i)
	must(t, err)
	b, err := io.ReadAll(rc)
	must(t, err)
	rc.Close()
	if int64(len(b)) != m.Message(i).Size {
		t.Fatalf("message %d: %d bytes, Size %d", i, len(b), m.Message(i).Size)
	}
	return string(b)
}

var roundTrip = []struct{ in, client string }{
	{"Subject: a\r\n\r\nFrom me\r\n>From you\r\nFrom someone Wed Dec  2 05:53:22 1992\r\nline\r\n",
		"Subject: a\r\n\r\n>From me\r\n>From you\r\n>From someone Wed Dec  2 05:53:22 1992\r\nline\r\n"},
	{"Subject: b\n\nno newline", "Subject: b\r\n\r\nno newline\r\n"},
	{"Subject: c\n\na\x00b\n", "Subject: c\r\n\r\na\x80b\r\n"},
	{"Status: RO\nX-UID: 99\nx-keywords: foo\nX-IMAPbase: 1 2\nSubject: d\n\nStatus: body line\n",
		"X-Original-Status: RO\r\nX-Original-X-UID: 99\r\nX-Original-x-keywords: foo\r\nX-Original-X-IMAPbase: 1 2\r\nSubject: d\r\n\r\nStatus: body line\r\n"},
	{"Subject: e\r\n", "Subject: e\r\n\r\n"},
	{"Subject: f\r\n\r\na\rb\r\n\r\n\r\n", "Subject: f\r\n\r\na\rb\r\n\r\n\r\n"},
	{"", "\r\n"},
	{"\r\n\r\nbody only\r\n", "\r\n\r\nbody only\r\n"},
	{"Subject: g\n\n" + strings.Repeat("x", 100000) + "\nFrom long\n", "Subject: g\r\n\r\n" + strings.Repeat("x", 100000) + "\r\n>From long\r\n"},
}

func newMsgs() []mailbox.NewMessage {
	var out []mailbox.NewMessage
	for i, c := range roundTrip {
		out = append(out, mailbox.NewMessage{Body: strings.NewReader(c.in), Size: int64(len(c.in)), Sender: "u@h",
			Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -5*3600)), Flags: mailbox.Flags(i % 4), Keywords: []string{fmt.Sprintf("kw%d", i%3)}})
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	check := func(m *Mailbox, first uint32) {
		t.Helper()
		if m.Len() != len(roundTrip) {
			t.Fatalf("%d messages, want %d", m.Len(), len(roundTrip))
		}
		for i, c := range roundTrip {
			if got := readMsg(t, m, i); got != c.client {
				t.Errorf("message %d: client sees %q, want %q", i, got, c.client)
			}
			msg := m.Message(i)
			if msg.UID != first+uint32(i) || msg.Flags != mailbox.Flags(i%4) || len(msg.Keywords) != 1 || msg.Keywords[0] != fmt.Sprintf("kw%d", i%3) {
				t.Errorf("message %d: %+v", i, msg)
			}
			if !msg.InternalDate.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -5*3600))) {
				t.Errorf("message %d: date %v", i, msg.InternalDate)
			}
		}
	}
	// AppendTo a closed mailbox.
	p1 := filepath.Join(dir, "a")
	writeFile(t, p1, "")
	_, _, err := AppendTo(p1, newMsgs(), testOpts(at(1000)))
	must(t, err)
	m, err := Open(p1, testOpts(at(2000)))
	must(t, err)
	check(m, 1)
	before := readFile(t, p1)
	must(t, m.Close())
	if after := readFile(t, p1); after != before {
		t.Fatalf("closing an unchanged mailbox rewrote it:\n%s\n----\n%s", before, after)
	}
	// Append to an open one.
	p2 := filepath.Join(dir, "b")
	writeFile(t, p2, "")
	m2, err := Open(p2, testOpts(at(3000)))
	must(t, err)
	uids, err := m2.Append(newMsgs())
	must(t, err)
	if len(uids) != len(roundTrip) || uids[0] != 1 {
		t.Fatalf("uids %v", uids)
	}
	u, err := m2.Sync()
	must(t, err)
	if u.NewMessages != len(roundTrip) || !m2.Message(0).Recent {
		t.Fatalf("sync after append: %+v %+v", u, m2.Message(0))
	}
	check(m2, 1)
	must(t, m2.Close())
	m3, err := Open(p2, testOpts(at(4000)))
	must(t, err)
	defer m3.Close()
	check(m3, 1)
	if m3.UIDValidity() != 3000 {
		t.Fatalf("validity %d", m3.UIDValidity())
	}
	// A copy keeps its From line.
	_, _, err = AppendTo(p1, []mailbox.NewMessage{{Body: strings.NewReader("S: x\n\ny\n"), FromLine: m3.Message(1).FromLine}}, testOpts(at(5000)))
	must(t, err)
	if !strings.Contains(readFile(t, p1), "\n\n"+m3.Message(1).FromLine+"\nS: x\n") {
		t.Fatal("COPY did not keep the From line")
	}
}

func TestBogusAndForeignLayouts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mb")
	// Leading blank lines, raw layout with status after the From line, a
	// bogus X-IMAPbase in message 2, a body "From me" line, no final
	// separator, CRLF message.
	in := "\n\nFrom a@b Mon Nov 23 10:00:00 2026\nStatus: RO\nX-Status: A\nX-Keywords: Work\nSubject: one\n\nFrom me to you\nbody\n\n" +
		"From a@b Mon Nov 23 10:00:01 2026\nSubject: two\nX-IMAPbase: 5 9\n\nbody2\n" +
		"From a@b Mon Nov 23 10:00:02 2026\r\nSubject: three\r\n\r\nbody3\r\n"
	writeFile(t, path, in)
	ro, err := Open(path, Options{ReadOnly: true, UseFlock: true, Now: func() time.Time { return at(7000) }})
	must(t, err)
	if ro.Len() != 3 || readFile(t, path) != in {
		t.Fatalf("read-only open: len %d or file changed", ro.Len())
	}
	want := []string{"Subject: one\r\n\r\nFrom me to you\r\nbody\r\n", "Subject: two\r\n\r\nbody2\r\n", "Subject: three\r\n\r\nbody3\r\n"}
	for i, w := range want {
		if got := readMsg(t, ro, i); got != w {
			t.Fatalf("ro message %d: %q want %q", i, got, w)
		}
	}
	if f := ro.Message(0); f.Flags != mailbox.Seen|mailbox.Answered || f.Recent || strings.Join(f.Keywords, ",") != "Work" {
		t.Fatalf("message 0: %+v", f)
	}
	must(t, ro.Close())
	m, err := Open(path, testOpts(at(7000)))
	must(t, err)
	for i, w := range want {
		if got := readMsg(t, m, i); got != w {
			t.Fatalf("rw message %d: %q want %q", i, got, w)
		}
	}
	must(t, m.Close())
	m, err = Open(path, testOpts(at(8000)))
	must(t, err)
	defer m.Close()
	if m.UIDValidity() != 7000 || m.Len() != 3 || m.Message(2).UID != 3 {
		t.Fatalf("reopen: %d %d", m.UIDValidity(), m.Len())
	}
	for i, w := range want {
		if got := readMsg(t, m, i); got != w {
			t.Fatalf("reopened message %d: %q want %q", i, got, w)
		}
	}
	got := readFile(t, path)
	if strings.Contains(got, "X-IMAPbase: 5 9") || !strings.HasPrefix(got, "From a@b Mon Nov 23 10:00:00 2026\nSubject: one\nX-IMAPbase: 7000 3 Work\nStatus: RO\nX-Status: A\nX-Keywords: Work") {
		t.Fatalf("rewritten file:\n%s", got)
	}
}

func TestNotMailbox(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x")
	writeFile(t, p, "hello\nFrom a@b Mon Nov 23 10:00:00 2026\n\n")
	if _, err := Open(p, testOpts(at(1))); !errors.Is(err, mailbox.ErrNotMailbox) {
		t.Fatalf("Open: %v", err)
	}
	if _, _, err := AppendTo(p, newMsgs()[:1], testOpts(at(1))); !errors.Is(err, mailbox.ErrNotMailbox) {
		t.Fatalf("AppendTo: %v", err)
	}
	if _, _, err := AppendTo(filepath.Join(dir, "missing"), newMsgs()[:1], testOpts(at(1))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("AppendTo missing: %v", err)
	}
	if err := AppendRaw(filepath.Join(dir, "missing"), newMsgs()[:1], testOpts(at(1))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("AppendRaw missing: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "missing"), testOpts(at(1))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open missing: %v", err)
	}
	o := testOpts(at(1))
	o.Create = true
	m, err := Open(filepath.Join(dir, "INBOX"), o)
	must(t, err)
	if m.Len() != 0 || m.UIDNext() != 1 {
		t.Fatal("new INBOX not empty")
	}
	must(t, m.Close())
	if fi, err := os.Stat(filepath.Join(dir, "INBOX")); err != nil || fi.Size() != 0 {
		t.Fatalf("INBOX: %v %v", fi, err)
	}
}

func TestUIDPersistence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	st, err := Stat(path, testOpts(at(100)))
	must(t, err)
	if st.UIDValidity != 100 || st.UIDNext != 4 || st.Messages != 3 || st.Recent != 3 || st.Unseen != 3 {
		t.Fatalf("status %+v", st)
	}
	m, err := Open(path, testOpts(at(200)))
	must(t, err)
	if m.UIDValidity() != 100 || m.Message(2).UID != 3 || !m.Message(2).Recent {
		t.Fatalf("open after STATUS: %d %+v", m.UIDValidity(), m.Message(2))
	}
	must(t, m.Close())
	// Delivery while nobody has it open, like an SMTP server.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	f.WriteString("From d@example.com Tue Nov 24 10:00:00 2026\nSubject: four\n\nbody\n\n")
	f.Close()
	st, err = Stat(path, Options{ReadOnly: true, UseFlock: true})
	must(t, err)
	if st.UIDNext != 5 || st.Messages != 4 || st.Recent != 1 || st.UIDValidity != 100 {
		t.Fatalf("status after delivery %+v", st)
	}
	m, err = Open(path, testOpts(at(300)))
	must(t, err)
	defer m.Close()
	if m.Len() != 4 || m.Message(3).UID != 4 || !m.Message(3).Recent || m.Message(0).Recent || m.UIDValidity() != 100 {
		t.Fatalf("reopen: %d %+v", m.Len(), m.Message(3))
	}
	if !strings.HasSuffix(readFile(t, path), "Subject: four\nStatus: O\nX-Status: \nX-Keywords:"+strings.Repeat(" ", 18)+"\nX-UID: 4\n\nbody\n\n") {
		t.Fatalf("new mail not stamped at open:\n%s", readFile(t, path))
	}
}

func TestRenumberOnBadUIDs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mb")
	var b strings.Builder
	for i, u := range []uint32{5, 3} {
		var base []byte
		if i == 0 {
			base = baseLine(50, 5, nil)
		}
		b.WriteString("From a@b Mon Nov 23 10:00:00 2026\nSubject: s\n" + string(appendBlock(nil, base, 0, nil, true, u)) + "\nx\n\n")
	}
	writeFile(t, path, b.String())
	m, err := Open(path, testOpts(at(40)))
	must(t, err)
	defer m.Close()
	if m.UIDValidity() != 51 || m.Message(0).UID != 1 || m.Message(1).UID != 2 || m.UIDNext() != 3 {
		t.Fatalf("renumber: validity %d uids %d %d", m.UIDValidity(), m.Message(0).UID, m.Message(1).UID)
	}
	if !strings.Contains(readFile(t, path), "X-IMAPbase: 51 2\n") {
		t.Fatal("new epoch not written")
	}
	// X-UID above uidlast raises uidlast.
	p2 := filepath.Join(t.TempDir(), "mb2")
	writeFile(t, p2, "From a@b Mon Nov 23 10:00:00 2026\nSubject: s\n"+string(appendBlock(nil, baseLine(50, 2, nil), 0, nil, true, 7))+"\nx\n\nFrom a@b Mon Nov 23 10:00:00 2026\n\ny\n")
	m2, err := Open(p2, testOpts(at(40)))
	must(t, err)
	defer m2.Close()
	if m2.UIDValidity() != 50 || m2.Message(0).UID != 7 || m2.Message(1).UID != 8 || m2.UIDNext() != 9 {
		t.Fatalf("raise: validity %d uids %d %d", m2.UIDValidity(), m2.Message(0).UID, m2.Message(1).UID)
	}
}

func TestSyncAndChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	m, err := Open(path, testOpts(at(100)))
	must(t, err)
	u, err := m.Sync()
	must(t, err)
	if u.NewMessages != 0 {
		t.Fatalf("sync: %+v", u)
	}
	// External delivery without a trailing blank line, then another.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("From d@example.com Tue Nov 24 10:00:00 2026\nSubject: four\n\nbody4")
	f.Close()
	u, err = m.Sync()
	must(t, err)
	if u.NewMessages != 1 || m.Len() != 4 || m.Message(3).UID != 4 || !m.Message(3).Recent {
		t.Fatalf("sync: %+v %+v", u, m.Message(3))
	}
	if got := readMsg(t, m, 3); got != "Subject: four\r\n\r\nbody4\r\n" {
		t.Fatalf("message 4: %q", got)
	}
	if !strings.Contains(readFile(t, path), "X-UID: 4\n") {
		t.Fatal("Sync did not persist the new UID")
	}
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("From e@example.com Tue Nov 24 10:00:00 2026\nSubject: five\n\nbody5\n")
	f.Close()
	u, err = m.Sync()
	must(t, err)
	if u.NewMessages != 1 || m.Message(4).UID != 5 {
		t.Fatalf("sync 2: %+v", u)
	}
	// An in-place rewrite by another program of the same size plus more mail.
	b := []byte(readFile(t, path))
	i := strings.LastIndex(string(b), "From e@example.com")
	copy(b[i:], "From x")
	b = append(b, "\nFrom f@example.com Tue Nov 24 10:00:00 2026\n\nz\n"...)
	must(t, os.WriteFile(path, b, 0600))
	if _, err := m.Sync(); !errors.Is(err, mailbox.ErrChanged) {
		t.Fatalf("in-place rewrite not detected: %v", err)
	}
	m.Close()

	// Truncation.
	writeFile(t, path, spool61)
	m, err = Open(path, testOpts(at(100)))
	must(t, err)
	must(t, os.Truncate(path, 100))
	if _, err := m.Sync(); !errors.Is(err, mailbox.ErrChanged) {
		t.Fatalf("truncation not detected: %v", err)
	}
	if err := m.Checkpoint(); !errors.Is(err, mailbox.ErrChanged) {
		t.Fatalf("dead mailbox still writes: %v", err)
	}
	if readFile(t, path) != spool61[:100] {
		t.Fatal("a dead mailbox wrote to the file")
	}
	m.Close()

	// Garbage appended where a message must start.
	writeFile(t, path, spool61)
	m, err = Open(path, testOpts(at(100)))
	must(t, err)
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("garbage\n")
	f.Close()
	if _, err := m.Sync(); !errors.Is(err, mailbox.ErrChanged) {
		t.Fatalf("garbage tail: %v", err)
	}
	m.Close()
}

func TestExpungeFilterAndReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	m, err := Open(path, testOpts(at(100)))
	must(t, err)
	for i := 0; i < 3; i++ {
		must(t, m.SetFlags(i, mailbox.Deleted, nil))
	}
	exp, err := m.Expunge(func(uid uint32) bool { return uid != 2 })
	must(t, err)
	if fmt.Sprint(exp) != "[0 2]" || m.Len() != 1 || m.Message(0).UID != 2 {
		t.Fatalf("expunge %v len %d", exp, m.Len())
	}
	if !strings.HasPrefix(readFile(t, path), "From bob@example.com Mon Nov 23 11:00:00 2026\nReturn-Path: <bob@example.com>\nFrom: bob@example.com\nSubject: two\nMessage-ID: <m2@example.com>\nX-IMAPbase: 100 3\nStatus: O\nX-Status: D\n") {
		t.Fatalf("file:\n%s", readFile(t, path))
	}
	must(t, m.Close())
	ro, err := Open(path, Options{ReadOnly: true, UseFlock: true})
	must(t, err)
	defer ro.Close()
	if !ro.ReadOnly() || ro.SetFlags(0, 0, nil) != mailbox.ErrReadOnly {
		t.Fatal("read-only mailbox accepted a write")
	}
	if _, err := ro.Expunge(nil); err != mailbox.ErrReadOnly {
		t.Fatal("read-only expunge")
	}
	if _, err := ro.Append(newMsgs()); err != mailbox.ErrReadOnly {
		t.Fatal("read-only append")
	}
}

func TestKeywordLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	writeFile(t, path, "")
	must(t, Initialize(path, testOpts(at(10))))
	_, _, err := AppendTo(path, newMsgs()[:1], testOpts(at(11)))
	must(t, err)
	m, err := Open(path, testOpts(at(12)))
	must(t, err)
	var kws []string
	for i := 0; len(m.Keywords())+len(kws) < maxKeywords; i++ {
		kws = append(kws, fmt.Sprintf("k%02d", i))
	}
	must(t, m.SetFlags(0, 0, kws))
	if err := m.SetFlags(0, 0, []string{"onemore"}); !errors.Is(err, mailbox.ErrTooManyKeywords) {
		t.Fatalf("31st keyword: %v", err)
	}
	if err := m.SetFlags(0, 0, []string{"bad word"}); err == nil {
		t.Fatal("bad keyword accepted")
	}
	must(t, m.Close()) // the pseudo-message grows: full rewrite
	m, err = Open(path, testOpts(at(13)))
	must(t, err)
	defer m.Close()
	if len(m.Keywords()) != maxKeywords || len(m.Message(0).Keywords) != maxKeywords-1 {
		t.Fatalf("keywords %v / %v", m.Keywords(), m.Message(0).Keywords)
	}
}

// AppendTo (the fast path: uidlast patched in place) into a mailbox another
// session holds: the holder picks the message up with the UID the appender
// reported and goes on writing without seeing a conflict.
func TestAppendToWhileHeld(t *testing.T) {
	for _, folder := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "mb")
		if folder {
			writeFile(t, path, "")
			must(t, Initialize(path, testOpts(at(50))))
			_, _, err := AppendTo(path, newMsgs()[:2], testOpts(at(60)))
			must(t, err)
		} else {
			writeFile(t, path, spool61)
		}
		holder, err := Open(path, testOpts(at(100)))
		must(t, err)
		ro, err := Open(path, Options{ReadOnly: true, UseFlock: true})
		must(t, err)
		n := holder.Len()
		kw := "Copied" // fits in the X-IMAPbase padding, not in the fixed X-IMAP line
		if folder {
			kw = "kw1"
		}
		v, uids, err := AppendTo(path, []mailbox.NewMessage{{Body: strings.NewReader("Subject: copy\r\n\r\nx\r\n"), Keywords: []string{kw}}}, testOpts(at(200)))
		must(t, err)
		if v != holder.UIDValidity() || uids[0] != holder.UIDNext() {
			t.Fatalf("APPENDUID %d %v, holder has %d %d", v, uids, holder.UIDValidity(), holder.UIDNext())
		}
		for _, mb := range []*Mailbox{holder, ro} {
			u, err := mb.Sync()
			must(t, err)
			if u.NewMessages != 1 || mb.Len() != n+1 || mb.Message(n).UID != uids[0] || mb.UIDNext() != uids[0]+1 || mb.Message(n).Recent != (mb == holder) {
				t.Fatalf("after sync: %+v len %d msg %+v next %d", u, mb.Len(), mb.Message(n), mb.UIDNext())
			}
			// the holder claimed \Recent first
			if strings.Join(mb.Message(n).Keywords, ",") != kw {
				t.Fatalf("keywords %v", mb.Message(n).Keywords)
			}
		}
		must(t, holder.SetFlags(0, mailbox.Seen|mailbox.Answered, nil))
		must(t, holder.Checkpoint())
		must(t, holder.Close())
		ro.Close()
		m, err := Open(path, Options{ReadOnly: true, UseFlock: true})
		must(t, err)
		if m.Len() != n+1 || m.Message(n).UID != uids[0] || m.Message(0).Flags != mailbox.Seen|mailbox.Answered || m.Message(n).Recent {
			t.Fatalf("reopen: %d %+v %+v", m.Len(), m.Message(0), m.Message(n))
		}
		m.Close()
	}
}
