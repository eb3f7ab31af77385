package mbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"imapd/mailbox"
)

// A header block over mailbox.MaxHeaderRead (here a message with no empty
// line, all header) is refused, not read whole into memory; one just under
// it is read.
func TestReviewAppendHeaderBound(t *testing.T) {
	line := "X-Filler: " + strings.Repeat("y", 60) + "\n"
	big := strings.Repeat(line, mailbox.MaxHeaderRead/len(line)+1)
	small := strings.Repeat(line, mailbox.MaxHeaderRead/len(line)-1)
	text := "From a@b Mon Nov 23 10:00:00 2026\nSubject: big\n" + big +
		"From a@b Mon Nov 23 10:00:00 2026\nSubject: small\n" + small + "\nbody\n\n"
	path := filepath.Join(t.TempDir(), "mb")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	mb, err := Open(path, Options{ReadOnly: true, LockTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	if _, err := mb.AppendHeader(nil, 0); !errors.Is(err, mailbox.ErrHeaderTooBig) {
		t.Errorf("a %d-byte header: %v", len(big), err)
	}
	h, err := mb.AppendHeader(nil, 1)
	if err != nil || !strings.HasPrefix(string(h), "Subject: small\r\n") || !strings.HasSuffix(string(h), "\r\n\r\n") {
		t.Errorf("a %d-byte header: %d bytes, %v", len(small), len(h), err)
	}
}
