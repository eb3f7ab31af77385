package mbox

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"time"

	"imapd/mailbox"
)

// span is a byte range [off, end) of the file.
type span struct{ off, end int64 }

// message is one message of the file: where its parts are, what its status
// headers say on disk, and the session's view of it.
type message struct {
	// Layout. Offsets are absolute file offsets.
	start    int64 // the From line
	hdr      int64 // first header line (just after the From line)
	hdrEnd   int64 // end of the header lines: the blank line, or textEnd if none
	body     int64 // just after the blank line; == hdrEnd when there is none
	textEnd  int64 // end of the text (the separating blank line is not text)
	end      int64 // start of the next message, or end of file
	hasBlank bool  // the header is closed by an empty line
	fromNL   bool  // the From line ends with "\n" (only the last line of a file may not)
	hdrNL    bool  // the last visible header line ends with "\n" (or there is none)
	textNL   bool  // the body is empty or ends with "\n"
	fromLine string
	date     time.Time
	size     int64  // client-visible size: CRLF, status headers excluded
	hidden   []span // the status header lines, ascending

	// Parse-time only: nil once settled (and for messages from the index),
	// so that a mailbox's messages stay small.
	*parsed

	// On disk. blockCanon: the status block at the end of the header is
	// exactly what we would write for the disk state below, so a change of
	// the same length can be written in place. layoutOK: moreover the whole
	// message is laid out as a rewrite writes it (closing blank line, text
	// ending in "\n", one separating "\n"), so it can be moved as it is.
	blockCanon  bool
	layoutOK    bool
	diskHasBase bool // the block starts with X-IMAPbase
	diskFlags   mailbox.Flags
	diskKw      uint32
	diskOld     bool
	diskUID     uint32

	// Session view.
	uid    uint32
	flags  mailbox.Flags
	kw     uint32
	recent bool
}

// parsed is what a parse found that settle turns into a message's disk state.
type parsed struct {
	st       rawStatus
	block    []byte // the hidden lines if they form one run at the end of the header
	baseRaw  []byte // the first X-IMAP / X-IMAPbase line, without newline
	baseSpan span   // where it is
}

// blockOff is where the status block starts (valid when blockCanon).
func (m *message) blockOff() int64 { return m.hidden[0].off }

// errNoFrom: the data at a position where a message must start is not a
// valid From line.
var errNoFrom = errors.New("no From line where a message must start")

// lineReader reads lines with their offsets. Lines longer than the buffer are
// reported with long set and only their length known: such a line is never
// a separator nor a status header.
type lineReader struct {
	r   *bufio.Reader
	off int64
}

type line struct {
	b     []byte // contents (nil for long lines); valid until the next call
	start int64
	n     int64 // length including the "\n"
	nl    bool  // ends with "\n"
	crlf  bool  // ends with "\r\n"
	long  bool
}

const readBufSize = 64 << 10

func newLineReader(ra io.ReaderAt, from, to int64) *lineReader {
	return &lineReader{r: getReader(io.NewSectionReader(ra, from, to-from)), off: from}
}

func (lr *lineReader) next() (line, error) {
	b, err := lr.r.ReadSlice('\n')
	l := line{start: lr.off}
	if err == bufio.ErrBufferFull {
		l.long = true
		var p1, p2 byte // the last two bytes seen
		upd := func(b []byte) {
			l.n += int64(len(b))
			switch {
			case len(b) >= 2:
				p2, p1 = b[len(b)-2], b[len(b)-1]
			case len(b) == 1:
				p2, p1 = p1, b[0]
			}
		}
		upd(b)
		for err == bufio.ErrBufferFull {
			b, err = lr.r.ReadSlice('\n')
			upd(b)
		}
		l.nl = p1 == '\n'
		l.crlf = l.nl && p2 == '\r'
	} else {
		if len(b) == 0 && err != nil {
			if err == io.EOF {
				return l, io.EOF
			}
			return l, err
		}
		l.b = b
		l.n = int64(len(b))
		l.nl = b[len(b)-1] == '\n'
		l.crlf = l.nl && len(b) >= 2 && b[len(b)-2] == '\r'
	}
	if err != nil && err != io.EOF {
		return l, err
	}
	lr.off += l.n
	return l, nil
}

// bodyRun consumes, from what is buffered, the longest run of whole lines
// none of which starts with 'F' (so none can be a message separator) and
// tells what parseRange needs of a message body: n bytes, lf line ends
// of which crlf are CRLF, whether the last line is a lone "\n". ok is false
// when nothing was consumed (the next line starts with 'F' or is not
// buffered whole): then next reads one line. Every line consumed is
// shorter than the buffer, so never a long line.
func (lr *lineReader) bodyRun() (n, lf, crlf int64, lastBlank, ok bool) {
	buf, _ := lr.r.Peek(lr.r.Buffered())
	if len(buf) == 0 || buf[0] == 'F' {
		return 0, 0, 0, false, false
	}
	// The first line starting with 'F' ends the run: look for 'F' (rarer
	// than line ends) preceded by a line end.
	end := 0
	for i := 1; i < len(buf); i++ {
		j := bytes.IndexByte(buf[i:], 'F')
		if j < 0 {
			break
		}
		if i += j; buf[i-1] == '\n' {
			end = i
			break
		}
	}
	if end == 0 {
		end = bytes.LastIndexByte(buf, '\n') + 1
		if end == 0 {
			return 0, 0, 0, false, false
		}
	}
	run := buf[:end]
	lf = int64(bytes.Count(run, []byte("\n")))
	if bytes.IndexByte(run, '\r') >= 0 {
		crlf = int64(bytes.Count(run, []byte("\r\n")))
	}
	last := run[bytes.LastIndexByte(run[:len(run)-1], '\n')+1:]
	lastBlank = len(last) == 1
	lr.r.Discard(end)
	lr.off += int64(end)
	return int64(end), lf, crlf, lastBlank, true
}

// visibleSize is the line's size as a client sees it: a bare LF counts 2.
func (l *line) visibleSize() int64 {
	if l.nl && !l.crlf {
		return l.n + 1
	}
	return l.n
}

func (l *line) isBlank() bool {
	// A lone "\r" can only be the last line of the file; taking it as the
	// blank line keeps a rewrite (which adds the missing "\n") stable.
	return !l.long && (string(l.b) == "\n" || string(l.b) == "\r\n" || string(l.b) == "\r")
}

func isWhitespaceLine(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

// parseRange parses the messages in [from, to). Whole lines of white space
// before the first message are skipped (UW tolerates them); the first other
// line must be a valid From line, else errNoFrom. lead is the offset of the
// first message (== to when the range holds nothing but white space).
func parseRange(ra io.ReaderAt, from, to int64) (msgs []*message, lead int64, err error) {
	return parseLines(ra, from, to, true)
}

// parseLines is parseRange; bodyFast: take runs of body lines at once
// (bodyRun) rather than one line at a time (tests compare the two).
func parseLines(ra io.ReaderAt, from, to int64, bodyFast bool) (msgs []*message, lead int64, err error) {
	lr := newLineReader(ra, from, to)
	defer putReader(lr.r) // every line kept is copied out of it
	lead = to
	var cur *message
	var inHeader, lastBodyBlank, blockBroken bool
	var blockEnd int64
	// Messages (and their parse-time part) are allocated in runs, each
	// twice as long as the one before up to 512: for 50,000 messages a
	// few hundred allocations instead of 100,000, and a mailbox's
	// messages side by side in memory for the passes over all of them.
	var slab []message
	var pslab []parsed
	next := 8
	alloc := func() (*message, *parsed) {
		if len(slab) == 0 {
			slab, pslab = make([]message, next), make([]parsed, next)
			next = min(2*next, 512)
		}
		msg, p := &slab[0], &pslab[0]
		slab, pslab = slab[1:], pslab[1:]
		return msg, p
	}
	finish := func(end int64) {
		if cur == nil {
			return
		}
		cur.end = end
		if inHeader {
			cur.hdrEnd, cur.body, cur.textEnd = end, end, end
			cur.textNL = true
		} else {
			cur.textEnd = end
			if lastBodyBlank {
				cur.textEnd--
				cur.size -= 2
				cur.textNL = true
			}
		}
		if len(cur.hidden) > 0 && !blockBroken && blockEnd == cur.hdrEnd && cur.hasBlank {
			// keep cur.block
		} else {
			cur.block = nil
		}
		msgs = append(msgs, cur)
		cur = nil
	}
	for {
		if bodyFast && cur != nil && !inHeader {
			if n, lf, crlf, blank, ok := lr.bodyRun(); ok {
				cur.size += n + lf - crlf
				lastBodyBlank = blank
				cur.textNL = true
				continue
			}
		}
		l, rerr := lr.next()
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return nil, lead, rerr
		}
		if !l.long && l.b[0] == 'F' {
			if d, ok := fromDate(l.b); ok {
				finish(l.start)
				if lead == to {
					lead = l.start
				}
				fl := l.b
				fl = bytes.TrimSuffix(fl, []byte("\n"))
				fl = bytes.TrimSuffix(fl, []byte("\r"))
				var p *parsed
				cur, p = alloc()
				*cur = message{start: l.start, hdr: l.start + l.n, fromLine: string(fl), date: d, hdrNL: true, textNL: true, fromNL: l.nl, parsed: p}
				inHeader, lastBodyBlank, blockBroken, blockEnd = true, false, false, 0
				continue
			}
		}
		if cur == nil {
			if !l.long && isWhitespaceLine(l.b) && len(msgs) == 0 {
				continue
			}
			return nil, lead, errNoFrom
		}
		if inHeader {
			if l.isBlank() {
				inHeader = false
				cur.hasBlank = true
				cur.hdrEnd = l.start
				cur.body = l.start + l.n
				cur.size += l.visibleSize()
				continue
			}
			if !l.long {
				if k := classify(l.b); k != hdrNone {
					if (k == hdrXIMAP || k == hdrXIMAPbase) && cur.baseRaw == nil {
						cur.baseRaw = bytes.TrimRight(append([]byte(nil), l.b...), "\r\n")
						cur.baseSpan = span{l.start, l.start + l.n}
					}
					cur.st.add(k, l.b)
					cur.hidden = append(cur.hidden, span{l.start, l.start + l.n})
					switch {
					case blockBroken:
					case len(cur.hidden) == 1 || blockEnd == l.start:
						cur.block = append(cur.block, l.b...)
						blockEnd = l.start + l.n
					default:
						blockBroken = true
					}
					continue
				}
			}
			if len(cur.hidden) > 0 {
				blockBroken = true
			}
			cur.size += l.visibleSize()
			cur.hdrNL = l.nl
			continue
		}
		cur.size += l.visibleSize()
		lastBodyBlank = !l.long && string(l.b) == "\n"
		cur.textNL = l.nl
	}
	finish(to)
	return msgs, lead, nil
}
