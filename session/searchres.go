package session

import (
	"sort"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
)

// SEARCHRES (RFC 5182): SEARCH RETURN (SAVE) keeps its result in the
// session's search result variable, and "$" in a later command's sequence
// set (FETCH, STORE, COPY, MOVE, UID EXPUNGE, and as a SEARCH key) means
// the messages in it.
//
// The variable holds UIDs, so it needs no adjusting when messages are
// expunged (an expunged message is simply no longer found) and "$" means
// the same messages in UID and sequence-number commands. It belongs to one
// selection: a new SELECT or EXAMINE (or CLOSE, UNSELECT) empties it. A
// SEARCH ... SAVE answered NO empties it; a BAD one, or a SEARCH without
// SAVE, leaves it alone. SAVE with only MIN and/or MAX saves just those
// messages (RFC 5182 2.4). SAVE alone suppresses the ESEARCH response: the
// guard (package server) drops it.

// searchResult is the search result variable.
type searchResult struct {
	sel  *selected // the selection it was saved in; another one means empty
	uids []uint32  // ascending
}

// commandNamer is a Conn that knows the name of the command running
// ("FETCH", "UID FETCH", "LSUB"...), which go-imap does not tell the
// session: "$" is a set of UIDs in UID commands and of sequence numbers in
// the others (RFC 5182 2.1), and LSUB reaches List as LIST (SUBSCRIBED)
// does. The server's connection implements it.
type commandNamer interface {
	RunningCommand() string
}

// running is the name of the command running, "" if the Conn cannot tell.
func (s *Session) running() string {
	if cn, ok := s.conn.(commandNamer); ok {
		return cn.RunningCommand()
	}
	return ""
}

// savedUIDs is the variable's content for the current selection. Caller
// holds mu.
func (s *Session) savedUIDs() []uint32 {
	if s.sel == nil || s.searchRes.sel != s.sel {
		return nil
	}
	return s.searchRes.uids
}

// resolveSearchRes replaces "$" by the saved messages: a UIDSet in a UID
// command, else a SeqSet of the messages' current sequence numbers (a
// message expunged since is left out). Any other set is returned as it is.
// Caller holds mu.
func (s *Session) resolveSearchRes(set imap.NumSet) imap.NumSet {
	if !imap.IsSearchRes(set) {
		return set
	}
	uids := s.savedUIDs()
	if name := s.running(); name == "" || strings.HasPrefix(name, "UID ") {
		var out imap.UIDSet
		for _, u := range uids {
			out.AddNum(imap.UID(u))
		}
		return out
	}
	var out imap.SeqSet
	if sel := s.sel; sel != nil {
		for _, i := range s.savedIndexes(sel) {
			out.AddNum(uint32(i + 1))
		}
	}
	return out
}

// resolveSearchResUIDs is resolveSearchRes for UID EXPUNGE's set.
func (s *Session) resolveSearchResUIDs(uids *imap.UIDSet) *imap.UIDSet {
	if uids == nil || !imap.IsSearchRes(*uids) {
		return uids
	}
	var out imap.UIDSet
	for _, u := range s.savedUIDs() {
		out.AddNum(imap.UID(u))
	}
	return &out
}

// savedIndexes are the 0-based indexes of the saved messages that the
// client knows of. Caller holds mu.
func (s *Session) savedIndexes(sel *selected) []int {
	uids := s.savedUIDs()
	n := min(sel.told, sel.mbox.Len())
	var out []int
	for _, u := range uids {
		i := sort.Search(n, func(i int) bool { return sel.mbox.Message(i).UID >= u })
		if i < n && sel.mbox.Message(i).UID == u {
			out = append(out, i)
		}
	}
	return out
}

// withSearchRes returns the criteria with every "$" (a UID key holding
// go-imap's marker, at any depth under NOT and OR) replaced by the saved
// UIDs. The criteria are copied only where they change. Caller holds mu.
func (s *Session) withSearchRes(c *imap.SearchCriteria) *imap.SearchCriteria {
	if !hasSearchRes(c) {
		return c
	}
	var saved imap.UIDSet
	for _, u := range s.savedUIDs() {
		saved.AddNum(imap.UID(u))
	}
	if saved == nil {
		saved = imap.UIDSet{} // nothing saved: "$" matches nothing
	}
	return replaceSearchRes(c, saved)
}

func hasSearchRes(c *imap.SearchCriteria) bool {
	for _, set := range c.UID {
		if imap.IsSearchRes(set) {
			return true
		}
	}
	for i := range c.Not {
		if hasSearchRes(&c.Not[i]) {
			return true
		}
	}
	for i := range c.Or {
		if hasSearchRes(&c.Or[i][0]) || hasSearchRes(&c.Or[i][1]) {
			return true
		}
	}
	return false
}

func replaceSearchRes(c *imap.SearchCriteria, saved imap.UIDSet) *imap.SearchCriteria {
	out := *c
	out.UID = make([]imap.UIDSet, len(c.UID))
	for i, set := range c.UID {
		if imap.IsSearchRes(set) {
			set = saved
		}
		out.UID[i] = set
	}
	out.Not = make([]imap.SearchCriteria, len(c.Not))
	for i := range c.Not {
		out.Not[i] = *replaceSearchRes(&c.Not[i], saved)
	}
	out.Or = make([][2]imap.SearchCriteria, len(c.Or))
	for i := range c.Or {
		out.Or[i] = [2]imap.SearchCriteria{*replaceSearchRes(&c.Or[i][0], saved), *replaceSearchRes(&c.Or[i][1], saved)}
	}
	return &out
}

// saveSearchRes updates the variable after a SEARCH: with SAVE, the result
// (err == nil) or nothing (a NO); without SAVE, or after a BAD, it is left
// alone. matched are the UIDs of the matching messages, ascending. Caller
// holds mu.
func (s *Session) saveSearchRes(options *imap.SearchOptions, matched []uint32, err error) {
	if options == nil || !options.ReturnSave || s.sel == nil {
		return
	}
	if err != nil {
		if ie, ok := err.(*imap.Error); ok && ie.Type == imap.StatusResponseTypeBad {
			return
		}
		s.searchRes = searchResult{sel: s.sel}
		return
	}
	if (options.ReturnMin || options.ReturnMax) && !options.ReturnAll && !options.ReturnCount && len(matched) > 0 {
		// RFC 5182 2.4: only the messages MIN and MAX name. UIDs and
		// sequence numbers ascend together, so these are the first and
		// last of the matches.
		var only []uint32
		if options.ReturnMin {
			only = append(only, matched[0])
		}
		if options.ReturnMax && (len(only) == 0 || matched[len(matched)-1] != only[0]) {
			only = append(only, matched[len(matched)-1])
		}
		matched = only
	}
	s.searchRes = searchResult{sel: s.sel, uids: matched}
}

// Search answers SEARCH and UID SEARCH (search does the matching): "$" in
// the criteria is resolved first, and the result saved afterwards when
// SAVE asks for it.
func (s *Session) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if (options == nil || !options.ReturnSave) && !hasSearchRes(criteria) {
		return s.search(kind, criteria, options) // no "$", no SAVE
	}
	if err := s.begin("SEARCH"); err != nil {
		return nil, err
	}
	sel := s.sel
	criteria = s.withSearchRes(criteria)
	s.mu.Unlock()

	data, err := s.search(kind, criteria, options)

	if options == nil || !options.ReturnSave {
		return data, err
	}
	if err := s.begin("SEARCH"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if s.sel == nil || s.sel != sel {
		return data, err // the selection went meanwhile: nothing to save
	}
	var matched []uint32
	if err == nil {
		matched = matchedUIDs(sel, kind, data.All)
	}
	s.saveSearchRes(options, matched, err)
	return data, err
}

// matchedUIDs are the UIDs of a SEARCH result, ascending.
func matchedUIDs(sel *selected, kind imapserver.NumKind, all imap.NumSet) []uint32 {
	var out []uint32
	switch set := all.(type) {
	case imap.UIDSet:
		nums, _ := set.Nums()
		for _, u := range nums {
			out = append(out, uint32(u))
		}
	case imap.SeqSet:
		nums, _ := set.Nums()
		for _, n := range nums {
			if i := int(n) - 1; i >= 0 && i < sel.mbox.Len() {
				out = append(out, sel.mbox.Message(i).UID)
			}
		}
	}
	return out
}

// ClearSearchResult empties the search result variable: the server
// answered a SEARCH ... SAVE with NO before the session saw it (an
// unsupported CHARSET).
func (s *Session) ClearSearchResult() {
	if err := s.begin("SEARCH"); err != nil {
		return
	}
	defer s.mu.Unlock()
	if s.sel != nil {
		s.searchRes = searchResult{sel: s.sel}
	}
}
