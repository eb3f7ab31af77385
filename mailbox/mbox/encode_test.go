package mbox

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestEncodeMessageSame: encodeMessage, which reuses one reader for many
// messages and writes lines without copying them, writes the same bytes as
// the simple version it replaced, for random texts made of the pieces
// that matter (CR, LF, NUL, "From ", status headers, blank lines), read
// through a small buffer (lines longer than the buffer, a CR at its end)
// and the real one.
func TestEncodeMessageSame(t *testing.T) {
	pieces := []string{"\r", "\n", "\r\n", "\x00", "From ", "from ", "Status: RO", "X-Status: A",
		"X-UID: 3", "Subject: x", "status:", "a", "bcdefghijklmnopq", "\n\n", "\r\r\n", ">From ", " "}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{16, 64 << 10} {
		got, want := &bytes.Buffer{}, &bytes.Buffer{}
		gw, ww := bufio.NewWriter(got), bufio.NewWriter(want)
		br := bufio.NewReaderSize(nil, size)
		for n := 0; n < 5000; n++ {
			var b strings.Builder
			for range rng.IntN(40) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			text := b.String()
			raw := n%3 == 0
			block := []byte(fmt.Sprintf("Status: O\nX-UID: %d\n", n))
			got.Reset()
			want.Reset()
			gw.Reset(got)
			ww.Reset(want)
			gerr := encodeMessage(gw, br, "From a@b Mon Dec  7 10:00:00 2026", strings.NewReader(text), block, raw)
			werr := encodeMessageRef(ww, size, "From a@b Mon Dec  7 10:00:00 2026", strings.NewReader(text), block, raw)
			gw.Flush()
			ww.Flush()
			if (gerr == nil) != (werr == nil) || !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("size %d raw %v text %q:\ngot  %q (%v)\nwant %q (%v)", size, raw, text, got, gerr, want, werr)
			}
		}
	}
}

// BenchmarkEncodeMessage is one message of a COPY: a 4 KiB text with
// CRLF lines through encodeMessage with the reader reused.
func BenchmarkEncodeMessage(b *testing.B) { benchEncode(b, false) }

// BenchmarkEncodeMessageRef is the same through the version replaced (a
// reader and a slice per line each time), for comparison in one run.
func BenchmarkEncodeMessageRef(b *testing.B) { benchEncode(b, true) }

func benchEncode(b *testing.B, ref bool) {
	var t strings.Builder
	t.WriteString("From: a@b\r\nSubject: hello\r\nStatus: RO\r\n\r\n")
	for t.Len() < 4096 {
		t.WriteString("From the body, a line of text of some length, like mail.\r\n")
	}
	text := t.String()
	w := bufio.NewWriterSize(io.Discard, 256<<10)
	br := bufio.NewReaderSize(nil, 64<<10)
	block := []byte("Status: O\nX-UID: 1\n")
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		var err error
		if ref {
			err = encodeMessageRef(w, 64<<10, "From a@b Mon Dec  7 10:00:00 2026", strings.NewReader(text), block, false)
		} else {
			err = encodeMessage(w, br, "From a@b Mon Dec  7 10:00:00 2026", strings.NewReader(text), block, false)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// encodeMessageRef is encodeMessage as it was before it reused its reader
// (kept as the oracle of TestEncodeMessageSame): it writes one message the way UW's append does: the From line;
// CRLF turned into LF; NUL into 0x80; every line starting "From " escaped
// with '>' (unix_fromwidget); incoming status headers renamed
// X-Original-<name>; a final newline if the text lacks one; then the
// separating blank line. block goes at the end of the header (normal layout)
// or, with raw, right after the From line (docs/formats.md §4).
func encodeMessageRef(w *bufio.Writer, size int, fromLine string, body io.Reader, block []byte, raw bool) error {
	w.WriteString(fromLine)
	w.WriteByte('\n')
	if raw {
		w.Write(block)
	}
	br := bufio.NewReaderSize(body, size)
	inHeader, lineStart, pendingCR := true, true, false
	var last byte = '\n' // last byte written of the message text
	wrote := false
	put := func(b []byte) {
		if len(b) == 0 {
			return
		}
		w.Write(b)
		last = b[len(b)-1]
		wrote = true
	}
	endHeader := func() {
		if !raw {
			w.Write(block)
		}
		w.WriteByte('\n')
		inHeader = false
		last = '\n'
	}
	for {
		seg, err := br.ReadSlice('\n')
		if len(seg) > 0 {
			if pendingCR {
				pendingCR = false
				if seg[0] != '\n' {
					put([]byte{'\r'})
				}
			}
			// Normalise this segment: NUL -> 0x80, CRLF -> LF.
			s := seg
			if s[len(s)-1] == '\r' && err == bufio.ErrBufferFull {
				pendingCR = true
				s = s[:len(s)-1]
			}
			out := make([]byte, 0, len(s))
			for k := 0; k < len(s); k++ {
				c := s[k]
				switch {
				case c == 0:
					c = 0x80
				case c == '\r' && k+1 < len(s) && s[k+1] == '\n':
					continue
				}
				out = append(out, c)
			}
			if lineStart {
				if inHeader && string(out) == "\n" {
					endHeader()
					lineStart = true
					if err != nil {
						break
					}
					continue
				}
				if inHeader && isStatusHeader(out) {
					put([]byte("X-Original-"))
				}
				if bytes.HasPrefix(out, []byte("From ")) {
					put([]byte{'>'})
				}
			}
			put(out)
			lineStart = err == nil
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read message: %w", err)
		}
	}
	if pendingCR {
		put([]byte{'\r'})
	}
	if inHeader {
		if wrote && last != '\n' {
			w.WriteByte('\n')
		}
		endHeader()
	} else if last != '\n' {
		w.WriteByte('\n')
	}
	_, err := w.Write([]byte("\n"))
	return err
}
