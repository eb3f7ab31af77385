package server

import (
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"imapd/folders"
)

// The guard's judgement of commands: which ones go-imap may see, in which
// connection state, and with which arguments. go-imap parses a command
// completely (recursively, for SEARCH) before it checks the connection
// state, and turns some argument errors (a mailbox name that is not valid
// modified UTF-7, a sequence number 0) into "NO [SERVERBUG]". The guard
// answers those itself, from a bounded token list, so none reaches go-imap.

// Command states: which commands are allowed before login.
const (
	anyState = iota
	notAuthenticated
	authenticated
)

// commands are the commands go-imap handles for us (plus ID, which the
// guard answers), with the state each needs.
var commands = map[string]int{
	"CAPABILITY": anyState, "NOOP": anyState, "LOGOUT": anyState, "ID": anyState,
	"STARTTLS": notAuthenticated, "AUTHENTICATE": notAuthenticated, "LOGIN": notAuthenticated,
	"CHECK": authenticated, "ENABLE": authenticated, "UNAUTHENTICATE": authenticated,
	"CREATE": authenticated, "DELETE": authenticated, "RENAME": authenticated,
	"SUBSCRIBE": authenticated, "UNSUBSCRIBE": authenticated, "STATUS": authenticated,
	"LIST": authenticated, "LSUB": authenticated, "NAMESPACE": authenticated,
	"IDLE": authenticated, "SELECT": authenticated, "EXAMINE": authenticated,
	"CLOSE": authenticated, "UNSELECT": authenticated, "APPEND": authenticated,
	"FETCH": authenticated, "UID FETCH": authenticated, "EXPUNGE": authenticated,
	"UID EXPUNGE": authenticated, "STORE": authenticated, "UID STORE": authenticated,
	"COPY": authenticated, "UID COPY": authenticated, "MOVE": authenticated,
	"UID MOVE": authenticated, "SEARCH": authenticated, "UID SEARCH": authenticated,
	"GETQUOTAROOT": authenticated, "GETQUOTA": authenticated, "SETQUOTA": authenticated,
}

// mailboxArgs are the argument positions that go-imap decodes as mailbox
// names.
var mailboxArgs = map[string][]int{
	"SELECT": {0}, "EXAMINE": {0}, "CREATE": {0}, "DELETE": {0}, "RENAME": {0, 1},
	"SUBSCRIBE": {0}, "UNSUBSCRIBE": {0}, "STATUS": {0}, "APPEND": {0},
	"COPY": {1}, "UID COPY": {1}, "MOVE": {1}, "UID MOVE": {1},
	"GETQUOTAROOT": {0},
}

// seqSetArg are the commands whose first argument is a sequence set.
var seqSetArg = map[string]bool{
	"FETCH": true, "UID FETCH": true, "STORE": true, "UID STORE": true,
	"COPY": true, "UID COPY": true, "MOVE": true, "UID MOVE": true, "UID EXPUNGE": true,
}

// verdict is what the guard does with a command.
type verdict struct {
	pass  bool   // hand it to go-imap
	reply string // else: the text after the tag
	bye   bool   // and then end the connection
}

// early judges what is known after the first piece(s) of a command: the
// tag, the name and the state, and the bounds. A command it refuses is
// never read further than needed to skip it.
func (g *guard) early(c *command) (verdict, bool) {
	if c.badTag {
		return g.unknown("Invalid tag"), true
	}
	if !c.hasName {
		return g.unknown("Missing command"), true
	}
	state, known := commands[c.name]
	if !known {
		return g.unknown("Unknown command"), true
	}
	authed := g.authed()
	switch {
	case state == authenticated && !authed:
		return verdict{reply: "BAD [CLIENTBUG] Log in first"}, true
	case state == notAuthenticated && authed:
		return verdict{reply: "BAD [CLIENTBUG] Already logged in"}, true
	}
	if c.bad != "" {
		// Known from the pieces read so far: refused before any literal
		// is invited or any of it reaches go-imap (APPEND's message is
		// handed over before final runs).
		return verdict{reply: "BAD [CLIENTBUG] " + c.bad}, true
	}
	switch {
	case c.text > maxLine:
		return verdict{reply: "BAD Command line too long"}, true
	case c.maxDep > maxDepth:
		return verdict{reply: "BAD [CLIENTBUG] Too deeply nested"}, true
	case c.ops > maxSearchOps:
		return verdict{reply: "BAD [CLIENTBUG] Too many search operators"}, true
	}
	return verdict{}, false
}

// unknown refuses a command go-imap does not know. Before login that ends
// the connection, as go-imap itself does (a client speaking another
// protocol, e.g. a browser tricked into posting to the IMAP port).
func (g *guard) unknown(text string) verdict {
	return verdict{reply: "BAD " + text, bye: !g.authed()}
}

// final judges a complete command (every piece and literal read).
func (g *guard) final(c *command) verdict {
	if v, refused := g.early(c); refused {
		return v
	}
	rev2 := g.isRev2() // go-imap's state, before the command runs (rev2.go)
	if c.depth != 0 {
		return verdict{reply: "BAD [CLIENTBUG] Unbalanced parentheses"}
	}
	for _, i := range mailboxArgs[c.name] {
		if t, ok := c.arg(i); ok && t.isString() && !validMailbox(t.val, g.utf8Names()) {
			return verdict{reply: "BAD [CLIENTBUG] Invalid mailbox name"}
		}
	}
	if seqSetArg[c.name] {
		if t, ok := c.arg(0); ok && !validSeqSet(t) {
			return verdict{reply: "BAD [CLIENTBUG] Invalid sequence set"}
		}
	}
	switch c.name {
	case "LIST", "LSUB":
		if c.ntoks-c.head > len(c.toks) {
			// LIST-EXTENDED's pattern lists: each pattern costs a match
			// of every name, so their number is bounded.
			return verdict{reply: "BAD [CLIENTBUG] Too many LIST patterns"}
		}
		if !listNamesValid(c, g.utf8Names()) {
			// Nothing can match a name that is not modified UTF-7 (every
			// name we list is): answer as go-imap would for no match.
			return verdict{reply: "OK " + c.name + " completed"}
		}
	case "APPEND":
		// Not handed over with its message (appendMessage): the message
		// literal is missing. go-imap would answer a bad date before that
		// with SERVERBUG.
		if text := appendHeader(c, g.utf8Names()); text != "" {
			return verdict{reply: text}
		}
		return verdict{reply: "BAD [CLIENTBUG] Missing message literal"}
	case "AUTHENTICATE":
		// go-imap decodes the initial response (all the rest of the line)
		// as base64 and answers an error with SERVERBUG.
		if len(c.toks) > 1 {
			t := c.toks[1]
			ok := c.ntoks-c.head == 2 && t.kind == tokAtom
			if ok && t.val != "=" {
				_, err := base64.StdEncoding.DecodeString(t.val)
				ok = err == nil
			}
			if !ok {
				return verdict{reply: "BAD [CLIENTBUG] Malformed SASL initial response"}
			}
		}
	case "SEARCH", "UID SEARCH":
		if c.ntoks-c.head > len(c.toks) {
			return verdict{reply: "BAD [CLIENTBUG] Too many search keys"}
		}
		if text := searchKeysCheck(c.toks, rev2); text != "" {
			return verdict{reply: "BAD [CLIENTBUG] " + text}
		}
	}
	return verdict{pass: true}
}

// validMailbox: INBOX in any case, or a strict modified UTF-7 name; with
// utf8 (the client enabled IMAP4rev2), UTF-8 characters may also come as
// they are (folders.CheckWireNameUTF8).
func validMailbox(name string, utf8 bool) bool {
	if strings.EqualFold(name, "INBOX") {
		return true
	}
	if utf8 {
		return folders.CheckWireNameUTF8(name) == nil
	}
	return folders.CheckWireName(name) == nil
}

// listNamesValid checks the reference and patterns of LIST or LSUB:
// [ "(" select-opts ")" ] ref ( pattern | "(" patterns ")" ) ...
func listNamesValid(c *command, utf8 bool) bool {
	i := 0
	if t, ok := c.arg(0); ok && t.kind == tokOpen && c.name == "LIST" {
		for i++; i < len(c.toks) && c.toks[i].kind != tokClose; i++ {
		}
		i++
	}
	for n := 0; i < len(c.toks) && n < 2; i++ {
		t := c.toks[i]
		switch t.kind {
		case tokOpen:
			if n == 0 {
				return true // not a reference: go-imap's syntax error
			}
			for i++; i < len(c.toks) && c.toks[i].kind != tokClose; i++ {
				if c.toks[i].isString() && !validPattern(c.toks[i].val, utf8) {
					return false
				}
			}
			return true
		case tokClose:
			return true
		}
		if !validPattern(t.val, utf8) {
			return false
		}
		n++
	}
	return true
}

func validPattern(p string, utf8 bool) bool {
	return p == "" || validMailbox(p, utf8)
}

// validSeqSet: a sequence set go-imap parses without error: numbers from 1,
// "*", ranges and commas; or "$" alone, the saved search result (SEARCHRES,
// RFC 5182: "$" is never combined with anything else).
func validSeqSet(t token) bool {
	if t.kind != tokAtom || t.val == "" {
		return false
	}
	if t.val == "$" {
		return true
	}
	for _, part := range strings.Split(t.val, ",") {
		lo, hi, isRange := strings.Cut(part, ":")
		if !seqNumber(lo) || isRange && !seqNumber(hi) {
			return false
		}
	}
	return true
}

func seqNumber(s string) bool {
	if s == "*" {
		return true
	}
	if s == "" || len(s) > 10 || s[0] == '0' {
		return false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		v = v*10 + uint64(s[i]-'0')
	}
	return v <= 1<<32-1
}

// searchKeyArgs: the search keys go-imap knows, and how many arguments
// follow each (NOT's and OR's are keys, checked in turn). go-imap answers
// any other atom, and a date it cannot parse, with SERVERBUG.
var searchKeyArgs = map[string]int{
	"ALL": 0, "ANSWERED": 0, "DELETED": 0, "DRAFT": 0, "FLAGGED": 0, "RECENT": 0,
	"SEEN": 0, "UNANSWERED": 0, "UNDELETED": 0, "UNDRAFT": 0, "UNFLAGGED": 0,
	"UNSEEN": 0, "NEW": 0, "OLD": 0, "NOT": 0, "OR": 0,
	"KEYWORD": 1, "UNKEYWORD": 1, "BCC": 1, "CC": 1, "FROM": 1, "SUBJECT": 1,
	"TO": 1, "BODY": 1, "TEXT": 1, "LARGER": 1, "SMALLER": 1, "HEADER": 2,
	"SINCE": 1, "BEFORE": 1, "ON": 1, "SENTSINCE": 1, "SENTBEFORE": 1, "SENTON": 1,
}

// searchDateKeys take a date go-imap parses with time.Parse.
var searchDateKeys = map[string]bool{
	"SINCE": true, "BEFORE": true, "ON": true, "SENTSINCE": true, "SENTBEFORE": true, "SENTON": true,
}

// searchKeysCheck checks SEARCH's arguments as go-imap reads them:
// [RETURN (...)] [CHARSET x] keys. It returns a refusal text, or "".
// Only what go-imap would answer with SERVERBUG is checked (unknown keys,
// bad dates, bad sequence sets); syntax errors are go-imap's to answer.
func searchKeysCheck(toks []token, rev2 bool) string {
	i := 0
	if i < len(toks) && toks[i].kind == tokAtom && upperASCII(toks[i].val) == "RETURN" {
		i++
		if i < len(toks) && toks[i].kind == tokOpen {
			for depth := 0; i < len(toks); i++ {
				if toks[i].kind == tokOpen {
					depth++
				} else if toks[i].kind == tokClose {
					depth--
					if depth == 0 {
						i++
						break
					}
				}
			}
		}
	}
	if i < len(toks) && toks[i].kind == tokAtom && upperASCII(toks[i].val) == "CHARSET" {
		i += 2
	}
	for ; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokAtom {
			continue // a parenthesis; anything else is go-imap's syntax error
		}
		up := upperASCII(t.val)
		if up == "UID" && i+1 < len(toks) {
			if !validSeqSet(toks[i+1]) {
				return "Invalid sequence set"
			}
			i++
			continue
		}
		n, known := searchKeyArgs[up]
		if rev2 && (up == "RECENT" || up == "NEW" || up == "OLD") {
			// RFC 9051 has no \Recent: these keys left the grammar.
			return "Unknown search key (IMAP4rev2 has no RECENT, NEW or OLD)"
		}
		if !known {
			if strings.Trim(t.val, "0123456789*:,$") == "" {
				if !validSeqSet(t) {
					return "Invalid sequence set"
				}
				continue
			}
			return "Unknown search key"
		}
		if searchDateKeys[up] && i+1 < len(toks) && toks[i+1].isString() {
			if _, err := time.Parse("2-Jan-2006", toks[i+1].val); err != nil {
				return "Invalid date"
			}
		}
		i += n
	}
	return ""
}

// appendHeader checks APPEND's arguments before its message literal:
// mailbox [SP flag-list] [SP date-time]. It returns a refusal text, or "".
func appendHeader(c *command, utf8 bool) string {
	t, ok := c.arg(0)
	if !ok || !t.isString() {
		return "BAD [CLIENTBUG] Missing mailbox name"
	}
	if !validMailbox(t.val, utf8) {
		return "BAD [CLIENTBUG] Invalid mailbox name"
	}
	rest := c.toks[1:]
	if len(rest) > 0 && rest[0].kind == tokOpen {
		i := 1
		for ; i < len(rest) && rest[i].kind != tokClose; i++ {
			if rest[i].kind != tokAtom || !validFlag(rest[i].val) {
				return "BAD [CLIENTBUG] Invalid flag in APPEND"
			}
		}
		if i == len(rest) {
			return "BAD [CLIENTBUG] Unterminated flag list"
		}
		rest = rest[i+1:]
	}
	if len(rest) > 0 && rest[0].kind == tokQuoted {
		if _, err := time.Parse("_2-Jan-2006 15:04:05 -0700", rest[0].val); err != nil {
			return "BAD [CLIENTBUG] Invalid date-time in APPEND"
		}
		rest = rest[1:]
	}
	if len(rest) > 0 {
		return "BAD [CLIENTBUG] Unexpected argument in APPEND"
	}
	if c.ntoks-c.head > len(c.toks) {
		return "BAD [CLIENTBUG] Too many arguments"
	}
	return ""
}

// validFlag: "\" atom or a keyword atom (no "\*" in APPEND).
func validFlag(f string) bool {
	f = strings.TrimPrefix(f, `\`)
	if f == "" {
		return false
	}
	for i := 0; i < len(f); i++ {
		b := f[i]
		if b <= ' ' || b >= 0x7f || strings.IndexByte(`(){%*"\]`, b) >= 0 {
			return false
		}
	}
	return true
}

// searchReturn returns a SEARCH's return options (upper case) and the
// index of the token after them; ok is false without RETURN (...).
func searchReturn(c *command) (opts []string, next int, ok bool) {
	t := c.toks
	if len(t) < 3 || t[0].kind != tokAtom || upperASCII(t[0].val) != "RETURN" || t[1].kind != tokOpen {
		return nil, 0, false
	}
	for i := 2; i < len(t); i++ {
		switch t[i].kind {
		case tokClose:
			return opts, i + 1, true
		case tokAtom:
			opts = append(opts, upperASCII(t[i].val))
		default:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// searchSaves reports whether a SEARCH has the return option SAVE.
func searchSaves(c *command) bool {
	opts, _, _ := searchReturn(c)
	return slices.Contains(opts, "SAVE")
}

// searchSavesOnly reports whether a SEARCH's return options are SAVE and
// nothing else: RFC 5182 then wants no ESEARCH response, which go-imap
// writes anyway (the output drops it).
func searchSavesOnly(c *command) bool {
	opts, _, _ := searchReturn(c)
	for _, o := range opts {
		if o != "SAVE" {
			return false
		}
	}
	return len(opts) > 0
}

// searchCharset refuses a SEARCH whose CHARSET go-imap does not take, as
// go-imap would (the guard answers it, so that a SAVE empties the saved
// result); "" if it is fine.
func searchCharset(c *command) string {
	i := 0
	if _, next, ok := searchReturn(c); ok {
		i = next
	}
	if i+1 >= len(c.toks) || c.toks[i].kind != tokAtom || upperASCII(c.toks[i].val) != "CHARSET" || !c.toks[i+1].isString() {
		return ""
	}
	switch upperASCII(c.toks[i+1].val) {
	case "US-ASCII", "UTF-8":
		return ""
	}
	return "NO [BADCHARSET] Only US-ASCII and UTF-8 are supported SEARCH charsets"
}
