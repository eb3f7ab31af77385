package folders

import (
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

const (
	// Delim is the hierarchy separator, on every OS (DMail IMAPD 4.4.3y).
	Delim = '/'
	// MaxDepth is the most levels a name may have; LIST "*" descends no
	// deeper (UW: 20).
	MaxDepth = 20
	// maxComponent is the longest on-disk file name (NAME_MAX on most systems).
	maxComponent = 255
	// maxName is the longest on-disk name below the root.
	maxName = 1024
	// inboxName is the one name that is not a path under the root.
	inboxName = "INBOX"
)

// name is a mailbox name split into levels, ready to be looked up.
type name struct {
	full    string   // as given (UTF-8), without a trailing separator
	comps   []string // levels, UTF-8
	dirOnly bool     // CREATE "a/": make only the directory
}

// isInbox reports whether s names INBOX (any case).
func isInbox(s string) bool { return strings.EqualFold(s, inboxName) }

// parseName checks a client-given (UTF-8) name: it must stay below the
// folder root whatever the file system does with it. A trailing separator is
// dropped (it sets dirOnly). INBOX is not accepted here: callers handle it
// first.
func (t *Tree) parseName(s string) (name, *Error) {
	refuse := func(format string, args ...any) (name, *Error) {
		return name{}, newError(imap.ResponseCodeCannot, nil, format, args...)
	}
	if s == "" {
		return refuse("Empty mailbox name")
	}
	if !utf8.ValidString(s) {
		return refuse("Mailbox name is not valid UTF-8")
	}
	switch s[0] {
	case Delim:
		return refuse("Invalid mailbox name %s: absolute names are not allowed", s)
	case '~':
		return refuse("Invalid mailbox name %s: names starting with ~ (other users' folders) are not allowed", s)
	case '#':
		return refuse("Invalid mailbox name %s: namespaces (#...) are not supported", s)
	}
	n := name{full: s}
	if strings.HasSuffix(s, string(Delim)) {
		n.dirOnly = true
		n.full = s[:len(s)-1]
	}
	n.comps = strings.Split(n.full, string(Delim))
	if len(n.comps) > MaxDepth {
		return refuse("Invalid mailbox name %s: more than %d levels", s, MaxDepth)
	}
	total := 0
	for i, c := range n.comps {
		if c == "" {
			return refuse("Invalid mailbox name %s: empty level (two separators in a row)", s)
		}
		if why := t.checkComponent(c, i); why != "" {
			return refuse("Invalid mailbox name %s: %s", s, why)
		}
		total += len(encodeMUTF7(c)) + 1
	}
	if total > maxName {
		return refuse("Invalid mailbox name %s: name too long", s)
	}
	return n, nil
}

// checkComponent says what is wrong with one level c (UTF-8) at depth
// (0 = directly in the root), or "" if nothing is.
func (t *Tree) checkComponent(c string, depth int) string {
	if c == "." || c == ".." {
		return `"." and ".." are not allowed`
	}
	for _, r := range c {
		switch {
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return "control characters are not allowed"
		case r == '\\':
			return "backslash is not allowed"
		case r == Delim: // only from a decoded on-disk name ("&AC8-")
			return "a separator inside a level"
		case r == utf8.RuneError:
			return "invalid character"
		}
	}
	enc := encodeMUTF7(c)
	if len(enc) > maxComponent {
		return "a level is too long"
	}
	if why := reservedName(c); why != "" {
		return why
	}
	if depth == 0 && strings.EqualFold(c, t.subFile) {
		return "the name is reserved for the subscription list"
	}
	if depth == 0 && t.maildir && maildirOwn(c) {
		return "the name is reserved for the INBOX maildir"
	}
	return osCheckComponent(enc)
}

// reservedName says why c is one of our internal file names, or "". These
// names are never listed and can't be created, so a mailbox can't collide
// with a dot-lock ("x.lock", and UW's "x.lock.<time>.<pid>.<host>" hitching
// posts), with this program's own files (".imapd*") or with UW's temporary
// subscription file (".mlbxlsttmp").
func reservedName(c string) string {
	l := strings.ToLower(c)
	switch {
	case strings.HasSuffix(l, ".lock") || strings.Contains(l, ".lock."):
		return "names ending in .lock are reserved for lock files"
	case strings.HasPrefix(l, ".imapd"):
		return "names starting with .imapd are reserved for the server"
	case l == ".mlbxlsttmp":
		return "the name is reserved for the server"
	}
	return ""
}

// hidden reports whether the on-disk entry diskName at depth is one of
// ours and must never be listed: the subscription file (in the root only),
// lock files, ".imapd*" files.
func (t *Tree) hidden(diskName string, depth int) bool {
	if depth == 0 && strings.EqualFold(diskName, t.subFile) {
		return true
	}
	if depth == 0 && t.maildir && maildirOwn(diskName) {
		return true
	}
	return reservedName(diskName) != ""
}

// maildirOwn: names in the INBOX maildir that are the maildir's own.
func maildirOwn(c string) bool {
	l := strings.ToLower(c)
	return l == "cur" || l == "new" || l == "tmp" || strings.HasPrefix(l, "imapd-")
}

// display turns an on-disk level name into the name shown to clients:
// decoded from modified UTF-7 when that is valid, else the raw bytes when
// they are printable ASCII (raw is true then), else ok is false and the
// entry is not listed (it could not be named by a client).
func (t *Tree) display(diskName string, depth int) (shown string, raw, ok bool) {
	if s, err := decodeMUTF7(diskName); err == nil {
		if t.checkComponent(s, depth) == "" {
			return s, false, true
		}
	}
	if !printableASCII(diskName) || t.checkComponent(diskName, depth) != "" {
		return "", false, false
	}
	return diskName, true, true
}

// rawCandidate reports whether the client level c at depth may also be
// looked up by its raw bytes on disk: true when display would show an
// on-disk entry named c by its raw bytes (printable ASCII that is not valid
// modified UTF-7, e.g. "R&D" written by a shell user), so a folder listed by
// its raw name can be opened by that name.
func (t *Tree) rawCandidate(c string, depth int) bool {
	if encodeMUTF7(c) == c {
		return false
	}
	_, raw, ok := t.display(c, depth)
	return ok && raw
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isPrintableASCII(rune(s[i])) {
			return false
		}
	}
	return true
}
