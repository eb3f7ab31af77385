package folders

// MatchList reports whether the mailbox name (as LIST shows it) matches
// one of the patterns under the reference, by the rules List uses (INBOX in
// any case). For names List cannot show itself: LIST-EXTENDED's subscribed
// names and their parents, which need not exist.
func MatchList(ref string, patterns []string, name string) bool {
	var ps patternSet
	for _, p := range patterns {
		if p != "" {
			ps = append(ps, canonical(ref, p))
		}
	}
	if isInbox(name) {
		return ps.matchInbox()
	}
	return ps.match(name)
}
