package mbox

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"imapd/mailbox"
)

// Reading a message's header alone (ENVELOPE, header SEARCH keys) and the
// whole message in runs (BODY[]), instead of a byte at a time through
// crlfReader.Read.

var _ mailbox.HeaderReader = (*Mailbox)(nil)

// AppendHeader implements mailbox.HeaderReader: it appends to dst the
// header of message i as Open(i) gives it (status headers left out, bare LF
// turned into CRLF) up to and including the empty line that ends it, or the
// whole text when there is none. The header block is read from the file in
// one read, without locks, as Open reads.
func (m *Mailbox) AppendHeader(dst []byte, i int) ([]byte, error) {
	if err := m.readable(i, "read header"); err != nil {
		return dst, err
	}
	msg := m.msgs[i]
	n := msg.body - msg.hdr
	if n > mailbox.MaxHeaderRead {
		return dst, fmt.Errorf("read header of message %d: %w", i+1, mailbox.ErrHeaderTooBig)
	}
	bp := rawBufs.Get().(*[]byte)
	defer putRawBuf(bp)
	if int64(cap(*bp)) < n {
		*bp = make([]byte, n)
	}
	raw := (*bp)[:n]
	if got, err := m.rf.ReadAt(raw, msg.hdr); int64(got) < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return dst, fmt.Errorf("read header of message %d: %w", i+1, err)
	}
	prev := byte('\n')
	pos := msg.hdr
	for _, h := range msg.hidden {
		if h.off >= msg.body {
			break
		}
		if h.off > pos {
			dst, prev = appendCRLF(dst, raw[pos-msg.hdr:h.off-msg.hdr], prev)
		}
		pos = max(pos, h.end)
	}
	if pos < msg.body {
		dst, _ = appendCRLF(dst, raw[pos-msg.hdr:], prev)
	}
	return dst, nil
}

// rawBufs hold file bytes before their line ends are converted.
var rawBufs = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// putRawBuf keeps a buffer for the next read unless a big header made it
// big.
func putRawBuf(bp *[]byte) {
	if cap(*bp) <= 128<<10 {
		rawBufs.Put(bp)
	}
}

// appendCRLF appends src to dst with a CR put before every LF not already
// preceded by one (prev is the byte before src), as crlfReader does, and
// returns the last byte of src (prev if src is empty).
func appendCRLF(dst, src []byte, prev byte) ([]byte, byte) {
	for len(src) > 0 {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			dst = append(dst, src...)
			return dst, src[len(src)-1]
		}
		before := prev
		if j > 0 {
			before = src[j-1]
		}
		dst = append(dst, src[:j]...)
		if before != '\r' {
			dst = append(dst, '\r')
		}
		dst = append(dst, '\n')
		prev = '\n'
		src = src[j+1:]
	}
	return dst, prev
}

// WriteTo writes what is left of the message to w, converting line ends a
// run at a time (io.Copy of BODY[] uses it instead of Read).
func (r *crlfReader) WriteTo(w io.Writer) (int64, error) {
	bp := rawBufs.Get().(*[]byte)
	defer putRawBuf(bp)
	op := rawBufs.Get().(*[]byte)
	defer putRawBuf(op)
	out := (*op)[:0]
	var written int64
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		k, err := w.Write(out)
		written += int64(k)
		r.left -= int64(k)
		if err == nil && k < len(out) {
			err = io.ErrShortWrite
		}
		out = out[:0]
		return err
	}
	if r.pending {
		out = append(out, '\n')
		r.pending = false
		r.prev = '\n'
	}
	if r.bpos < len(r.buf) {
		out, r.prev = appendCRLF(out, r.buf[r.bpos:], r.prev)
		r.bpos = len(r.buf)
	}
	const chunk = 32 << 10
	if cap(*bp) < chunk {
		*bp = make([]byte, chunk)
	}
	for len(r.segs) > 0 {
		raw, err := r.fill((*bp)[:chunk])
		if err != nil {
			if ferr := flush(); ferr != nil {
				return written, ferr
			}
			return written, err
		}
		out, r.prev = appendCRLF(out, raw, r.prev)
		if len(out) >= chunk {
			if err := flush(); err != nil {
				return written, err
			}
		}
	}
	if err := flush(); err != nil {
		return written, err
	}
	*op = out
	if r.left != 0 {
		return written, io.ErrUnexpectedEOF
	}
	return written, nil
}
