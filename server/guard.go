package server

import (
	"bytes"
	"strconv"
)

// Limits the guard enforces on what a client sends, below go-imap's own
// (50 KiB per command, 4 KiB per literal outside APPEND), so that go-imap
// never meets input it cannot recover from: it answers an over-long line
// with a bare NO and then reads the rest of the line as new commands, and
// it neither refuses nor accepts a too-big synchronizing literal, leaving
// both sides waiting.
const (
	maxLine       = 32 << 10 // one line of a command, literals not counted
	maxCmdLiteral = 4096     // a literal in any command but APPEND
)

// guard sits between the client and go-imap. It holds each command line
// until it is complete (go-imap needs whole lines anyway, so this adds no
// delay), passes literals straight through, and answers what go-imap would
// mishandle itself: a line over maxLine, a big literal outside APPEND. The
// refused command never reaches go-imap; the session goes on.
type guard struct {
	read  func(p []byte) (int, error)
	reply func(line string) // writes a tagged line between two responses

	// STARTTLS (tls.go). A line that is exactly "<tag> STARTTLS" is not
	// given to go-imap: when canStartTLS, the rest of what was read is
	// dropped and startTLS runs once go-imap has taken every line before.
	canStartTLS func() bool
	startTLS    func(tag string) error
	tlsTag      string // a STARTTLS waiting for go-imap to catch up

	buf     [4096]byte
	line    []byte // the line being collected
	pending []byte // complete lines for go-imap
	lit     int64  // literal bytes to pass through
	skip    int64  // literal bytes of a refused command to drop
	drop    bool   // dropping the rest of a refused line
	tail    []byte // the last bytes of a dropped line (literal marker)
}

// Read gives go-imap whole command lines and literal bytes.
func (g *guard) Read(p []byte) (int, error) {
	for {
		if len(g.pending) > 0 {
			n := copy(p, g.pending)
			g.pending = g.pending[n:]
			return n, nil
		}
		if g.tlsTag != "" {
			tag := g.tlsTag
			g.tlsTag = ""
			if err := g.startTLS(tag); err != nil {
				return 0, err
			}
			continue
		}
		if g.lit > 0 {
			if int64(len(p)) > g.lit {
				p = p[:g.lit]
			}
			n, err := g.read(p)
			g.lit -= int64(n)
			return n, err
		}
		n, err := g.read(g.buf[:])
		g.scan(g.buf[:n])
		if err != nil {
			if len(g.pending) > 0 {
				continue // hand over what is complete first
			}
			if len(g.line) > 0 && !g.drop {
				// A last line without CRLF: let go-imap see it as it is.
				g.pending, g.line = g.line, nil
				continue
			}
			return 0, err
		}
	}
}

// scan sorts the bytes just read into lines, literal bytes and refusals.
func (g *guard) scan(b []byte) {
	for len(b) > 0 && g.tlsTag == "" { // after STARTTLS: drop the rest
		switch {
		case g.skip > 0:
			n := min(int64(len(b)), g.skip)
			g.skip -= n
			b = b[n:]
			if g.skip == 0 {
				g.drop = true // the rest of the refused command's line
			}
		case g.lit > 0:
			// Literal bytes that came with the line: pass them on.
			n := min(int64(len(b)), g.lit)
			g.pending = append(g.pending, b[:n]...)
			g.lit -= n
			b = b[n:]
		case g.drop:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				g.keepTail(b)
				b = nil
				continue
			}
			g.keepTail(b[:i+1])
			b = b[i+1:]
			g.drop = false
			if n, nonSync, ok := literalAtEnd(g.tail); ok && nonSync {
				g.skip = n // the client sends it without waiting: drop it too
			}
			g.tail = g.tail[:0]
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				g.line = append(g.line, b...)
				b = nil
				if len(g.line) > maxLine {
					g.refuse(g.line, "BAD Command line too long")
				}
				continue
			}
			g.line = append(g.line, b[:i+1]...)
			b = b[i+1:]
			if len(g.line) > maxLine {
				g.refuse(g.line, "BAD Command line too long")
				continue
			}
			g.complete()
		}
	}
}

// complete hands a whole line to go-imap, or refuses its literal.
func (g *guard) complete() {
	line := g.line
	g.line = nil
	if g.startTLS != nil && isStartTLS(line) {
		if g.canStartTLS() {
			g.tlsTag = tagOf(line)
		} else {
			g.reply(tagOf(line) + " BAD STARTTLS not available")
		}
		return
	}
	if n, nonSync, ok := literalAtEnd(line); ok {
		if n > maxCmdLiteral && !isAppend(line) {
			g.reply(tagOf(line) + " NO [TOOBIG] Literals are limited to 4096 bytes for this command")
			if nonSync {
				g.skip = n
				if n == 0 {
					g.drop = true
				}
			}
			return
		}
		g.lit = n
	}
	g.pending = append(g.pending, line...)
}

// refuse answers a line that is too long and drops the rest of it.
func (g *guard) refuse(line []byte, text string) {
	g.reply(tagOf(line) + " " + text)
	g.line = nil
	g.drop = !bytes.HasSuffix(line, []byte("\n"))
	g.keepTail(line)
	if !g.drop {
		if n, nonSync, ok := literalAtEnd(g.tail); ok && nonSync {
			g.skip = n
		}
		g.tail = g.tail[:0]
	}
}

func (g *guard) keepTail(b []byte) {
	g.tail = append(g.tail, b...)
	if len(g.tail) > 32 {
		g.tail = append(g.tail[:0], g.tail[len(g.tail)-32:]...)
	}
}

// literalAtEnd finds "{n}" or "{n+}" ending a line.
func literalAtEnd(line []byte) (n int64, nonSync, ok bool) {
	l := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	if !bytes.HasSuffix(l, []byte("}")) {
		return 0, false, false
	}
	open := bytes.LastIndexByte(l, '{')
	if open < 0 {
		return 0, false, false
	}
	num := l[open+1 : len(l)-1]
	if bytes.HasSuffix(num, []byte("+")) {
		nonSync = true
		num = num[:len(num)-1]
	}
	v, err := strconv.ParseInt(string(num), 10, 64)
	if err != nil || v < 0 {
		return 0, false, false
	}
	return v, nonSync, true
}

// tagOf is the tag of a command line, or "*" when it has none worth
// repeating.
func tagOf(line []byte) string {
	i := bytes.IndexAny(line, " \r\n")
	if i <= 0 || i > 64 {
		return "*"
	}
	tag := line[:i]
	for _, c := range tag {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`(){%*"\+`), c) >= 0 {
			return "*"
		}
	}
	return string(tag)
}

// isAppend reports whether a line starts an APPEND command (the only one
// whose literals go-imap lets be big).
func isAppend(line []byte) bool {
	f := bytes.Fields(line)
	return len(f) >= 2 && bytes.EqualFold(f[1], []byte("APPEND"))
}

// isStartTLS reports whether a line is exactly "<tag> STARTTLS" (any case).
func isStartTLS(line []byte) bool {
	tag := tagOf(line)
	rest, ok := bytes.CutPrefix(line, []byte(tag+" "))
	return ok && tag != "*" && (bytes.EqualFold(rest, []byte("STARTTLS\r\n")) || bytes.EqualFold(rest, []byte("STARTTLS\n")))
}
