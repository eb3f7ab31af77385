package session

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
)

// fetchLines encodes the untagged FETCH responses that carry only the
// simple items (UID, FLAGS, RFC822.SIZE, INTERNALDATE): every answer of a
// STORE, and the FETCH of flags a client makes at each synchronisation.
// go-imap's FetchWriter costs an encoder, a lock, a clock read and a flush
// for each of those lines; here they are appended to one buffer that
// goes out through Conn.Responses every fetchLinesMax bytes and at the
// end (flush), so a command's memory stays bounded.
//
// The bytes are exactly go-imap's: "* <seq> FETCH (" then the items in the
// order fetchOne writes them, separated by one space, then ")" CRLF; a
// flag go-imap's encoder would refuse (not an atom, or "\" other than
// first) makes add report false, and the caller writes that message
// through go-imap (after flush), which fails the command as before.
type fetchLines struct {
	conn Conn
	buf  []byte
}

// fetchLinesMax is how much fetchLines holds before it writes.
const fetchLinesMax = 16 << 10

// fetchItems are the items of one fetchLines response: those whose with*
// is set, in the order fetchOne writes them.
type fetchItems struct {
	withUID, withFlags, withSize, withDate bool

	uid   imap.UID
	flags []imap.Flag
	size  int64
	date  time.Time
}

// simpleFetch reports whether a FETCH asks only for the items fetchLines
// writes.
func simpleFetch(o *imap.FetchOptions) bool {
	return !o.Envelope && o.BodyStructure == nil && len(o.BodySection) == 0 &&
		len(o.BinarySection) == 0 && len(o.BinarySectionSize) == 0 && !o.ModSeq && o.ChangedSince == 0
}

// fetchLinesOff, set by tests, makes add refuse every line: the answers
// then all go through go-imap, the oracle of the bytes.
var fetchLinesOff atomic.Bool

// add appends the response of message seq, or reports false (nothing
// appended) if a flag cannot be written as an atom.
func (f *fetchLines) add(seq uint32, it fetchItems) (bool, error) {
	if fetchLinesOff.Load() {
		return false, nil
	}
	for _, fl := range it.flags {
		if !atomFlag(string(fl)) {
			return false, nil
		}
	}
	b := append(f.buf, "* "...) // grows to fetchLinesMax at most, and only as lines come
	b = strconv.AppendUint(b, uint64(seq), 10)
	b = append(b, " FETCH ("...)
	sep := false
	item := func(name string) {
		if sep {
			b = append(b, ' ')
		}
		sep = true
		b = append(b, name...)
	}
	if it.withUID {
		item("UID ")
		b = strconv.AppendUint(b, uint64(it.uid), 10)
	}
	if it.withFlags {
		item("FLAGS (")
		for j, fl := range it.flags {
			if j > 0 {
				b = append(b, ' ')
			}
			b = append(b, fl...)
		}
		b = append(b, ')')
	}
	if it.withSize {
		item("RFC822.SIZE ")
		b = strconv.AppendInt(b, it.size, 10)
	}
	if it.withDate {
		item(`INTERNALDATE "`)
		b = it.date.AppendFormat(b, internalDateLayout)
		b = append(b, '"')
	}
	f.buf = append(b, ")\r\n"...)
	if len(f.buf) >= fetchLinesMax {
		return true, f.flush()
	}
	return true, nil
}

// internalDateLayout is RFC 3501's date-time, as go-imap writes it.
const internalDateLayout = "_2-Jan-2006 15:04:05 -0700"

// flush writes what is held.
func (f *fetchLines) flush() error {
	if len(f.buf) == 0 {
		return nil
	}
	err := f.conn.Responses(f.buf)
	f.buf = f.buf[:0]
	return err
}

// atomFlag is go-imap's test of a flag it can write: a non-empty atom,
// with a "\" allowed only as its first character.
func atomFlag(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			if i != 0 {
				return false
			}
		case c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0:
			return false // controls (unicode.IsControl of the byte as a rune)
		case c == '(' || c == ')' || c == '{' || c == ' ' || c == '%' || c == '*' || c == '"' || c == ']':
			return false
		}
	}
	return true
}
