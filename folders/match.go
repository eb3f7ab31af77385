package folders

import "strings"

// LIST patterns. "*" matches any characters, "%" any characters but the
// separator; everything else matches itself, case-sensitively (INBOX is
// special-cased by the callers). Matching runs the pattern as an NFA, so it
// is O(len(pattern)*len(name)) whatever the wildcards: no backtracking
// blow-up on hostile patterns.

// canonical joins a LIST reference and pattern the way UW does: plain
// concatenation, unless the pattern starts with "/", "~" or "#", which
// replaces the reference (such names never exist here, so they match
// nothing).
func canonical(ref, pattern string) string {
	if pattern != "" && strings.ContainsRune("/~#", rune(pattern[0])) {
		return pattern
	}
	return ref + pattern
}

// patternSet is the canonical patterns of one LIST command.
type patternSet []string

// match reports whether name matches one of the patterns.
func (ps patternSet) match(name string) bool {
	for _, p := range ps {
		if nfaRun(p, name, true) {
			return true
		}
	}
	return false
}

// matchSlash reports whether the directory full, written with a trailing
// separator, matches one of the patterns, as UW lists a directory "a/"
// when only that form matches. Like UW, which starts its scan at the
// pattern's literal directory prefix, a pattern that spells out "full/" and
// goes on below it ("a/*", "a/%") does not list "a/" itself.
func (ps patternSet) matchSlash(full string) bool {
	dir := full + string(Delim)
	for _, p := range ps {
		if strings.HasPrefix(p, dir) && len(p) > len(dir) {
			continue
		}
		if nfaRun(p, dir, true) {
			return true
		}
	}
	return false
}

// matchInbox reports whether INBOX matches one of the patterns; INBOX
// matches case-insensitively (UW upper-cases the pattern).
func (ps patternSet) matchInbox() bool {
	for _, p := range ps {
		if nfaRun(strings.ToUpper(p), inboxName, true) {
			return true
		}
	}
	return false
}

// below reports whether some name starting with prefix could match one of
// the patterns: whether a LIST must look inside a directory.
func (ps patternSet) below(prefix string) bool {
	for _, p := range ps {
		if nfaRun(p, prefix, false) {
			return true
		}
	}
	return false
}

// endsInPercent reports whether pattern p (for LSUB) ends in "%".
func endsInPercent(p string) bool { return strings.HasSuffix(p, "%") }

// nfaRun feeds name through pattern p. With whole set it reports a full
// match; otherwise whether any state is still alive after the input, i.e.
// whether name is a prefix of some matching string (every pattern suffix
// matches something, so a live state is enough).
func nfaRun(p, name string, whole bool) bool {
	cur := make([]bool, len(p)+1)
	next := make([]bool, len(p)+1)
	cur[0] = true
	closure(p, cur)
	for i := 0; i < len(name); i++ {
		c := name[i]
		alive := false
		for k := range next {
			next[k] = false
		}
		for k := 0; k < len(p); k++ {
			if !cur[k] {
				continue
			}
			switch p[k] {
			case '*':
				next[k] = true
			case '%':
				if c != Delim {
					next[k] = true
				}
			default:
				if p[k] == c {
					next[k+1] = true
				}
			}
		}
		closure(p, next)
		for _, s := range next {
			alive = alive || s
		}
		if !alive {
			return false
		}
		cur, next = next, cur
	}
	if !whole {
		return true
	}
	return cur[len(p)]
}

// closure adds the states reachable by letting wildcards match nothing.
func closure(p string, states []bool) {
	for k := 0; k < len(p); k++ {
		if states[k] && (p[k] == '*' || p[k] == '%') {
			states[k+1] = true
		}
	}
}
