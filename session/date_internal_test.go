package session

import (
	"net/mail"
	"testing"
)

// commonDate must give what net/mail.ParseDate gives, or leave the value
// to it.
func TestCommonDateAsParseDate(t *testing.T) {
	for _, v := range []string{
		"Mon, 05 Jan 2026 08:06:04 +0000",
		"Mon, 5 Jan 2026 08:06:04 +0000",
		"Tue, 31 Dec 1999 23:59:59 -1130",
		"Sun, 29 Feb 2026 10:00:00 +0100", // no such day
		"Xyz, 05 Jan 2026 08:06:04 +0000",
		"Mon, 05 Foo 2026 08:06:04 +0000",
		"Mon, 05 Jan 2026 25:06:04 +0000",
		"mon, 05 jan 2026 08:06:04 +0000",
		"Mon, 05 Jan 2026 08:06:04 +000a",
		"Mon, 05 Jan 2026 08:06:04 GMT",
		"Mon, 05 Jan 2026 08:06:04 +0000 (UTC)",
		" Mon, 05 Jan 2026 08:06:04 +0000",
		"05 Jan 2026 08:06:04 +0000",
		"Mon,  5 Jan 2026 08:06:04 +0000",
		"Mon, 05 Jan 26 08:06:04 +0000",
		"",
	} {
		want, werr := mail.ParseDate(v)
		got, ok := commonDate(v)
		if !ok {
			continue
		}
		if werr != nil || !got.Equal(want) || got.String() != want.String() {
			t.Errorf("%q: commonDate %v, ParseDate %v %v", v, got, want, werr)
		}
	}
	if _, ok := commonDate("Mon, 05 Jan 2026 08:06:04 +0000"); !ok {
		t.Error("the common form is not taken")
	}
	if _, ok := commonDate("Mon, 5 Jan 2026 08:06:04 +0000"); !ok {
		t.Error("the common form with a one-digit day is not taken")
	}
}
