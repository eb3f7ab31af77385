package server

import (
	"bytes"
	"strconv"
)

// BINARY answers (RFC 3516 4.3): go-imap writes every FETCH BINARY item as
// "BINARY[part] ~{n}", a literal8 without the origin of a partial fetch.
// The session knows the data (whether it holds a NUL) and the origin; it
// tells the connection, item by item, just before go-imap writes the item
// (BinaryForm), and the output rewrites the item's literal announcement:
// "BINARY[part]<origin> {n}" when there is no NUL (a plain literal, as the
// RFC prefers), "~{n}" kept when there is one. Only the announcement
// changes; the n bytes that follow are passed on as they are.
//
// The output holds back the end of a line that may be the start of
// " ~{n}\r" while forms are pending, so the announcement is never split
// between a write already sent and the one that completes it.

// binForm is how one BINARY item is to be announced.
type binForm struct {
	plain  bool  // no NUL in the data: a plain literal
	origin int64 // the partial fetch's offset, -1 for none
}

// BinaryForm tells the output how the next BINARY item go-imap writes is
// to be announced (session.binaryFormer).
func (c *conn) BinaryForm(plain bool, origin int64) {
	c.out.qmu.Lock()
	c.out.binForms = append(c.out.binForms, binForm{plain: plain, origin: origin})
	c.out.qmu.Unlock()
}

// binPending reports whether BINARY items wait for their announcement.
func (o *output) binPending() bool {
	o.qmu.Lock()
	defer o.qmu.Unlock()
	return len(o.binForms) > 0
}

// binHold returns how many bytes at the end of p (a piece of a line, no LF)
// may be the start of a literal8 announcement " ~{n}\r" and must wait for
// the rest of the line.
func binHold(p []byte) int {
	sp := bytes.LastIndexByte(p, ' ')
	if sp < 0 || len(p)-sp > 24 {
		return 0
	}
	s := p[sp+1:]
	for _, want := range []byte{'~', '{'} {
		if len(s) == 0 {
			return len(p) - sp
		}
		if s[0] != want {
			return 0
		}
		s = s[1:]
	}
	for len(s) > 0 && s[0] >= '0' && s[0] <= '9' {
		s = s[1:]
	}
	switch string(s) {
	case "", "}", "}\r":
		return len(p) - sp
	}
	return 0
}

// binRewrite rewrites the literal8 announcement out ends with (a line that
// just ended, its literal of n bytes next) into the form the session asked
// for, if the line is a BINARY item's.
func (o *output) binRewrite(out []byte, n int64) []byte {
	suffix := " ~{" + strconv.FormatInt(n, 10) + "}\r\n"
	t := o.tail
	if !bytes.HasSuffix(out, []byte(suffix)) || len(t) < len(suffix) ||
		string(t[len(t)-len(suffix)+1:]) != suffix[:len(suffix)-1] || t[len(t)-len(suffix)] != ']' {
		return out
	}
	o.qmu.Lock()
	f := o.binForms[0]
	o.binForms = o.binForms[1:]
	o.qmu.Unlock()
	out = out[:len(out)-len(suffix)]
	if f.origin >= 0 {
		out = append(append(append(out, '<'), strconv.FormatInt(f.origin, 10)...), '>')
	}
	out = append(out, ' ')
	if !f.plain {
		out = append(out, '~')
	}
	return append(out, suffix[2:]...)
}
