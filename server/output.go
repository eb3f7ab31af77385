package server

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// output is the line-aware stream between go-imap and the socket. It sees
// every byte go-imap writes, knows where each response line starts and where
// literals are, and so can
//   - rewrite go-imap's greeting and LOGOUT BYE into the legacy texts,
//   - turn the next tagged "OK [READ-WRITE] SELECT completed" into
//     "OK [READ-ONLY] SELECT completed",
//   - put queued notices just before the next tagged line,
//   - adjust every capability list ("* CAPABILITY ...", "[CAPABILITY ...]")
//     to the connection (caps, tls.go),
//   - write a line of its own (an autologout BYE) between two responses,
//   - drop the "* ESEARCH" line of a SEARCH RETURN (SAVE) (searchres.go),
//   - announce FETCH BINARY data as RFC 3516 prefers (binaryout.go),
//   - batch the responses of a command that writes many (FETCH, STORE...):
//     go-imap flushes after every response line, which would cost a socket
//     write per message; while a batch is on, whole lines are collected
//     and written when batchMax bytes are held, when the command's tagged
//     line comes, or as soon as anything else must go out (a line of our
//     own, a BYE, a literal too big to hold), so order is kept and nothing
//     waits for more than the command that wrote it.
//
// Literal bytes ({n} or ~{n} at the end of a line, then n bytes) are never
// looked at. Only a line that may still become one of the rewritten lines is
// held back, and only until it is complete or stops matching: go-imap writes
// each line in one flush, so holding adds no latency. Everything else is
// passed on in the Write call that brought it.
type output struct {
	mu sync.Mutex
	w  io.Writer // the socket

	greeting string // replacement greeting text after "* OK ", "" = leave it
	logout   string // replacement text after "* BYE " for go-imap's "Logging out"

	caps func([]string) []string // rewrites capability lists (tls.go); nil = leave them

	mode   int
	kind   int    // what the held line may become
	first  bool   // the next line is the first one (the greeting)
	hold   []byte // held bytes of the current line (modeHold)
	head   []byte // first bytes of the current response (modePass)
	tail   []byte // last bytes since the line or the last literal began (modePass)
	lit    int64  // literal bytes still to pass (modePass)
	closed bool
	buf    []byte // reused for the bytes of one Write

	// go-imap's write deadline (wantDeadline), given to the socket only
	// when a Write of go-imap's reaches it: go-imap sets and clears one
	// around every response, which would cost two timer updates a
	// message in a FETCH.
	setDeadline func(time.Time) error
	want        atomic.Int64 // go-imap's deadline, unix ns; 0 = none
	applied     int64        // what the socket was last given by Write
	stale       atomic.Bool  // someone else set the socket's deadline since

	batch   bool        // hold whole lines until the tagged line (startBatch)
	pending []byte      // held bytes, not yet written (from batchPool)
	noBatch atomic.Bool // a BYE is coming: write everything at once

	tagged atomic.Uint64 // tagged lines go-imap wrote (the end of a command)

	qmu      sync.Mutex // guards notices and readOnly: not held while writing
	notices  []string
	readOnly bool
	login    bool
	dropES   bool // drop the next "* ESEARCH" line of this command

	binForms []binForm // BINARY items still to be announced (binaryout.go), under qmu
	binHeld  []byte    // end of a line held back for them (binaryout.go), under mu
}

// Line states.
const (
	modeStart = iota // at the start of a line: nothing of it written yet
	modeHold         // holding the start of a line that may be rewritten
	modePass         // passing the rest of the line (and its literals) on
	modeDrop         // dropping the rest of the line
)

// What a held line may become.
const (
	kindGreeting = iota
	kindBye
	kindSelect
	kindLogin
	kindESearch
)

const (
	headLen    = 48       // enough for "<tag> <status word> "
	tailLen    = 32       // enough for "{<20 digits>+}\r"
	maxHold    = 8192     // give up holding a line longer than this
	maxKeep    = 4 << 10  // the most a connection keeps of its Write buffer between writes
	batchMax   = 16 << 10 // bytes held before they are written
	goLogout   = "* BYE Logging out\r\n"
	goSelectRW = " OK [READ-WRITE] SELECT completed\r\n"
	ourSelect  = " OK [READ-ONLY] SELECT completed\r\n"
	goLogin    = "] Logged in\r\n"
	ourLogin   = "] LOGIN completed\r\n"
)

func newOutput(w io.Writer, setDeadline func(time.Time) error) *output {
	return &output{w: w, first: true, setDeadline: setDeadline}
}

// wantDeadline records go-imap's write deadline (zero: none); the next
// socket write of a go-imap Write applies it.
func (o *output) wantDeadline(t time.Time) {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	o.want.Store(ns)
}

// deadlineTouched says the socket's write deadline was set by someone
// else (a reply of the server's own): the next go-imap Write sets it again.
func (o *output) deadlineTouched() { o.stale.Store(true) }

// applyDeadline gives the socket go-imap's deadline. Caller holds mu.
func (o *output) applyDeadline() {
	want := o.want.Load()
	if want == o.applied && !o.stale.Load() {
		return
	}
	o.stale.Store(false)
	o.applied = want
	if o.setDeadline == nil {
		return
	}
	var t time.Time
	if want != 0 {
		t = time.Unix(0, want)
	}
	o.setDeadline(t)
}

// setTexts sets the legacy greeting and LOGOUT texts. It must be called
// before go-imap writes its greeting.
func (o *output) setTexts(greeting, logout string) {
	o.mu.Lock()
	o.greeting, o.logout = greeting, logout
	o.mu.Unlock()
}

// notice queues an untagged line for just before the next tagged line.
func (o *output) notice(line string) {
	o.qmu.Lock()
	o.notices = append(o.notices, line)
	o.qmu.Unlock()
}

// selectReadOnly makes the next tagged line, if it is a SELECT's
// OK [READ-WRITE], say OK [READ-ONLY].
func (o *output) selectReadOnly() {
	o.qmu.Lock()
	o.readOnly = true
	o.qmu.Unlock()
}

// dropESearch drops the next "* ESEARCH" line before the next tagged
// line: SEARCH RETURN (SAVE) alone must not answer one (RFC 5182), but
// go-imap writes it.
func (o *output) dropESearch() {
	o.qmu.Lock()
	o.dropES = true
	o.qmu.Unlock()
}

// loginDone makes the next tagged line, if it is go-imap's
// "OK [CAPABILITY ...] Logged in", say "LOGIN completed" as the legacy did.
func (o *output) loginDone() {
	o.qmu.Lock()
	o.login = true
	o.qmu.Unlock()
}

// Write passes p on, rewritten; it writes to the socket once per call (not
// at all if everything in p is held back, or batched).
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return 0, errClosed
	}
	if o.mode == modePass && o.lit >= int64(len(p)) && (!o.batch || len(p) > batchMax) {
		// Literal bytes only (message bodies): straight through.
		o.applyDeadline()
		if err := o.flush(); err != nil {
			return 0, err
		}
		n, err := o.w.Write(p)
		o.lit -= int64(n)
		if o.lit == 0 {
			o.tail = o.tail[:0]
		}
		return n, err
	}
	in := p
	if len(o.binHeld) > 0 {
		in = append(o.binHeld, p...)
		o.binHeld = nil
	}
	out := o.process(in, o.buf[:0])
	err := o.send(out)
	if cap(out) <= maxKeep {
		o.buf = out[:0]
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// batchPool holds the buffers of batches: a connection holds one only
// while a command that writes many responses runs.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, batchMax+4096); return &b }}

// startBatch holds the responses of the command about to run until its
// tagged line (or batchMax bytes).
func (o *output) startBatch() {
	o.mu.Lock()
	if !o.closed {
		o.batch = true
	}
	o.mu.Unlock()
}

// send writes out (a go-imap Write's), or adds it to the batch. Caller
// holds mu.
func (o *output) send(out []byte) error {
	if o.batch && o.noBatch.Load() {
		o.batch = false
	}
	if o.batch {
		if len(out) == 0 {
			return nil
		}
		if o.pending == nil {
			o.pending = (*batchPool.Get().(*[]byte))[:0]
		}
		o.pending = append(o.pending, out...)
		if len(o.pending) < batchMax {
			return nil
		}
		o.applyDeadline()
		return o.flush()
	}
	if o.pending != nil {
		o.pending = append(o.pending, out...)
		o.applyDeadline()
		return o.flush()
	}
	if len(out) == 0 {
		return nil
	}
	o.applyDeadline()
	_, err := o.w.Write(out)
	return err
}

// flush writes the held bytes; once the batch is over, their buffer goes
// back to the pool. Caller holds mu.
func (o *output) flush() error {
	var err error
	if len(o.pending) > 0 {
		_, err = o.w.Write(o.pending)
		o.pending = o.pending[:0]
	}
	if !o.batch && o.pending != nil {
		b := o.pending
		if cap(b) >= batchMax && cap(b) <= 2*(batchMax+4096) {
			batchPool.Put(&b)
		}
		o.pending = nil
	}
	return err
}

// lines writes b, whole untagged response lines the session encoded
// itself (conn.Responses), between two of go-imap's responses: with the
// command's batch if one is on, else at once.
func (o *output) lines(b []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.between(); err != nil {
		return err
	}
	return o.send(b)
}

// between says why bytes of the server's own cannot go out now: the
// connection is closed, or go-imap is in the middle of a response. Caller
// holds mu.
func (o *output) between() error {
	if o.closed {
		return errClosed
	}
	if o.midResponse() {
		return errors.New("the connection is in the middle of a response")
	}
	return nil
}

// midResponse reports whether go-imap is in the middle of a response, so
// that a line of the server's own cannot go out now. Caller holds mu.
func (o *output) midResponse() bool { return o.mode != modeStart || o.first }

// endBatches makes every later write go out at once (a BYE is about to be
// written, and the connection closed after it). Safe from any goroutine.
func (o *output) endBatches() { o.noBatch.Store(true) }

// answered counts the tagged responses go-imap has written: the guard
// learns from it that go-imap finished a command.
func (o *output) answered() uint64 { return o.tagged.Load() }

// reply writes a line the server itself answers (not go-imap): now, its
// write bounded by d (0: by the socket's deadline as it is; go-imap's next
// write sets its own again), if the socket is between two lines; else just
// before go-imap's next tagged line. It returns the error of a write.
func (o *output) reply(line string, d time.Duration) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	if !o.midResponse() {
		if d > 0 && o.setDeadline != nil {
			o.setDeadline(time.Now().Add(d))
			o.stale.Store(true)
		}
		return o.writeLine(line)
	}
	o.qmu.Lock()
	o.notices = append(o.notices, line)
	o.qmu.Unlock()
	return nil
}

// insertAndClose writes line (with CRLF) now if the socket is between two lines,
// and then refuses further writes. It reports whether the line was written.
func (o *output) insertAndClose(line string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.closed = true
	o.batch = false
	if o.mode == modePass {
		o.flush()
		return false
	}
	return o.writeLine(line) == nil
}

// writeLine writes what is held, then line and CRLF. Caller holds mu.
func (o *output) writeLine(line string) error {
	if len(o.pending) == 0 {
		_, err := io.WriteString(o.w, line+"\r\n")
		return err
	}
	o.pending = append(append(o.pending, line...), '\r', '\n')
	return o.flush()
}

// switchTo writes line (a tagged reply, after the queued notices) between
// two responses, then sends everything after it to w (STARTTLS).
func (o *output) switchTo(line string, w io.Writer) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := o.between(); err != nil {
		return err
	}
	o.qmu.Lock()
	notices := o.notices
	o.notices = nil
	o.qmu.Unlock()
	o.batch = false
	b := o.pending
	o.pending = nil
	for _, n := range notices {
		b = append(append(b, n...), '\r', '\n')
	}
	b = append(append(b, line...), '\r', '\n')
	if _, err := o.w.Write(b); err != nil {
		return err
	}
	o.w = w
	return nil
}

// close makes later writes fail.
func (o *output) close() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
}

func (o *output) process(p, out []byte) []byte {
	for len(p) > 0 {
		switch o.mode {
		case modeStart:
			if !o.first && len(p) >= 3 && p[0] == '*' && p[1] == ' ' && '0' <= p[2] && p[2] <= '9' {
				// "* <number> ..." (FETCH, EXISTS, EXPUNGE: the many lines
				// of a FETCH or STORE) is none of the lines rewritten or
				// dropped (BYE, CAPABILITY, ESEARCH): passed without
				// being held.
				o.startPass()
				continue
			}
			out = o.begin(p[0], out)
		case modeHold:
			i := bytes.IndexByte(p, '\n')
			n := len(p)
			if i >= 0 {
				n = i + 1
			}
			o.hold = append(o.hold, p[:n]...)
			p = p[n:]
			switch done, keep := o.judge(); {
			case o.mode == modeDrop:
				o.hold = o.hold[:0]
			case done != nil:
				out = append(out, done...)
				o.hold = o.hold[:0]
				o.mode = modeStart
			case !keep:
				// Not a line we rewrite: pass it from its start. The held
				// bytes are at most one line: passing them cannot start
				// another hold.
				h := o.hold
				o.startPass()
				out = o.process(h, out)
				o.hold = h[:0]
			}
		case modeDrop:
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				p = nil
				continue
			}
			p = p[i+1:]
			o.mode = modeStart
		case modePass:
			if o.lit > 0 {
				n := int64(len(p))
				if n > o.lit {
					n = o.lit
				}
				out = append(out, p[:n]...)
				p = p[n:]
				o.lit -= n
				if o.lit == 0 {
					o.tail = o.tail[:0]
				}
				continue
			}
			i := bytes.IndexByte(p, '\n')
			if i < 0 {
				if k := binHold(p); k > 0 && o.binPending() {
					o.binHeld = append([]byte(nil), p[len(p)-k:]...)
					p = p[:len(p)-k]
				}
				out = append(out, p...)
				o.track(p)
				p = nil
				continue
			}
			out = append(out, p[:i+1]...)
			o.track(p[:i])
			p = p[i+1:]
			if len(o.tail) == 0 || o.tail[len(o.tail)-1] != '\r' {
				o.track([]byte{'\n'}) // a bare LF does not end a line
				continue
			}
			if n, ok := o.literal(); ok {
				if o.binPending() {
					out = o.binRewrite(out, n)
				}
				o.lit = n // the response goes on after the literal
				o.tail = o.tail[:0]
				continue
			}
			o.mode = modeStart
		}
	}
	return out
}

// begin starts a line whose first byte is b.
func (o *output) begin(b byte, out []byte) []byte {
	if o.first {
		o.first = false
		if o.greeting != "" {
			o.mode, o.kind = modeHold, kindGreeting
			return out
		}
		o.startPass()
		return out
	}
	switch b {
	case '*':
		o.qmu.Lock()
		drop := o.dropES
		o.qmu.Unlock()
		if drop {
			o.mode, o.kind = modeHold, kindESearch
			return out
		}
		if o.logout != "" || o.caps != nil {
			o.mode, o.kind = modeHold, kindBye
			return out
		}
	case '+':
	default: // a tagged line: the end of a command
		o.tagged.Add(1)
		o.batch = false // this Write sends what is held
		o.qmu.Lock()
		notices, ro, login := o.notices, o.readOnly, o.login
		o.notices, o.readOnly, o.login, o.dropES = nil, false, false, false
		o.binForms = nil // forms of items a failed FETCH never wrote
		o.qmu.Unlock()
		for _, n := range notices {
			out = append(append(out, n...), '\r', '\n')
		}
		if ro {
			o.mode, o.kind = modeHold, kindSelect
			return out
		}
		if login {
			o.mode, o.kind = modeHold, kindLogin
			return out
		}
	}
	o.startPass()
	return out
}

func (o *output) startPass() {
	o.mode = modePass
	o.head = o.head[:0]
	o.tail = o.tail[:0]
	o.lit = 0
}

// judge looks at the held bytes: done is the complete line to send (rewritten
// or not); keep says the line may still be one to rewrite.
func (o *output) judge() (done []byte, keep bool) {
	h := o.hold
	complete := bytes.HasSuffix(h, []byte("\r\n"))
	switch o.kind {
	case kindGreeting:
		if !complete {
			return nil, len(h) <= maxHold
		}
		s := string(h)
		for _, status := range []string{"OK", "PREAUTH"} {
			prefix := "* " + status + " [CAPABILITY "
			if strings.HasPrefix(s, prefix) && strings.HasSuffix(s, "] IMAP server ready\r\n") {
				return []byte("* " + status + " " + o.greeting + "\r\n"), false
			}
		}
		return h, false
	case kindBye: // any untagged line: go-imap's LOGOUT BYE, or a CAPABILITY
		if o.logout != "" {
			if string(h) == goLogout {
				return []byte("* BYE " + o.logout + "\r\n"), false
			}
			if strings.HasPrefix(goLogout, string(h)) {
				return nil, true
			}
		}
		if o.caps != nil && (bytes.HasPrefix(h, []byte(capResp)) || strings.HasPrefix(capResp, string(h))) {
			if !complete {
				return nil, len(h) <= maxHold
			}
			return capsLine(h, o.caps), false
		}
		return nil, false
	case kindSelect:
		sp := bytes.IndexByte(h, ' ')
		if sp < 0 {
			return nil, !complete && len(h) <= maxHold
		}
		rest := string(h[sp:])
		if rest == goSelectRW {
			return append(h[:sp:sp], ourSelect...), false
		}
		return nil, strings.HasPrefix(goSelectRW, rest)
	case kindESearch:
		const prefix = "* ESEARCH "
		if len(h) < len(prefix) && strings.HasPrefix(prefix, string(h)) && !complete {
			return nil, true
		}
		if !bytes.HasPrefix(h, []byte(prefix)) {
			o.kind = kindBye // any other untagged line: as usual
			return o.judge()
		}
		o.qmu.Lock()
		o.dropES = false
		o.qmu.Unlock()
		if complete {
			return []byte{}, false
		}
		o.mode = modeDrop
		return nil, false
	case kindLogin:
		if !complete {
			return nil, len(h) <= maxHold
		}
		if o.caps != nil {
			h = capsLine(h, o.caps)
		}
		if bytes.Contains(h, []byte(" OK [CAPABILITY ")) && bytes.HasSuffix(h, []byte(goLogin)) {
			return append(h[:len(h)-len(goLogin):len(h)-len(goLogin)], ourLogin...), false
		}
		return h, false
	}
	return nil, false
}

// track records passed bytes of the current line.
func (o *output) track(b []byte) {
	if n := headLen - len(o.head); n > 0 {
		o.head = append(o.head, b[:min(n, len(b))]...)
	}
	if len(b) >= tailLen {
		o.tail = append(o.tail[:0], b[len(b)-tailLen:]...)
		return
	}
	if over := len(o.tail) + len(b) - tailLen; over > 0 {
		o.tail = append(o.tail[:0], o.tail[over:]...)
	}
	o.tail = append(o.tail, b...)
}

// literal reports whether the line that just ended (tail ends with CR)
// announces a literal, and its size. Status responses ("* OK ...",
// "tag NO ...") and continuation requests carry text, never literals, so
// text that happens to end in "{5}" is not mistaken for one.
func (o *output) literal() (int64, bool) {
	t := o.tail[:len(o.tail)-1] // without the CR
	if len(t) < 3 || t[len(t)-1] != '}' {
		return 0, false
	}
	open := bytes.LastIndexByte(t, '{')
	if open < 0 {
		return 0, false
	}
	digits := t[open+1 : len(t)-1]
	if len(digits) > 0 && (digits[len(digits)-1] == '+' || digits[len(digits)-1] == '-') {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 || len(digits) > 19 {
		return 0, false
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if o.statusLine() {
		return 0, false
	}
	return n, true
}

// statusLine reports whether the current response is a status response or a
// continuation request, judging by its first words.
func (o *output) statusLine() bool {
	f := strings.Fields(string(o.head))
	if len(f) == 0 || f[0] == "+" {
		return true
	}
	if len(f) < 2 {
		return false
	}
	switch strings.ToUpper(f[1]) {
	case "OK", "NO", "BAD", "BYE", "PREAUTH":
		return true
	}
	return false
}
