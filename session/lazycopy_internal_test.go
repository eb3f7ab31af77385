package session

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imapd/mailbox/mbox"
)

// The messages of one copy share a buffer: a reader that comes back after
// another message took it still reads its own bytes.
func TestLazyMessagesInterleaved(t *testing.T) {
	text := "From a@b Mon Nov 23 10:00:00 2026\nSubject: one\n\n" + strings.Repeat("first body\n", 500) + "\n" +
		"From a@b Mon Nov 23 10:00:00 2026\nSubject: two\n\n" + strings.Repeat("second body\n", 700) + "\n"
	path := filepath.Join(t.TempDir(), "mb")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	mb, err := mbox.Open(path, mbox.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	want := make([][]byte, 2)
	for i := range want {
		rc, _ := mb.Open(i)
		want[i], _ = io.ReadAll(rc)
	}
	held := &heldMessage{}
	a := &lazyMessage{mb: mb, i: 0, size: mb.Message(0).Size, held: held}
	b := &lazyMessage{mb: mb, i: 1, size: mb.Message(1).Size, held: held}
	var ga, gb bytes.Buffer
	p := make([]byte, 1000)
	n, _ := a.Read(p)
	ga.Write(p[:n])
	n, _ = b.Read(p)
	gb.Write(p[:n])
	if _, err := io.Copy(&ga, a); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(&gb, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ga.Bytes(), want[0]) || !bytes.Equal(gb.Bytes(), want[1]) {
		t.Errorf("interleaved reads: %d and %d bytes, want %d and %d", ga.Len(), gb.Len(), len(want[0]), len(want[1]))
	}
	if n, err := a.Read(p); n != 0 || err != io.EOF {
		t.Errorf("after the end: %d %v", n, err)
	}
}
