package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"

	"imapd/folders"
)

// guard sits between the client and go-imap and is the only part of the
// server that speaks the literal protocol with the client. It collects each
// command whole (every line piece and every literal but APPEND's message,
// within the limits of command.go), judges it (check.go), and then either
// answers it itself or hands go-imap the whole command at once, with every
// literal made non-synchronizing (go-imap advertises LITERAL+, so it reads
// them without a continuation request of its own). Hence:
//
//   - go-imap never sees a command it would mishandle: one that needs
//     login before login (go-imap parses a SEARCH recursively before it
//     checks the state), an over-long line, a big literal, nesting or
//     search operators past the limits, a mailbox name that is not
//     canonical modified UTF-7, a sequence set with 0.
//   - A refused command's literals are consumed when the client sends them
//     unasked ({n+}) and never invited when it waits ({n}), so their bytes
//     can never run as commands. A refused non-synchronizing literal over
//     4 KiB before login ends the connection instead.
//   - APPEND's message literal is the one literal streamed through instead
//     of collected. The guard checks APPEND's arguments and size itself
//     first, invites a synchronizing literal only when go-imap starts to
//     read it, and hands go-imap exactly CRLF after it. If go-imap answers
//     the APPEND anyway without reading the message (a refusal the guard did
//     not foresee), the guard sees the tagged answer (output counts them)
//     and drops the message bytes.
//   - The guard hands go-imap one command at a time and judges the next one
//     only after go-imap answered the last, so the login state it sees is
//     current. While a command runs, go-imap may ask for more input (IDLE's
//     DONE, AUTHENTICATE's responses): it gets one bounded line at a time.
//   - STARTTLS and ID are answered here (STARTTLS must swap the transport
//     under the guard; go-imap does not know ID).
type guard struct {
	read  func(p []byte) (int, error) // the client, with our timeouts
	reply func(line string)           // writes a line between two responses

	authed      func() bool   // a login succeeded
	answered    func() uint64 // tagged responses go-imap has written
	appendLimit func() int64  // the session's APPENDLIMIT
	canStartTLS func() bool   // nil: no TLS
	startTLS    func(tag string) error
	logf        func(format string, args ...any) // debug log
	// quotaRoot answers for the QUOTA commands (the session's QuotaRoot;
	// nil: no quotas).
	quotaRoot func(mailbox string) (root string, usedKB, limitKB int64, ok bool, err error)
	version   string // for ID
	// dropESearch drops go-imap's "* ESEARCH" answer to the command handed
	// over next (SEARCH RETURN (SAVE), which must have none).
	dropESearch func()
	// clearSearchRes empties the saved search result (a SEARCH ... SAVE
	// the guard answers NO).
	clearSearchRes func()
	// idleStart and idleDone, if set, are called when an IDLE is handed
	// over and when the line ending it (DONE) arrives, before go-imap may
	// read it (session/idle.go).
	idleStart, idleDone func()
	// command, if set, is told the name of each command handed to
	// go-imap, just before go-imap reads it (the session saves flags at
	// CHECK, which go-imap runs as NOOP: session/flush.go).
	command func(name string)
	// binary: BINARY (RFC 3516) is offered, so APPEND's message may come as
	// a literal8 (~{n}); it is answered NO [UNKNOWN-CTE] (appendMessage).
	binary bool
	// enabled reports whether the client enabled a capability (go-imap's
	// state, so the guard reads names as go-imap will); nil: none.
	enabled func(c imap.Cap) bool

	// The client's bytes are read into small while the connection is
	// quiet, and into a pooled big buffer only while it streams (the last
	// read filled its buffer): an idle connection holds no 4 KiB of ours.
	small [smallRead]byte
	big   *[bigRead]byte // from readBufs; nil while quiet
	more  bool           // the last read filled its buffer: more is likely waiting
	raw   []byte         // read from the client, not yet used (a window into small or big)

	cmd  command
	line []byte   // the line being read
	out  []byte   // for go-imap, not yet read: one piece or literal at a time
	cont []byte   // a continuation line for go-imap
	segs [][]byte // the command's further pieces and literals

	running bool   // a command was handed over and not yet answered
	mark    uint64 // answered() when it was handed over
	lit     int64  // APPEND message bytes still to pass
	litSync bool   // the message literal waits for an invitation
	invited bool
	tail    bool // after the message: the rest of APPEND's line
	err     error
}

// errBye ends the connection after the guard said BYE.
var errBye = fmt.Errorf("guard: %w", io.EOF)

// Read gives go-imap whole commands, APPEND messages and continuation
// lines. Once it failed it keeps failing: go-imap's reader tries again
// after an error.
func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.read1(p)
	if err != nil && n == 0 {
		g.err = err
	}
	return n, err
}

func (g *guard) read1(p []byte) (int, error) {
	for {
		if len(g.out) == 0 && len(g.segs) > 0 {
			// One piece or literal per Read: if go-imap answers a command
			// before reading all of it (a syntax error), the rest was
			// never in its buffer and is dropped here, never run.
			if g.answered() != g.mark {
				g.segs = nil
				continue
			}
			g.out, g.segs = g.segs[0], g.segs[1:]
			continue // an empty literal is an empty piece: take the next
		}
		if len(g.out) > 0 && g.running && g.answered() != g.mark {
			// go-imap answered without reading all it was given (a
			// continuation line longer than its buffer): never run the rest.
			g.out = nil
			continue
		}
		if len(g.out) > 0 {
			n := copy(p, g.out)
			g.out = g.out[n:]
			return n, nil
		}
		if g.lit > 0 {
			if g.answered() != g.mark {
				// Answered without reading the message: drop it.
				lit, sync := g.lit, g.litSync && !g.invited
				g.lit, g.tail = 0, false
				if !sync {
					if err := g.skip(lit); err != nil {
						return 0, err
					}
					if err := g.dropLine(nil); err != nil {
						return 0, err
					}
				}
				continue
			}
			if g.litSync && !g.invited {
				g.invited = true
				g.reply("+ Ready for literal data")
			}
			n, err := g.readRaw(p[:min(int64(len(p)), g.lit)])
			g.lit -= int64(n)
			g.tail = g.lit == 0
			return n, err
		}
		if g.tail {
			// What follows APPEND's message must be CRLF: go-imap gets
			// exactly that (unless it already answered). Anything else
			// (MULTIAPPEND, not offered) is dropped with its literals.
			g.tail = false
			line, over, err := g.readLine(maxLine)
			if err != nil {
				return 0, err
			}
			if err := g.dropRest(line, !over); err != nil {
				return 0, err
			}
			if g.answered() == g.mark {
				g.out = append(g.cont[:0], '\r', '\n')
			}
			continue
		}
		if g.running && g.answered() == g.mark {
			// go-imap reads on within a command: IDLE's DONE, an
			// AUTHENTICATE response. One bounded line, which must fit
			// go-imap's 4 KiB read buffer (it reads these with ReadLine
			// and answers after a partial line); an over-long one becomes
			// "*", which cancels either.
			line, over, err := g.readLine(maxContLine)
			if err != nil {
				return 0, err
			}
			if over {
				if err := g.dropRest(line, false); err != nil {
					return 0, err
				}
				line = []byte("*")
			}
			if g.cmd.name == "IDLE" {
				if g.idleDone != nil {
					g.idleDone() // no update may follow go-imap's answer
				}
				if bytes.EqualFold(line, []byte("DONE")) {
					// RFC 2177's "DONE" is case-insensitive (RFC 5234
					// 2.3), as UW takes it; go-imap wants it upper case.
					line = []byte("DONE")
				}
			}
			g.out = append(append(g.cont[:0], line...), '\r', '\n')
			continue
		}
		g.running = false
		g.release()
		if err := g.next(); err != nil {
			return 0, err
		}
	}
}

// next collects commands until one is for go-imap (g.out, maybe g.lit set),
// answering the others itself.
func (g *guard) next() error {
	for {
		g.cmd = command{asm: g.cmd.asm[:0], toks: g.cmd.toks[:0], cuts: g.cmd.cuts[:0]}
		line, over, err := g.readLine(maxLine)
		if err != nil {
			return err
		}
		if over {
			g.answer("BAD Command line too long", tagOf(line))
			if err := g.dropRest(line, false); err != nil {
				return err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			g.reply("* BAD Null command")
			continue
		}
		handed, err := g.collect(line)
		if err != nil || handed {
			return err
		}
	}
}

// collect reads the rest of the command that starts with line and hands it
// over or answers it. It reports whether go-imap got it.
func (g *guard) collect(line []byte) (bool, error) {
	c := &g.cmd
	for {
		lit, hasLit := c.addPiece(line)
		if v, refused := g.early(c); refused {
			return false, g.refuse(v, lit, hasLit)
		}
		if !hasLit {
			break
		}
		if c.name == "APPEND" && len(c.toks) > 0 {
			return g.appendMessage(lit)
		}
		switch {
		case lit.binary:
			return false, g.refuse(verdict{reply: "BAD [CLIENTBUG] Binary literals are not supported"}, lit, true)
		case lit.size > maxCmdLiteral:
			return false, g.refuse(verdict{reply: "NO [TOOBIG] Literals are limited to 4096 bytes for this command"}, lit, true)
		case int64(c.litSum)+lit.size > maxLiterals:
			return false, g.refuse(verdict{reply: "NO [TOOBIG] Command too big"}, lit, true)
		}
		if !lit.nonSync {
			g.reply("+ Ready for literal data")
		}
		content, err := g.readN(int(lit.size))
		if err != nil {
			return false, err
		}
		c.addLiteral(content)
		var over bool
		line, over, err = g.readLine(maxLine - min(c.text, maxLine))
		if err != nil {
			return false, err
		}
		if over {
			g.answer("BAD Command line too long", c.tag)
			return false, g.dropRest(line, false)
		}
	}
	v := g.final(c)
	if !v.pass {
		return false, g.refuse(v, literalMark{}, false)
	}
	switch c.name {
	case "STARTTLS":
		return false, g.starttls(c)
	case "ID":
		g.id(c)
		return false, nil
	case "GETQUOTAROOT", "GETQUOTA", "SETQUOTA":
		g.quota(c)
		return false, nil
	case "ENABLE":
		if !g.enable(c) {
			return false, nil
		}
	case "SEARCH", "UID SEARCH":
		if text := searchCharset(c); text != "" {
			// go-imap's own NO would not empty the saved result.
			if searchSaves(c) && g.clearSearchRes != nil {
				g.clearSearchRes()
			}
			g.answer(text, c.tag)
			return false, nil
		}
		if g.dropESearch != nil && searchSavesOnly(c) {
			g.dropESearch()
		}
	}
	g.handOver()
	return true, nil
}

// appendMessage decides on APPEND's message literal; the arguments before
// it are all in g.cmd.
func (g *guard) appendMessage(lit literalMark) (bool, error) {
	c := &g.cmd
	if lit.binary && !g.binary {
		return false, g.refuse(verdict{reply: "BAD [CLIENTBUG] Binary literals are not supported"}, lit, true)
	}
	if text := appendHeader(c, g.utf8Names()); text != "" {
		return false, g.refuse(verdict{reply: text}, lit, true)
	}
	if limit := g.appendLimit(); lit.size > limit {
		text := "NO [TOOBIG] Literals are limited to " + strconv.FormatInt(limit, 10) + " bytes for this command"
		return false, g.refuse(verdict{reply: text}, lit, true)
	}
	if lit.binary {
		// RFC 3516 4.4: a mailbox that cannot store binary content fails
		// the APPEND with UNKNOWN-CTE. The mailbox files are text (mbox
		// turns NUL into 0x80, a bare LF into CRLF, and escapes From lines),
		// so no literal8 message is taken, whatever it holds: a client then
		// sends the message as {n} with its binary parts encoded.
		return false, g.refuse(verdict{reply: "NO [UNKNOWN-CTE] Mailboxes here store text only: send the message as {n} with its parts encoded"}, lit, true)
	}
	g.handOver()
	g.lit, g.litSync, g.invited = lit.size, !lit.nonSync, false
	g.tail = lit.size == 0
	if lit.size == 0 && !lit.nonSync {
		g.reply("+ Ready for literal data")
	}
	return true, nil
}

func (g *guard) handOver() {
	c := &g.cmd
	if g.command != nil {
		g.command(c.name)
	}
	if c.name == "IDLE" && g.idleStart != nil {
		g.idleStart()
	}
	g.segs = g.segs[:0]
	start := 0
	for _, end := range c.cuts {
		g.segs = append(g.segs, c.asm[start:end])
		start = end
	}
	g.out = nil
	g.running = true
	g.mark = g.answered()
}

// refuse answers a command and skips what the client sends of it without
// being asked: a non-synchronizing literal the piece announced and the rest
// of its line, and so on. A synchronizing literal is never invited.
func (g *guard) refuse(v verdict, lit literalMark, hasLit bool) error {
	tag := g.cmd.tag
	if g.cmd.badTag {
		tag = "*"
	}
	g.answer(v.reply, tag)
	if v.bye {
		g.reply("* BYE " + strings.TrimPrefix(v.reply, "BAD "))
		return errBye
	}
	if !hasLit || !lit.nonSync {
		return nil
	}
	if lit.size > maxCmdLiteral && !g.authed() {
		g.reply("* BYE Literal refused before login")
		return errBye
	}
	if err := g.skip(lit.size); err != nil {
		return err
	}
	return g.dropLine(nil)
}

// dropRest drops what is left of a line: nothing when it was read complete
// (but the literals it announces unasked, and so on), else up to its end.
func (g *guard) dropRest(line []byte, complete bool) error {
	if !complete {
		return g.dropLine(line)
	}
	m, ok := literalAtEnd(line)
	if !ok || !m.nonSync {
		return nil
	}
	if err := g.skip(m.size); err != nil {
		return err
	}
	return g.dropLine(nil)
}

func (g *guard) answer(text, tag string) {
	if tag == "" {
		tag = "*"
	}
	g.reply(tag + " " + text)
}

// starttls switches to TLS under the guard. Bytes the client sent after
// the STARTTLS line were sent in clear and are dropped unread.
func (g *guard) starttls(c *command) error {
	if len(c.toks) > 0 {
		g.answer("BAD [CLIENTBUG] STARTTLS takes no arguments", c.tag)
		return nil
	}
	if g.canStartTLS == nil || !g.canStartTLS() {
		g.answer("BAD STARTTLS not available", c.tag)
		return nil
	}
	g.raw = nil
	return g.startTLS(c.tag)
}

// ID limits (RFC 2971).
const (
	maxIDPairs = 30
	maxIDField = 30
	maxIDValue = 1024
)

// id answers ID (RFC 2971): our name and version; the client's fields go to
// the debug log.
func (g *guard) id(c *command) {
	t := c.toks
	ok := len(t) == 1 && t[0].kind == tokAtom && strings.EqualFold(t[0].val, "NIL")
	var fields []string
	if !ok && len(t) >= 2 && t[0].kind == tokOpen && t[len(t)-1].kind == tokClose && c.ntoks-c.head == len(t) {
		pairs := t[1 : len(t)-1]
		ok = len(pairs)%2 == 0 && len(pairs)/2 <= maxIDPairs
		for i := 0; ok && i < len(pairs); i += 2 {
			k, v := pairs[i], pairs[i+1]
			nilValue := v.kind == tokAtom && strings.EqualFold(v.val, "NIL")
			ok = (k.kind == tokQuoted || k.kind == tokLiteral) && len(k.val) <= maxIDField &&
				(nilValue || v.kind == tokQuoted || v.kind == tokLiteral) && len(v.val) <= maxIDValue
			if ok {
				fields = append(fields, strconv.Quote(k.val)+"="+strconv.Quote(v.val))
			}
		}
	}
	if !ok {
		g.answer("BAD [CLIENTBUG] ID takes NIL or a list of at most 30 field/value pairs", c.tag)
		return
	}
	if g.logf != nil && len(fields) > 0 {
		g.logf("client ID %s", strings.Join(fields, " "))
	}
	version := strings.TrimPrefix(g.version, "v")
	if version == "" {
		version = "dev"
	}
	g.reply(`* ID ("name" "imapd" "version" ` + quoteIMAP(version) + `)`)
	g.answer("OK ID completed", c.tag)
}

// quoteIMAP quotes s as an IMAP quoted string (s is printable ASCII).
func quoteIMAP(s string) string { return quoteString(s, false) }

// quoteString quotes s as an IMAP quoted string: control characters, DEL
// and, unless utf8, every byte above it become '?'; '"' and '\\' are
// escaped.
func quoteString(s string, utf8 bool) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' || c == 0x7f || (c > 0x7f && !utf8) {
			c = '?'
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// readLine reads one line from the client, without its CRLF (or bare LF).
// over reports a line longer than limit: then line holds its first bytes
// and the rest is unread.
func (g *guard) readLine(limit int) (line []byte, over bool, err error) {
	g.line = g.line[:0]
	for {
		if i := bytes.IndexByte(g.raw, '\n'); i >= 0 {
			if len(g.line)+i > limit+1 {
				return g.takeOver(limit)
			}
			g.line = append(g.line, g.raw[:i]...)
			g.raw = g.raw[i+1:]
			return bytes.TrimSuffix(g.line, []byte("\r")), false, nil
		}
		if len(g.line)+len(g.raw) > limit+1 {
			return g.takeOver(limit)
		}
		g.line = append(g.line, g.raw...)
		g.raw = nil
		if err := g.fill(); err != nil {
			return nil, false, err
		}
	}
}

// takeOver takes what fits of an over-long line; the rest stays unread.
func (g *guard) takeOver(limit int) ([]byte, bool, error) {
	n := max(0, min(len(g.raw), limit+1-len(g.line)))
	g.line = append(g.line, g.raw[:n]...)
	g.raw = g.raw[n:]
	return g.line, true, nil
}

// dropLine reads and drops the rest of a line whose first bytes were
// read (seen), and then every non-synchronizing literal it ends with, and
// the rest of the line after that, and so on.
func (g *guard) dropLine(seen []byte) error {
	var tail []byte
	keep := func(b []byte) {
		tail = append(tail, b...)
		if len(tail) > 64 {
			tail = append(tail[:0], tail[len(tail)-32:]...)
		}
	}
	keep(seen)
	for {
		if i := bytes.IndexByte(g.raw, '\n'); i >= 0 {
			keep(g.raw[:i])
			g.raw = g.raw[i+1:]
			t := bytes.TrimSuffix(tail, []byte("\r"))
			m, ok := literalAtEnd(t)
			if !ok || !m.nonSync {
				return nil
			}
			if err := g.skip(m.size); err != nil {
				return err
			}
			tail = tail[:0]
			continue
		}
		keep(g.raw)
		g.raw = nil
		if err := g.fill(); err != nil {
			return err
		}
	}
}

// skip drops n bytes from the client.
func (g *guard) skip(n int64) error {
	for n > 0 {
		if len(g.raw) == 0 {
			if err := g.fill(); err != nil {
				return err
			}
		}
		k := min(n, int64(len(g.raw)))
		g.raw = g.raw[k:]
		n -= k
	}
	return nil
}

// readN reads exactly n bytes (n <= maxCmdLiteral).
func (g *guard) readN(n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for len(out) < n {
		if len(g.raw) == 0 {
			if err := g.fill(); err != nil {
				return nil, err
			}
		}
		k := min(n-len(out), len(g.raw))
		out = append(out, g.raw[:k]...)
		g.raw = g.raw[k:]
	}
	return out, nil
}

// readRaw reads for go-imap: buffered bytes first, then straight from the
// client.
func (g *guard) readRaw(p []byte) (int, error) {
	if len(g.raw) > 0 {
		n := copy(p, g.raw)
		g.raw = g.raw[n:]
		return n, nil
	}
	return g.read(p)
}

// Read buffer sizes: smallRead holds a usual command line, IDLE's DONE, an
// AUTHENTICATE response; bigRead is used once a read filled small.
const (
	smallRead = 256
	bigRead   = 4096
)

// readBufs are the big read buffers of the connections that are streaming.
var readBufs = sync.Pool{New: func() any { return new([bigRead]byte) }}

// fill reads more from the client into the empty buffer: the big one only
// while the client streams (the last read filled its buffer); else the big
// one goes back to the pool before the read that may wait for ever.
func (g *guard) fill() error {
	b := g.small[:]
	if g.more {
		if g.big == nil {
			g.big = readBufs.Get().(*[bigRead]byte)
		}
		b = g.big[:]
	} else if g.big != nil {
		readBufs.Put(g.big)
		g.big = nil
	}
	n, err := g.read(b)
	g.raw = b[:n]
	g.more = n == len(b)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// release lets go of big buffers between commands, so an idle connection
// holds only its small read buffer (fill gives the big one back).
func (g *guard) release() {
	if cap(g.cmd.asm) > 4096 {
		g.cmd.asm = nil
	}
	if cap(g.line) > 4096 {
		g.line = nil
	}
	if cap(g.cmd.toks) > 64 {
		g.cmd.toks = nil
	}
	g.out, g.segs = nil, nil
}

// tagOf is the tag of a command line, or "*" when it has none worth
// repeating.
func tagOf(line []byte) string {
	i := bytes.IndexAny(line, " \r\n")
	if i < 0 {
		i = len(line)
	}
	if !validTag(line[:i]) {
		return "*"
	}
	return string(line[:i])
}

// quota answers the QUOTA commands (RFC 9208), which go-imap does not know:
// the user has one quota root, "", with the STORAGE resource. Quotas are
// set by the administrator (user_quota): SETQUOTA is refused.
func (g *guard) quota(c *command) {
	if c.name == "SETQUOTA" {
		g.answer("NO [NOPERM] Quotas are set by the administrator", c.tag)
		return
	}
	t := c.toks
	if len(t) != 1 || !t[0].isString() {
		g.answer("BAD [CLIENTBUG] "+c.name+" takes one argument", c.tag)
		return
	}
	arg := t[0].val
	ask := "" // GETQUOTA asks about the root itself
	if c.name == "GETQUOTAROOT" {
		ask = "INBOX"
		if !strings.EqualFold(arg, "INBOX") {
			decode := folders.DecodeWireName
			if g.utf8Names() {
				decode = folders.DecodeWireNameUTF8
			}
			name, err := decode(arg)
			if err != nil {
				g.answer("BAD [CLIENTBUG] Invalid mailbox name", c.tag)
				return
			}
			ask = name
		}
	}
	var (
		root        string
		used, limit int64
		ok          bool
		err         error
	)
	if g.quotaRoot != nil {
		root, used, limit, ok, err = g.quotaRoot(ask)
	}
	if err != nil {
		g.answer(statusText(err), c.tag)
		return
	}
	usage := "* QUOTA " + quoteIMAP(root) + " (STORAGE " + strconv.FormatInt(used, 10) + " " + strconv.FormatInt(limit, 10) + ")"
	switch {
	case c.name == "GETQUOTA" && (!ok || arg != root):
		g.answer("NO [NONEXISTENT] No such quota root", c.tag)
		return
	case c.name == "GETQUOTA":
		g.reply(usage)
	case ok:
		g.reply("* QUOTAROOT " + g.quoteName(arg) + " " + quoteIMAP(root))
		g.reply(usage)
	default:
		g.reply("* QUOTAROOT " + g.quoteName(arg))
	}
	g.answer("OK "+c.name+" completed", c.tag)
}

// statusText is an error as a tagged reply's text: "NO [CODE] text" for an
// IMAP error, else a plain NO.
func statusText(err error) string {
	var ie *imap.Error
	if errors.As(err, &ie) {
		s := string(ie.Type)
		if ie.Code != "" {
			s += " [" + string(ie.Code) + "]"
		}
		return s + " " + oneLine(ie.Text)
	}
	return "NO Cannot get the quota now"
}
