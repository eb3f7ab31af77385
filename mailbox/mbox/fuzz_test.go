package mbox

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/mailbox"
)

// FuzzParse: any file either is refused as not a mailbox or parses without
// panicking; every message streams exactly Size bytes; a read-write open
// and close (which stamps and may normalise the file) keeps the number of
// messages, and the UIDs it assigned are the ones read back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		spool61,
		"",
		"\n\n",
		"From a@b Mon Nov 23 10:00:00 2026\n",
		"From a@b Mon Nov 23 10:00:00 2026",
		"From a@b Mon Nov 23 10:00:00 2026\nFrom a@b Mon Nov 23 10:00:00 2026\n",
		"From a@b Mon Nov 23 10:00:00 2026\nX-UID: 3\nStatus: R\n\nx\n\nFrom a@b Mon Nov 23 10:00:00 2026\nX-IMAPbase: 1 2\n",
		"From a@b Mon Nov 23 10:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n\r\n",
		"From MAILER-DAEMON Wed Nov 25 22:45:13 2026\nX-IMAP: 0000000001 0000000005 a b\nStatus: RO\n\nx\n\nFrom a@b Mon Nov 23 10:00:00 2026\nX-UID: 9\n\n",
		"From a@b Mon Nov 23 10:00:00 2026\nX-Keywords: a b c\nSubject: x\nStatus: O",
		"From a@b Mon Nov 23 10:00:00 2026\nh: 1\n\n\n\n\r\n\rFrom no\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "mb")
		if err := os.WriteFile(path, data, 0600); err != nil {
			t.Fatal(err)
		}
		opt := Options{ReadOnly: true, LockTimeout: time.Second, Now: func() time.Time { return at(1000) }}
		ro, err := Open(path, opt)
		if err != nil {
			if errors.Is(err, mailbox.ErrNotMailbox) {
				return
			}
			t.Fatal(err)
		}
		n := ro.Len()
		for i := 0; i < n; i++ {
			readMsg(t, ro, i)
		}
		ro.Close()
		opt.ReadOnly = false
		rw, err := Open(path, opt)
		if err != nil {
			t.Fatalf("read-write open of a valid mailbox: %v", err)
		}
		if rw.Len() != n {
			t.Fatalf("read-write open sees %d messages, read-only %d", rw.Len(), n)
		}
		uids := make([]uint32, n)
		for i := 0; i < n; i++ {
			readMsg(t, rw, i)
			uids[i] = rw.Message(i).UID
		}
		if n > 0 {
			rw.SetFlags(0, mailbox.Seen|mailbox.Flagged, []string{"fuzz"})
		}
		if err := rw.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		opt.ReadOnly = true
		again, err := Open(path, opt)
		if err != nil {
			t.Fatalf("reopen after rewrite: %v", err)
		}
		defer again.Close()
		if again.Len() != n {
			t.Fatalf("after rewrite %d messages, before %d", again.Len(), n)
		}
		for i := 0; i < n; i++ {
			readMsg(t, again, i)
			if again.Message(i).UID != uids[i] {
				t.Fatalf("message %d: UID %d read back as %d", i, uids[i], again.Message(i).UID)
			}
		}
		if n > 0 && again.Message(0).Flags != mailbox.Seen|mailbox.Flagged {
			t.Fatalf("flags not kept: %+v", again.Message(0))
		}
	})
}

// FuzzBodyRuns: taking body lines in runs (bodyRun) parses every file as
// taking them one at a time does.
func FuzzBodyRuns(f *testing.F) {
	for _, s := range []string{
		spool61,
		"From a@b Mon Nov 23 10:00:00 2026\nh: 1\n\nbody\r\nFrom x\n\n\nFrom a@b Mon Nov 23 10:00:00 2026\n\nx",
		"From a@b Mon Nov 23 10:00:00 2026\n\n\r\n\n\r\rF\nFrom a@b Mon Nov 23 10:00:00 2026\n\n\n",
		"From a@b Mon Nov 23 10:00:00 2026\n\n" + strings.Repeat("y", 70000) + "\nFrom a@b Mon Nov 23 10:00:00 2026\n\nz\n\n",
		"From a@b Mon Nov 23 10:00:00 2026\n\n" + strings.Repeat("line of body text\n", 5000) + "\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		a, alead, aerr := parseLines(r, 0, int64(len(data)), true)
		b, blead, berr := parseLines(r, 0, int64(len(data)), false)
		if (aerr == nil) != (berr == nil) || alead != blead || len(a) != len(b) {
			t.Fatalf("runs: %d messages lead %d err %v; lines: %d lead %d err %v", len(a), alead, aerr, len(b), blead, berr)
		}
		for i := range a {
			if d := msgDiff(a[i], b[i]); d != "" {
				t.Fatalf("message %d: %s", i, d)
			}
		}
	})
}
