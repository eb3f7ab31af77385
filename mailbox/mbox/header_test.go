package mbox

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/mailbox"
)

// headerCases are mailboxes with the layouts AppendHeader and WriteTo must
// read as Open does: status headers (hidden) at the start, middle and end
// of a header, CRLF and bare LF, no empty line, an empty header, a long
// body.
var headerCases = []string{
	spool61,
	"From a@b Mon Nov 23 10:00:00 2026\nStatus: RO\nSubject: x\nX-UID: 4\nTo: y\nX-Keywords: k\n\nbody\n\n",
	"From a@b Mon Nov 23 10:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n\r\n",
	"From a@b Mon Nov 23 10:00:00 2026\nSubject: x\r\nTo: y\nStatus: O\r\n\r\nb\r\nc\n\n",
	"From a@b Mon Nov 23 10:00:00 2026\nX-Keywords: a b c\nSubject: x\nStatus: O",
	"From a@b Mon Nov 23 10:00:00 2026\n\nonly body\n\n",
	"From a@b Mon Nov 23 10:00:00 2026\nh: 1\n\n\n\n\r\n\rFrom no\n",
	"From a@b Mon Nov 23 10:00:00 2026\nSubject: folded\n\tline\n\n" + strings.Repeat("line of body text\n", 5000) + "\n",
	"From a@b Mon Nov 23 10:00:00 2026\nSubject: long\n\n" + strings.Repeat("y", 70000) + "\r\r\n\nFrom a@b Mon Nov 23 10:00:00 2026\n\nz\n\n",
}

// onlyRead hides WriteTo: io.Copy then reads through Read.
type onlyRead struct{ io.Reader }

func TestAppendHeaderAndWriteToAsOpen(t *testing.T) {
	for k, text := range headerCases {
		path := filepath.Join(t.TempDir(), "mb")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		mb, err := Open(path, Options{ReadOnly: true, LockTimeout: time.Second, Now: func() time.Time { return at(1000) }})
		if err != nil {
			t.Fatalf("case %d: %v", k, err)
		}
		for i := range mb.Len() {
			rc, _ := mb.Open(i)
			var want bytes.Buffer
			if _, err := io.Copy(&want, onlyRead{rc}); err != nil {
				t.Fatalf("case %d message %d: %v", k, i, err)
			}
			rc, _ = mb.Open(i)
			var got bytes.Buffer
			if _, err := io.Copy(&got, rc); err != nil {
				t.Fatalf("case %d message %d: WriteTo: %v", k, i, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("case %d message %d: WriteTo gave %q, Read %q", k, i, got.Bytes(), want.Bytes())
			}
			if int64(want.Len()) != mb.Message(i).Size {
				t.Errorf("case %d message %d: %d bytes, size %d", k, i, want.Len(), mb.Message(i).Size)
			}
			// A reader partly read, then copied.
			rc, _ = mb.Open(i)
			part := make([]byte, 7)
			n, _ := io.ReadFull(rc, part)
			got.Reset()
			got.Write(part[:n])
			if _, err := io.Copy(&got, rc); err != nil {
				t.Fatalf("case %d message %d: WriteTo after Read: %v", k, i, err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("case %d message %d: Read then WriteTo gave %q, want %q", k, i, got.Bytes(), want.Bytes())
			}

			hdr, err := mb.AppendHeader([]byte("prefix"), i)
			if err != nil {
				t.Fatalf("case %d message %d: %v", k, i, err)
			}
			hdr = bytes.TrimPrefix(hdr, []byte("prefix"))
			wantHdr := want.Bytes()
			if j := bytes.Index(wantHdr, []byte("\r\n\r\n")); j >= 0 {
				wantHdr = wantHdr[:j+4]
			}
			if bytes.HasPrefix(want.Bytes(), []byte("\r\n")) {
				wantHdr = wantHdr[:2]
			}
			if !bytes.Equal(hdr, wantHdr) {
				t.Errorf("case %d message %d: header %q, want %q", k, i, hdr, wantHdr)
			}
		}
		mb.Close()
	}
}

func TestAppendHeaderChanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mb")
	if err := os.WriteFile(path, []byte(spool61), 0o600); err != nil {
		t.Fatal(err)
	}
	mb, err := Open(path, Options{ReadOnly: true, LockTimeout: time.Second, Now: func() time.Time { return at(1000) }})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if _, err := mb.AppendHeader(nil, mb.Len()); err == nil {
		t.Error("index out of range: no error")
	}
	// Another program cut the file short: the read says so.
	if err := os.Truncate(path, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := mb.AppendHeader(nil, mb.Len()-1); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated file: %v", err)
	}
	var _ mailbox.HeaderReader = mb
}
