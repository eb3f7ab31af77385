package maildir

import (
	"runtime"
	"strconv"
	"strings"

	"imapd/mailbox"
)

// infoSep separates a file's base from its info: ':' as everywhere, ';'
// on Windows, where ':' is not allowed in file names.
var infoSep = func() string {
	if runtime.GOOS == "windows" {
		return ";"
	}
	return ":"
}()

const maxKeywords = 26

// splitName splits a file name into its base and the info after "<sep>2,"
// ("" for a file without info, as in new/).
func splitName(name string) (base, info string) {
	i := strings.LastIndex(name, infoSep+"2,")
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i+3:]
}

// fileName is the cur/ name of base with these flags and keyword slots.
func fileName(base string, f mailbox.Flags, kw uint32) string {
	return base + infoSep + "2," + infoLetters(f, kw)
}

// infoLetters are the flag letters in ASCII order (upper case first).
func infoLetters(f mailbox.Flags, kw uint32) string {
	var b []byte
	if f&mailbox.Draft != 0 {
		b = append(b, 'D')
	}
	if f&mailbox.Flagged != 0 {
		b = append(b, 'F')
	}
	if f&mailbox.Answered != 0 {
		b = append(b, 'R')
	}
	if f&mailbox.Seen != 0 {
		b = append(b, 'S')
	}
	if f&mailbox.Deleted != 0 {
		b = append(b, 'T')
	}
	for i := range maxKeywords {
		if kw&(1<<i) != 0 {
			b = append(b, byte('a'+i))
		}
	}
	return string(b)
}

// parseInfo reads flags and keyword slots from info letters. Letters it
// does not know (e.g. P, passed) are kept in other, so a rename keeps them.
func parseInfo(info string) (f mailbox.Flags, kw uint32, other string) {
	for i := 0; i < len(info); i++ {
		switch c := info[i]; {
		case c == 'D':
			f |= mailbox.Draft
		case c == 'F':
			f |= mailbox.Flagged
		case c == 'R':
			f |= mailbox.Answered
		case c == 'S':
			f |= mailbox.Seen
		case c == 'T':
			f |= mailbox.Deleted
		case c >= 'a' && c <= 'z':
			kw |= 1 << (c - 'a')
		default:
			other += string(c)
		}
	}
	return f, kw, other
}

// withOther merges letters imapd does not interpret back into info, in
// ASCII order as the maildir convention asks.
func withOther(info, other string) string {
	if other == "" {
		return info
	}
	b := []byte(info + other)
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
	return string(b)
}

// sizeField reads ",<key>=<n>" from a base, or -1.
func sizeField(base, key string) int64 {
	for _, part := range strings.Split(base, ",")[1:] {
		if v, ok := strings.CutPrefix(part, key+"="); ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				return n
			}
		}
	}
	return -1
}

// validBase: a base imapd will handle (no separators, no dot files, no
// info separator inside, no blank or control character: the uid list
// splits its lines on blanks).
func validBase(name string) bool {
	return name != "" && name[0] != '.' && !strings.ContainsAny(name, "/\\") &&
		!strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) &&
		!strings.Contains(name, infoSep)
}
