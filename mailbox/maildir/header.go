package maildir

import (
	"bytes"
	"fmt"
	"io"
	"slices"

	"imapd/mailbox"
)

var _ mailbox.HeaderReader = (*Mailbox)(nil)

// AppendHeader implements mailbox.HeaderReader: it appends to dst the
// bytes Open(i) starts with, up to and including the empty line that ends
// the header (all of them when there is none), reading the file no further
// than the chunk that holds that line. In Open's bytes every LF has its CR,
// so the empty line is a CRLF at the start or right after an LF.
func (m *Mailbox) AppendHeader(dst []byte, i int) ([]byte, error) {
	rc, err := m.Open(i)
	if err != nil {
		return dst, err
	}
	defer rc.Close()
	start := len(dst)
	for {
		if cap(dst)-len(dst) < 4096 {
			dst = slices.Grow(dst, 4096)
		}
		n, err := rc.Read(dst[len(dst):cap(dst)])
		from := max(start, len(dst)-2) // "\n\r\n" may begin in the bytes before
		dst = dst[:len(dst)+n]
		if h := dst[start:]; len(h) >= 2 && h[0] == '\r' && h[1] == '\n' {
			return dst[:start+2], nil
		}
		if j := bytes.Index(dst[from:], []byte("\n\r\n")); j >= 0 {
			return dst[:from+j+3], nil
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:start], err
		}
		if len(dst)-start > mailbox.MaxHeaderRead {
			return dst[:start], fmt.Errorf("read header of message %d: %w", i+1, mailbox.ErrHeaderTooBig)
		}
	}
}
