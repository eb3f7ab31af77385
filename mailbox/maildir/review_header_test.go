package maildir

import (
	"errors"
	"strings"
	"testing"

	"imapd/mailbox"
)

// A header block over mailbox.MaxHeaderRead (here a message with no empty
// line, all header) is refused after at most about that much is read; one
// just under it is read.
func TestReviewAppendHeaderBound(t *testing.T) {
	dir := newDir(t)
	line := "X-Filler: " + strings.Repeat("y", 60) + "\r\n"
	big := "Subject: big\r\n" + strings.Repeat(line, mailbox.MaxHeaderRead/len(line)+1)
	small := "Subject: small\r\n" + strings.Repeat(line, mailbox.MaxHeaderRead/len(line)-1) + "\r\nbody\r\n"
	if _, _, err := AppendTo(dir, []mailbox.NewMessage{msg(big, 0), msg(small, 0)}, Options{}); err != nil {
		t.Fatal(err)
	}
	m, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if h, err := m.AppendHeader([]byte("x"), 0); !errors.Is(err, mailbox.ErrHeaderTooBig) || string(h) != "x" {
		t.Errorf("a %d-byte header: %d bytes, %v", len(big), len(h), err)
	}
	h, err := m.AppendHeader(nil, 1)
	if err != nil || !strings.HasPrefix(string(h), "Subject: small\r\n") || !strings.HasSuffix(string(h), "\r\n\r\n") {
		t.Errorf("a %d-byte header: %d bytes, %v", len(small), len(h), err)
	}
}
