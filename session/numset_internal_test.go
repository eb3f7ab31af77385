package session

import (
	"math/rand/v2"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// uidIn and seqIn search long sets without "*" (a saved SEARCHRES result can
// hold one range per message): they answer as the plain scan does, for sets
// built as go-imap builds them.
func TestNumSetSearchMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var uids imap.UIDSet
		var seqs imap.SeqSet
		for k := r.IntN(60); k > 0; k-- {
			a, b := uint32(1+r.IntN(300)), uint32(1+r.IntN(300))
			uids.AddRange(imap.UID(a), imap.UID(b))
			seqs.AddRange(a, b)
		}
		if r.IntN(4) == 0 {
			uids.AddRange(imap.UID(1+r.IntN(300)), 0) // n:*
			seqs.AddRange(uint32(1+r.IntN(300)), 0)
		}
		for q := uint32(1); q <= 320; q++ {
			scanU := false
			for _, rg := range uids {
				if s, e := bounds(uint32(rg.Start), uint32(rg.Stop), 310); q >= s && q <= e {
					scanU = true
				}
			}
			if got := uidIn(uids, q, 310); got != scanU {
				t.Fatalf("uidIn(%v, %d) = %v, scan says %v", uids, q, got, scanU)
			}
			scanS := false
			for _, rg := range seqs {
				if s, e := bounds(rg.Start, rg.Stop, 310); q >= s && q <= e {
					scanS = true
				}
			}
			if got := seqIn(seqs, q, 310); got != scanS {
				t.Fatalf("seqIn(%v, %d) = %v, scan says %v", seqs, q, got, scanS)
			}
		}
	}
}
