package mbox

import (
	"fmt"
	"io"

	"imapd/mailbox"
)

// Open implements mailbox.Mailbox: it streams message i from the file as
// the client sees it (status headers left out, bare LF turned into CRLF),
// exactly Message(i).Size bytes. The bytes are read when the reader is
// read, without locks, as UW does: a rewrite by another program in between
// shows up as io.ErrUnexpectedEOF or wrong bytes, and as ErrChanged at the
// next Sync.
func (m *Mailbox) Open(i int) (io.ReadCloser, error) {
	if err := m.readable(i, "open message"); err != nil {
		return nil, err
	}
	msg := m.msgs[i]
	return &crlfReader{ra: m.rf, segs: visibleSegments(msg), left: msg.size, prev: '\n'}, nil
}

// readable says why message i cannot be read now, if it cannot: the
// mailbox failed, i is out of range, or the file is no longer open.
func (m *Mailbox) readable(i int, what string) error {
	if m.dead != nil {
		return m.dead
	}
	if i < 0 || i >= len(m.msgs) {
		return fmt.Errorf("%s: index %d out of range", what, i)
	}
	if m.rf == nil {
		return fmt.Errorf("%s: %w", what, mailbox.ErrChanged)
	}
	return nil
}

// visibleSegments lists the byte ranges a client sees of msg.
func visibleSegments(msg *message) []span {
	var segs []span
	add := func(a, b int64) {
		if b > a {
			if n := len(segs); n > 0 && segs[n-1].end == a {
				segs[n-1].end = b
				return
			}
			segs = append(segs, span{a, b})
		}
	}
	pos := msg.hdr
	for _, h := range msg.hidden {
		add(pos, h.off)
		pos = h.end
	}
	add(pos, msg.hdrEnd)
	add(msg.hdrEnd, msg.body)
	add(msg.body, msg.textEnd)
	return segs
}

// crlfReader reads segments of a file, inserting CR before every LF not
// already preceded by one.
type crlfReader struct {
	ra      io.ReaderAt
	segs    []span
	left    int64 // bytes still to deliver
	buf     []byte
	bpos    int
	prev    byte
	pending bool // an LF is owed after a CR already delivered
}

func (r *crlfReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.pending {
			p[n] = '\n'
			n++
			r.pending = false
			r.prev = '\n'
			continue
		}
		if r.bpos == len(r.buf) {
			if len(r.segs) == 0 {
				break
			}
			if r.buf == nil {
				// Sized for the message: most are far below 32 KiB, and
				// ENVELOPE-only reads stop early.
				var total int64
				for _, s := range r.segs {
					total += s.end - s.off
				}
				r.buf = make([]byte, min(total, 32<<10))
			}
			b, err := r.fill(r.buf[:cap(r.buf)])
			if err != nil {
				return n, err
			}
			r.buf, r.bpos = b, 0
		}
		c := r.buf[r.bpos]
		r.bpos++
		if c == '\n' && r.prev != '\r' {
			p[n] = '\r'
			n++
			r.pending = true
			continue
		}
		p[n] = c
		n++
		r.prev = c
	}
	r.left -= int64(n)
	if n == 0 && len(p) > 0 {
		if r.left != 0 {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, io.EOF
	}
	return n, nil
}

func (r *crlfReader) Close() error { return nil }

// fill reads the next bytes of the message's segments into buf, at most
// len(buf) of them and never past the current segment, and returns them.
func (r *crlfReader) fill(buf []byte) ([]byte, error) {
	s := &r.segs[0]
	k := min(int64(len(buf)), s.end-s.off)
	buf = buf[:k]
	got, err := r.ra.ReadAt(buf, s.off)
	if int64(got) < k {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	s.off += k
	if s.off == s.end {
		r.segs = r.segs[1:]
	}
	return buf, nil
}
