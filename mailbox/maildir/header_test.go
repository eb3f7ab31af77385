package maildir

import (
	"bytes"
	"strings"
	"testing"

	"imapd/mailbox"
)

// AppendHeader gives the start of what Open gives, through the empty line
// that ends the header.
func TestAppendHeader(t *testing.T) {
	dir := newDir(t)
	bodies := []string{
		"Subject: one\r\n\r\nbody\r\n",
		"Subject: two\nTo: x\n\nlf only\n\nmore\n",
		"Subject: three\r\n\r\nbare\rcr\r\n",
		"\r\nno header\r\n",
		"Subject: no body, no empty line",
		"Subject: long\n" + strings.Repeat("X-Filler: "+strings.Repeat("y", 70)+"\n", 200) + "\nbody\n",
		"Subject: cr\r\r\nTo: y\n\r\n",
	}
	var msgs []mailbox.NewMessage
	for _, b := range bodies {
		msgs = append(msgs, msg(b, 0))
	}
	if _, _, err := AppendTo(dir, msgs, Options{}); err != nil {
		t.Fatal(err)
	}
	m, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for i := range m.Len() {
		whole := read(t, m, i)
		want := whole
		if strings.HasPrefix(whole, "\r\n") {
			want = "\r\n"
		} else if j := strings.Index(whole, "\n\r\n"); j >= 0 {
			want = whole[:j+3]
		}
		got, err := m.AppendHeader([]byte("x"), i)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte("x"+want)) {
			t.Errorf("message %d: header %q, want %q", i, got, "x"+want)
		}
	}
}
