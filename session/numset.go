package session

import (
	"math/bits"
	"sort"

	"github.com/emersion/go-imap/v2"

	"imapd/mailbox"
)

// indexes resolves a sequence or UID set against the selected mailbox into
// ascending 0-based indexes. Sequence numbers beyond the mailbox are an
// error (BAD in RFC 3501 terms); UIDs that do not exist are skipped.
func indexes(mb mailbox.Mailbox, told int, set imap.NumSet) ([]int, error) {
	n := mb.Len()
	if told < n {
		n = told // messages the client has not been told of yet are not addressable
	}
	var out []int
	switch set := set.(type) {
	case imap.SeqSet:
		if len(set) == 1 {
			// One range (1:*, n, 1:1000): ascending as it is.
			start, stop := bounds(set[0].Start, set[0].Stop, uint32(n))
			if start == 0 || int(stop) > n {
				return nil, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Invalid message sequence number"}
			}
			out = make([]int, 0, stop-start+1)
			for i := start; i <= stop; i++ {
				out = append(out, int(i-1))
			}
			return out, nil
		}
		// Several, maybe overlapping: a bit per message (at most n bits,
		// however often a hostile set repeats itself), read in order.
		seen := make([]uint64, (n+63)/64)
		for _, r := range set {
			start, stop := bounds(r.Start, r.Stop, uint32(n))
			if start == 0 || int(stop) > n {
				return nil, &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Invalid message sequence number"}
			}
			for i := int(start) - 1; i < int(stop); i++ {
				seen[i/64] |= 1 << (i % 64)
			}
		}
		for w, word := range seen {
			for word != 0 {
				out = append(out, w*64+bits.TrailingZeros64(word))
				word &= word - 1
			}
		}
	case imap.UIDSet:
		if n == 0 {
			return nil, nil
		}
		maxUID := mb.Message(n - 1).UID
		for _, r := range set {
			start, stop := bounds(uint32(r.Start), uint32(r.Stop), maxUID)
			// UIDs ascend with the index: find the first at or above start.
			i := sort.Search(n, func(i int) bool { return mb.Message(i).UID >= start })
			for ; i < n && mb.Message(i).UID <= stop; i++ {
				out = append(out, i)
			}
		}
		if len(set) > 1 {
			sort.Ints(out)
			out = compactInts(out)
		}
	}
	return out, nil
}

// bounds resolves one range of a set: 0 ("*") is max, and the ends are
// put in order (RFC 3501: 4:2 is 2:4).
func bounds(start, stop, max uint32) (uint32, uint32) {
	if start == 0 {
		start = max
	}
	if stop == 0 {
		stop = max
	}
	if start > stop {
		start, stop = stop, start
	}
	return start, stop
}

// uidIn reports whether uid is in set, with "*" meaning maxUID.
func uidIn(set imap.UIDSet, uid, maxUID uint32) bool {
	if n := len(set); n > 8 && set[0].Start != 0 && set[n-1].Stop != 0 {
		// Without "*", a set go-imap made (parsed, or built with AddNum)
		// is ascending ranges that do not touch: search it. A saved
		// search result ("$", SEARCHRES) may hold one range per message.
		i := sort.Search(n, func(i int) bool { return uint32(set[i].Stop) >= uid })
		return i < n && uint32(set[i].Start) <= uid
	}
	for _, r := range set {
		if start, stop := bounds(uint32(r.Start), uint32(r.Stop), maxUID); uid >= start && uid <= stop {
			return true
		}
	}
	return false
}

// seqIn reports whether seq is in set, with "*" meaning max.
func seqIn(set imap.SeqSet, seq, max uint32) bool {
	if n := len(set); n > 8 && set[0].Start != 0 && set[n-1].Stop != 0 {
		i := sort.Search(n, func(i int) bool { return set[i].Stop >= seq })
		return i < n && set[i].Start <= seq
	}
	for _, r := range set {
		if start, stop := bounds(r.Start, r.Stop, max); seq >= start && seq <= stop {
			return true
		}
	}
	return false
}

// compactInts drops repeats from a sorted slice.
func compactInts(s []int) []int {
	if len(s) < 2 {
		return s
	}
	j := 1
	for i := 1; i < len(s); i++ {
		if s[i] != s[j-1] {
			s[j] = s[i]
			j++
		}
	}
	return s[:j]
}
