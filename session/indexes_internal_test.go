package session

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"imapd/mailbox/mbox"
)

// indexes of a sequence set: every message of the set once, ascending,
// whatever the ranges' order and overlaps; a number beyond the mailbox is
// BAD.
func TestIndexesSeqSet(t *testing.T) {
	var text strings.Builder
	const n = 150
	for i := range n {
		fmt.Fprintf(&text, "From a@b Mon Nov 23 10:00:00 2026\nSubject: %d\n\nx\n\n", i)
	}
	path := filepath.Join(t.TempDir(), "mb")
	if err := os.WriteFile(path, []byte(text.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	mb, err := mbox.Open(path, mbox.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mb.Close()
	rnd := rand.New(rand.NewSource(1))
	for k := range 500 {
		var set imap.SeqSet
		want := map[int]bool{}
		for range 1 + rnd.Intn(4) {
			a, b := uint32(rnd.Intn(n+1)), uint32(rnd.Intn(n+1)) // 0 is "*"
			set = append(set, imap.SeqRange{Start: a, Stop: b})
			lo, hi := bounds(a, b, n)
			for i := lo; i <= hi; i++ {
				want[int(i-1)] = true
			}
		}
		var wantList []int
		for i := range want {
			wantList = append(wantList, i)
		}
		slices.Sort(wantList)
		got, err := indexes(mb, n, set)
		if err != nil || !slices.Equal(got, wantList) {
			t.Fatalf("case %d %v: %v %v, want %v", k, set, got, err, wantList)
		}
	}
	for _, set := range []imap.SeqSet{{{Start: 1, Stop: n + 1}}, {{Start: 2, Stop: 3}, {Start: n + 1, Stop: n + 1}}} {
		if _, err := indexes(mb, n, set); err == nil {
			t.Errorf("%v: no error", set)
		}
	}
	if got, _ := indexes(mb, 10, imap.SeqSet{{Start: 1, Stop: 0}}); len(got) != 10 {
		t.Errorf("1:* of the 10 told: %v", got)
	}
}
