package server

import (
	"bytes"
	"strconv"
	"strings"
)

// A command is one client command as the guard collects it: its line
// pieces (a command is split into pieces by its literals) and the literals
// between them, lexed into tokens so the guard can judge the command before
// go-imap sees any of it. It is bounded: the guard refuses a command whose
// pieces or literals pass the limits below.
type command struct {
	asm     []byte  // what go-imap will read: pieces and literals, every literal non-synchronizing
	cuts    []int   // where in asm each piece or literal ends
	toks    []token // tokens after the tag and command name (at most maxTokens kept)
	tag     string
	name    string // upper case; "UID FETCH" for UID commands
	head    int    // tokens seen before the arguments (tag, name, UID sub-name)
	ntoks   int    // tokens seen in all, kept or not
	depth   int    // parenthesis depth now
	maxDep  int    // deepest parenthesis nesting seen
	ops     int    // NOT and OR atoms (search operators) seen
	text    int    // bytes of pieces (literals not counted)
	litSum  int    // bytes of literals
	bad     string // a lexical error, for a BAD answer
	badTag  bool   // the first word is not a valid tag
	hasName bool
}

type tokKind uint8

const (
	tokAtom tokKind = iota
	tokQuoted
	tokLiteral
	tokOpen
	tokClose
)

type token struct {
	kind tokKind
	val  string
}

// Limits on one command. go-imap counts at most 50 KiB of a command outside
// its literals (more is an internal error there); the guard stays well below.
const (
	maxLine       = 32 << 10 // bytes of one command outside its literals
	maxCmdLiteral = 4096     // one literal in any command but APPEND's message
	maxLiterals   = 16 << 10 // all literals of one command but APPEND's message
	maxTokens     = 256      // tokens kept for judging; more are only counted
	maxDepth      = 16       // parenthesis nesting
	maxSearchOps  = 64       // NOT and OR operators in one command
	maxContLine   = 4000     // a continuation line: go-imap reads it into a 4 KiB buffer
	hugeLiteral   = 1 << 62  // the size of a literal announced with more digits than int64 holds
)

// literalMark describes a literal announced at the end of a piece.
type literalMark struct {
	size    int64
	nonSync bool
	binary  bool // ~{n}: a literal8
	at      int  // where the marker starts in the piece
}

// addPiece lexes one piece (a line, or the rest of a line after a literal,
// without its CRLF) and appends it to the command. It reports the literal
// the piece ends with, if any.
func (c *command) addPiece(p []byte) (lit literalMark, ok bool) {
	c.text += len(p) + 2
	end := len(p)
	if m, found := literalAtEnd(p); found {
		lit, ok = m, true
		end = m.at
	}
	first := len(c.cuts) == 0
	c.lex(p[:end])
	if bytes.IndexByte(p[:end], '\r') >= 0 && c.bad == "" {
		// go-imap ends a line it discards at a bare CR and would run what
		// follows it as a command of its own.
		c.bad = "CR without LF"
	}
	if first && !c.badTag && c.hasName && c.bad == "" && !c.header(p[:end]) {
		c.bad = "Expected the tag, one space and the command name"
	}
	if ok {
		c.asm = append(c.asm, p[:end]...)
		if !lit.binary {
			c.asm = append(c.asm, '{')
			c.asm = strconv.AppendInt(c.asm, lit.size, 10)
			c.asm = append(c.asm, "+}\r\n"...)
		}
	} else {
		c.asm = append(c.asm, p...)
		c.asm = append(c.asm, '\r', '\n')
	}
	c.cuts = append(c.cuts, len(c.asm))
	return lit, ok
}

// header reports whether the first piece starts exactly as go-imap reads
// a command: tag SP name (SP sub-name for UID). go-imap drops the connection
// without an answer when it does not.
func (c *command) header(p []byte) bool {
	n := len(c.tag) + 1 + len(c.name)
	return len(p) >= n && string(p[:len(c.tag)]) == c.tag && p[len(c.tag)] == ' ' &&
		strings.EqualFold(string(p[len(c.tag)+1:n]), c.name)
}

// addLiteral appends the content of a literal the guard read.
func (c *command) addLiteral(b []byte) {
	c.litSum += len(b)
	c.asm = append(c.asm, b...)
	c.cuts = append(c.cuts, len(c.asm))
	c.push(token{kind: tokLiteral, val: string(b)})
}

// lex splits a piece into tokens. Quoted strings must end on the piece;
// everything else that is not a parenthesis or a space is an atom (brackets
// and their contents included: BODY[HEADER] is one atom, which is all the
// guard needs).
func (c *command) lex(p []byte) {
	for i := 0; i < len(p); {
		switch b := p[i]; {
		case b == ' ':
			i++
		case b == '(':
			c.depth++
			c.maxDep = max(c.maxDep, c.depth)
			c.push(token{kind: tokOpen})
			i++
		case b == ')':
			c.depth--
			if c.depth < 0 && c.bad == "" {
				c.bad = "Unbalanced parentheses"
			}
			c.push(token{kind: tokClose})
			i++
		case b == '"':
			val, n, ok := unquote(p[i:])
			if !ok {
				if c.bad == "" {
					c.bad = "Unterminated quoted string"
				}
				return
			}
			c.push(token{kind: tokQuoted, val: val})
			i += n
		default:
			j := i
			for j < len(p) && p[j] != ' ' && p[j] != '(' && p[j] != ')' && p[j] != '"' {
				j++
			}
			c.atom(p[i:j])
			i = j
		}
	}
}

func (c *command) atom(a []byte) {
	switch {
	case c.ntoks == 0:
		c.ntoks++
		c.tag = string(a)
		c.badTag = !validTag(a)
		c.head = 1
		return
	case !c.hasName:
		c.ntoks++
		c.name = upperASCII(string(a))
		c.hasName = true
		c.head = 2
		return
	case c.name == "UID" && c.head == 2:
		c.ntoks++
		c.name = "UID " + upperASCII(string(a))
		c.head = 3
		return
	}
	if len(a) == 2 && upperASCII(string(a)) == "OR" || len(a) == 3 && upperASCII(string(a)) == "NOT" {
		c.ops++
	}
	c.push(token{kind: tokAtom, val: string(a)})
}

func (c *command) push(t token) {
	if c.ntoks == 0 || !c.hasName {
		// A tag or name that is not an atom.
		c.ntoks++
		if c.ntoks == 1 {
			c.badTag = true
		} else {
			c.hasName = true
			c.head = 2
		}
		return
	}
	c.ntoks++
	if len(c.toks) < maxTokens {
		c.toks = append(c.toks, t)
	}
}

// unquote reads a quoted string at the start of p, returning its value and
// its length in p.
func unquote(p []byte) (string, int, bool) {
	var out []byte
	for i := 1; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 == len(p) {
				return "", 0, false
			}
			i++
			out = append(out, p[i])
		case '"':
			return string(out), i + 1, true
		default:
			out = append(out, p[i])
		}
	}
	return "", 0, false
}

// literalAtEnd finds "{n}", "{n+}" or "~{n}" ending a piece (without CRLF).
// A marker inside a quoted string does not count: a piece whose quotes are
// unbalanced before the marker has none. It reads markers as go-imap does:
// one space may follow (go-imap's CRLF takes one), n may have any number of
// digits (more than int64 holds: hugeLiteral).
func literalAtEnd(p []byte) (literalMark, bool) {
	if len(p) > 0 && p[len(p)-1] == ' ' {
		p = p[:len(p)-1]
	}
	if len(p) < 3 || p[len(p)-1] != '}' {
		return literalMark{}, false
	}
	open := -1
	for i := len(p) - 2; i >= 0; i-- {
		if p[i] == '{' {
			open = i
			break
		}
		if (p[i] < '0' || p[i] > '9') && !(p[i] == '+' && i == len(p)-2) {
			return literalMark{}, false
		}
	}
	if open < 0 {
		return literalMark{}, false
	}
	m := literalMark{at: open}
	num := p[open+1 : len(p)-1]
	if len(num) > 0 && num[len(num)-1] == '+' {
		m.nonSync = true
		num = num[:len(num)-1]
	}
	if len(num) == 0 {
		return literalMark{}, false
	}
	num = bytes.TrimLeft(num, "0")
	m.size = hugeLiteral
	if len(num) <= 18 {
		v, err := strconv.ParseInt("0"+string(num), 10, 64)
		if err != nil {
			return literalMark{}, false
		}
		m.size = v
	}
	if open > 0 && p[open-1] == '~' {
		m.binary = true
		m.at = open - 1
	}
	if inQuotes(p[:m.at]) {
		return literalMark{}, false
	}
	return m, true
}

// inQuotes reports whether p ends inside a quoted string.
func inQuotes(p []byte) bool {
	in := false
	for i := 0; i < len(p); i++ {
		switch {
		case in && p[i] == '\\':
			i++
		case p[i] == '"':
			in = !in
		}
	}
	return in
}

// validTag: a tag is 1*<ASTRING-CHAR except "+"> (RFC 3501), printable
// ASCII only.
func validTag(t []byte) bool {
	if len(t) == 0 || len(t) > 64 {
		return false
	}
	for _, b := range t {
		if b <= ' ' || b >= 0x7f {
			return false
		}
		switch b {
		case '(', ')', '{', '%', '*', '"', '\\', '+', ']': // go-imap reads the tag as an atom: no ']'
			return false
		}
	}
	return true
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// arg returns the i-th argument token (after tag and name), if kept.
func (c *command) arg(i int) (token, bool) {
	if i < len(c.toks) {
		return c.toks[i], true
	}
	return token{}, false
}

// isString reports whether t is an astring (atom, quoted or literal).
func (t token) isString() bool {
	return t.kind == tokAtom || t.kind == tokQuoted || t.kind == tokLiteral
}
