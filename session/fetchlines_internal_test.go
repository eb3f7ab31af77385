package session

import (
	"strings"
	"testing"
	"unicode"

	"github.com/emersion/go-imap/v2"
)

// TestAtomFlag: atomFlag accepts what go-imap's encoder writes as a flag
// (a non-empty atom, "\" only first) and nothing else, for every byte.
func TestAtomFlag(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := !unicode.IsControl(rune(c)) && !strings.ContainsRune(`(){ %*"\]`, rune(c))
		if got := atomFlag(string([]byte{'a', byte(c), 'b'})); got != want {
			t.Errorf("byte %#x inside a flag: %v, want %v", c, got, want)
		}
	}
	for s, want := range map[string]bool{"": false, `\`: true, `\Seen`: true, `\\Seen`: false, `a\b`: false, "$Label1": true, "a]": false} {
		if got := atomFlag(s); got != want {
			t.Errorf("atomFlag(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestFetchLinesRefuses: a message with a flag go-imap would refuse is
// not written (its caller sends it through go-imap, which fails as before).
func TestFetchLinesRefuses(t *testing.T) {
	var f fetchLines
	ok, err := f.add(1, fetchItems{withFlags: true, flags: []imap.Flag{`\Seen`, "bad)kw"}})
	if ok || err != nil || len(f.buf) != 0 {
		t.Fatalf("add of a bad flag: ok %v, err %v, held %q", ok, err, f.buf)
	}
	ok, err = f.add(7, fetchItems{withUID: true, uid: 9, withFlags: true, flags: []imap.Flag{`\Seen`, "Work"}, withSize: true, size: 12})
	if !ok || err != nil || string(f.buf) != "* 7 FETCH (UID 9 FLAGS (\\Seen Work) RFC822.SIZE 12)\r\n" {
		t.Fatalf("add: ok %v, err %v, held %q", ok, err, f.buf)
	}
}
