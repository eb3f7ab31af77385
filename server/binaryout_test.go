package server

import (
	"bytes"
	"testing"
)

// The BINARY announcements are rewritten wherever go-imap's writes are cut,
// and nothing else changes: not a literal8-looking text in a quoted string,
// not a BODY literal, not the literals' bytes.
func TestBinaryAnnouncement(t *testing.T) {
	goStream := "* 1 FETCH (UID 1 BINARY[1] ~{3}\r\nabc BINARY[2] ~{2}\r\n\x00\x01 BODY[1] {4}\r\n ~{4 BINARY[3] ~{0}\r\n)\r\n" +
		"* 2 FETCH (ENVELOPE (\"a ~{3}\" NIL) BINARY[1.2] ~{10}\r\n] ~{3}\r\n\r\nxx)\r\n" +
		"a1 OK FETCH completed\r\n" +
		"* 3 FETCH (BINARY[1] ~{1}\r\nz)\r\n" + // after the tagged line: no form left
		"a2 OK FETCH completed\r\n"
	want := "* 1 FETCH (UID 1 BINARY[1] {3}\r\nabc BINARY[2]<5> ~{2}\r\n\x00\x01 BODY[1] {4}\r\n ~{4 BINARY[3]<7> {0}\r\n)\r\n" +
		"* 2 FETCH (ENVELOPE (\"a ~{3}\" NIL) BINARY[1.2] {10}\r\n] ~{3}\r\n\r\nxx)\r\n" +
		"a1 OK FETCH completed\r\n" +
		"* 3 FETCH (BINARY[1] ~{1}\r\nz)\r\n" +
		"a2 OK FETCH completed\r\n"
	forms := []binForm{{true, -1}, {false, 5}, {true, 7}, {true, -1}, {true, -1}}
	for n := 1; n <= 3*len(goStream); n++ {
		var got bytes.Buffer
		o := newOutput(&got, nil)
		o.first = false
		switch {
		case n > 2*len(goStream): // untagged lines held first (capability rewriting on)
			o.caps = func(c []string) []string { return c }
			o.logout = "bye"
		case n > len(goStream): // batched (FETCH)
			o.batch = true
		}
		o.binForms = append([]binForm(nil), forms...)
		for s := goStream; len(s) > 0; {
			k := min((n-1)%len(goStream)+1, len(s))
			if w, err := o.Write([]byte(s[:k])); err != nil || w != k {
				t.Fatalf("chunks of %d: Write = %d, %v", n, w, err)
			}
			s = s[k:]
		}
		if got.String() != want {
			t.Errorf("chunks of %d:\n got %q\nwant %q", n, got.String(), want)
		}
	}
}

func TestBinHold(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"BINARY[1]", 0}, {"BINARY[1] ", 1}, {"BINARY[1] ~", 2}, {"BINARY[1] ~{", 3},
		{"BINARY[1] ~{12", 5}, {"BINARY[1] ~{12}", 6}, {"BINARY[1] ~{12}\r", 7},
		{"BINARY[1] ~{12}x", 0}, {"BINARY[1] {12}", 0}, {"a ~x", 0},
		{"a ~{123456789012345678901234}", 0},
	} {
		if got := binHold([]byte(tc.in)); got != tc.want {
			t.Errorf("binHold(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
