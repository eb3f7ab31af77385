package session

import (
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/folders"
)

// LIST, LSUB and LIST-EXTENDED (RFC 5258).
//
//   - LSUB keeps the legacy (UW) answer: subscribed names without
//     attributes, INBOX \Noinferiors, and for a pattern ending in "%" the
//     levels above subscribed names as \Noselect.
//   - LIST (SUBSCRIBED) lists the subscribed names that match, each with
//     \Subscribed and the attributes LIST gives it, or \NonExistent (the
//     subscription file may name folders that are gone). Unlike LSUB it
//     never adds levels above them, unless RECURSIVEMATCH asks: then a name
//     that matches and has a subscribed name below it is listed too (with
//     its attributes, or \NonExistent) and carries
//     CHILDINFO ("SUBSCRIBED"), whether it is subscribed itself or not.
//   - RETURN (SUBSCRIBED) adds \Subscribed to the subscribed names a LIST
//     shows. RETURN (CHILDREN) is always honoured: folders of folders carry
//     \HasChildren or \HasNoChildren, message folders \Noinferiors (which
//     implies \HasNoChildren).
//   - REMOTE is accepted and changes nothing: there are no remote
//     mailboxes.
//   - Several patterns in parentheses are honoured, as one LIST each with
//     every name listed once.

// listEntry is one LIST line before the special use and status are added.
type listEntry struct {
	folders.Entry
	childInfo bool // CHILDINFO ("SUBSCRIBED")
}

// List answers LIST and LSUB.
func (s *Session) List(w *imapserver.ListWriter, ref string, patterns []string, options *imap.ListOptions) error {
	if err := s.begin("LIST"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if options == nil {
		options = &imap.ListOptions{}
	}
	if len(patterns) == 0 {
		return w.WriteList(&imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrNoSelect}, Delim: '/', Mailbox: ""})
	}
	withStatus := options.ReturnStatus
	if withStatus != nil {
		if err := checkStatusItems(withStatus); err != nil {
			return err
		}
	}
	var entries []listEntry
	var err error
	switch {
	case s.running() == "LSUB":
		var lsub []folders.Entry
		lsub, err = s.tree.ListSubscribed(ref, patterns)
		for _, e := range lsub {
			entries = append(entries, listEntry{Entry: e})
		}
	case options.SelectSubscribed:
		entries, err = s.listSubscribed(ref, patterns, options.SelectRecursiveMatch)
	default:
		entries, err = s.listAll(ref, patterns, options.ReturnSubscribed)
	}
	if err != nil {
		return s.storageErr("LIST", err)
	}
	for _, e := range entries {
		// Delim 0 is NIL: INBOX without children, as UW lists it.
		data := &imap.ListData{Attrs: e.Attrs, Delim: e.Delim, Mailbox: e.Name}
		if e.childInfo {
			data.ChildInfo = &imap.ListDataChildInfo{Subscribed: true}
		}
		use := imap.MailboxAttr("")
		if selectable(e.Attrs) {
			use = s.specialUseOf(e.Name)
		}
		if use != "" {
			data.Attrs = append(slices.Clone(e.Attrs), use)
		} else if options.SelectSpecialUse {
			continue // LIST (SPECIAL-USE): only the special-use folders
		}
		if withStatus != nil && selectable(e.Attrs) {
			// LIST-STATUS (RFC 5819): a STATUS after the LIST of every
			// mailbox that can be selected; one whose status cannot be
			// had gets none (the RFC allows dropping it).
			st, err := s.status(e.Name, withStatus, "LIST")
			if err != nil {
				s.deps.Log.Debugf("LIST-STATUS %q %s: %v", e.Name, s.who(), err)
			} else {
				data.Status = st
			}
		}
		if err := w.WriteList(data); err != nil {
			return err
		}
	}
	return nil
}

// listAll is a plain LIST; with subscribed, the subscribed names get
// \Subscribed (RETURN (SUBSCRIBED)). Caller holds mu.
func (s *Session) listAll(ref string, patterns []string, subscribed bool) ([]listEntry, error) {
	list, err := s.tree.List(ref, patterns)
	if err != nil {
		return nil, err
	}
	var subs map[string]bool
	if subscribed {
		if subs, _, err = s.subscriptions(); err != nil {
			return nil, err
		}
	}
	out := make([]listEntry, 0, len(list))
	for _, e := range list {
		if subs[e.Name] {
			e.Attrs = append(slices.Clone(e.Attrs), imap.MailboxAttrSubscribed)
		}
		out = append(out, listEntry{Entry: e})
	}
	return out, nil
}

// listSubscribed is LIST (SUBSCRIBED [RECURSIVEMATCH]). Caller holds mu.
func (s *Session) listSubscribed(ref string, patterns []string, recursive bool) ([]listEntry, error) {
	subs, order, err := s.subscriptions()
	if err != nil {
		return nil, err
	}
	// What exists, with its attributes: every name listed matches the
	// patterns, and only those are wanted.
	list, err := s.tree.List(ref, patterns)
	if err != nil {
		return nil, err
	}
	existing := make(map[string]folders.Entry, len(list))
	for _, e := range list {
		existing[e.Name] = e
	}
	// With RECURSIVEMATCH: the names that match and have a subscribed name
	// below them.
	parents := map[string]bool{}
	if recursive {
		for _, name := range order {
			for i := strings.IndexByte(name, folders.Delim); i >= 0; {
				up := name[:i]
				if folders.MatchList(ref, patterns, up) {
					parents[up] = true
				}
				j := strings.IndexByte(name[i+1:], folders.Delim)
				if j < 0 {
					break
				}
				i += 1 + j
			}
		}
	}
	entryOf := func(name string) listEntry {
		e, ok := existing[name]
		if !ok {
			e = folders.Entry{Name: name, Delim: folders.Delim, Attrs: []imap.MailboxAttr{imap.MailboxAttrNonExistent}}
		}
		e.Attrs = slices.Clone(e.Attrs)
		if subs[name] {
			e.Attrs = append(e.Attrs, imap.MailboxAttrSubscribed)
		}
		return listEntry{Entry: e, childInfo: parents[name]}
	}
	var out []listEntry
	done := map[string]bool{}
	for _, name := range order {
		// Parents first (RECURSIVEMATCH), top down.
		for i := 0; recursive; {
			j := strings.IndexByte(name[i:], folders.Delim)
			if j < 0 {
				break
			}
			up := name[:i+j]
			if parents[up] && !done[up] {
				done[up] = true
				out = append(out, entryOf(up))
			}
			i += j + 1
		}
		if !done[name] && folders.MatchList(ref, patterns, name) {
			done[name] = true
			out = append(out, entryOf(name))
		}
	}
	return out, nil
}

// subscriptions are the subscribed names as LIST shows them (INBOX as
// "INBOX"), as a set and in the subscription file's order. Caller holds
// mu.
func (s *Session) subscriptions() (map[string]bool, []string, error) {
	list, err := s.tree.ListSubscribed("", []string{"*"})
	if err != nil {
		return nil, nil, err
	}
	set := make(map[string]bool, len(list))
	order := make([]string, 0, len(list))
	for _, e := range list {
		if !set[e.Name] {
			set[e.Name] = true
			order = append(order, e.Name)
		}
	}
	return set, order, nil
}
