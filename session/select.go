package session

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/folders"
	"imapd/mailbox"
	"imapd/platform"
)

func isInbox(name string) bool { return strings.EqualFold(name, "INBOX") }

// messageFolder resolves a name that must be an existing message folder.
// INBOX is created (empty) when the drop file does not exist yet.
func (s *Session) messageFolder(name, what string) (string, error) {
	path, err := s.tree.Path(name)
	if err != nil {
		return "", s.storageErr(what, err)
	}
	if isInbox(name) {
		if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
			if err := s.storage.CreateInbox(path); err != nil {
				return "", s.storageErr(what, err)
			}
		}
		return path, nil
	}
	kind, err := s.tree.Kind(name)
	if err != nil {
		return "", s.storageErr(what, err)
	}
	switch kind {
	case folders.NotFound:
		return "", no(imap.ResponseCodeNonExistent, "Can't open mailbox %s: no such mailbox", name)
	case folders.FolderOfFolders:
		return "", no(imap.ResponseCodeCannot, "Can't open mailbox %s: it holds folders, not messages", name)
	}
	if err := s.tree.CheckMailbox(path); err != nil {
		return "", s.storageErr(what, err)
	}
	return path, nil
}

// Select opens a mailbox for this session (SELECT and EXAMINE).
func (s *Session) Select(name string, options *imap.SelectOptions) (*imap.SelectData, error) {
	if err := s.begin("SELECT"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if err := s.closeSelected(); err != nil {
		return nil, err
	}
	path, err := s.messageFolder(name, "SELECT")
	if err != nil {
		return nil, err
	}
	// letGo must know the claim it is about: it may be called (from another
	// goroutine) before ClaimMailbox returns.
	var claim *platform.Claim
	claimed := make(chan struct{})
	letGo := func() {
		<-claimed
		s.letGo(claim)
	}
	sharing := s.sharing() && !options.ReadOnly
	var notices []string
	if sharing {
		claim, notices, err = platform.ClaimShared(path, letGo)
	} else {
		claim, notices, err = platform.ClaimMailbox(path, options.ReadOnly, letGo)
	}
	close(claimed)
	if err != nil {
		return nil, s.storageErr("SELECT", err)
	}
	mb, err := s.storage.Open(path, claim.ReadOnly())
	if err != nil {
		claim.Release()
		return nil, s.storageErr("SELECT", err)
	}
	for _, n := range notices {
		s.conn.Notice(n)
	}
	// The one place that decides what SELECT tells the client: the
	// mailbox is read-only when another session holds it (the claim:
	// platform.ClaimMailbox) or when this process may not write the file
	// (mbox.Open falls back to read-only, as UW does); the tagged reply
	// then says [READ-ONLY] (server rewrites go-imap's [READ-WRITE]).
	if mb.ReadOnly() && !options.ReadOnly {
		s.conn.SelectReadOnly()
		why := "no write access to the file"
		if claim.ReadOnly() {
			why = "held by another session"
		}
		s.deps.Log.Infof("select %s %s: read-only, %s", name, s.who(), why)
	}
	sel := &selected{name: name, path: path, mbox: mb, claim: claim}
	if sharing && !mb.ReadOnly() {
		sel.shared = newSharedView(s.storage, path, mb, &sel.told, func() { tell(path, sel) })
		sel.mbox = sel.shared
		sel.wake = watch(path, sel)
	}
	s.sel = sel
	sel.grow(mb.Len())
	sel.keywords = slices.Clone(mb.Keywords())

	data := &imap.SelectData{
		Flags:       mailboxFlags(sel.keywords),
		NumMessages: uint32(mb.Len()),
		UIDNext:     imap.UID(mb.UIDNext()),
		UIDValidity: mb.UIDValidity(),
	}
	if !mb.ReadOnly() {
		data.PermanentFlags = append([]imap.Flag{imap.FlagWildcard}, data.Flags...)
	}
	if c, ok := mb.(interface{ SelectCounts() (int, int) }); ok {
		recent, unseen := c.SelectCounts() // no mailbox.Message per message (50k: issue 10)
		data.NumRecent, data.FirstUnseenSeqNum = uint32(recent), uint32(unseen)
	} else {
		for i := 0; i < mb.Len(); i++ {
			m := mb.Message(i)
			if m.Recent {
				data.NumRecent++
			}
			if m.Flags&mailbox.Seen == 0 && data.FirstUnseenSeqNum == 0 {
				data.FirstUnseenSeqNum = uint32(i + 1)
			}
		}
	}
	data.List = s.selectList(name) // IMAP4rev2 only: rev2.go
	return data, nil
}

// Unselect closes the selected mailbox without expunging.
func (s *Session) Unselect() error {
	if err := s.begin("UNSELECT"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.closeSelected()
}

// Poll tells the client what changed: new mail, new keywords. Flags
// changed by this session are saved later, in batches (flush.go).
func (s *Session) Poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	if err := s.begin("POLL"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	return s.poll(w, allowExpunge)
}

func (s *Session) poll(w *imapserver.UpdateWriter, allowExpunge bool) error {
	sel := s.sel
	if sel == nil {
		return nil
	}
	var changed []int // messages whose flags another session changed
	if sel.shared != nil {
		c, err := s.followOthers(w, allowExpunge)
		if err != nil {
			return err
		}
		changed = c
	} else if _, err := sel.mbox.Sync(); err != nil {
		if errors.Is(err, mailbox.ErrChanged) && sel.mbox.ReadOnly() {
			// The writer rewrote the file (an expunge, say): a reader
			// follows it instead of dying, as soon as it may say EXPUNGE.
			if !allowExpunge {
				return nil
			}
			if err := s.reload(w); err != nil {
				return err
			}
		} else if errors.Is(err, mailbox.ErrChanged) {
			return s.fatal("Fatal mailbox error: mailbox changed by another program")
		} else {
			s.deps.Log.Errorf("check for new mail in %s %s: %v", sel.path, s.who(), err)
			return nil
		}
	}
	s.announceKeywords()
	if err := s.writeChangedFlags(w, changed); err != nil {
		return err
	}
	if n := sel.mbox.Len(); n != sel.told {
		sel.grow(n)
		if err := w.WriteNumMessages(uint32(n)); err != nil {
			return err
		}
		recent := 0
		for i := 0; i < n; i++ {
			if sel.mbox.Message(i).Recent {
				recent++
			}
		}
		if err := w.WriteNumRecent(uint32(recent)); err != nil {
			return err
		}
	}
	s.flushLater() // flags: saved in batches (flush.go)
	return nil
}

// reload re-reads a read-only mailbox another session rewrote, tells the
// client which of the messages it knows are gone (EXPUNGE, by UID), and
// carries on with the new view; new messages follow as EXISTS. A new
// UIDVALIDITY cannot be followed: the session ends.
func (s *Session) reload(w *imapserver.UpdateWriter) error {
	sel := s.sel
	nm, err := s.storage.Open(sel.path, true)
	if err != nil {
		return s.fatal("Fatal mailbox error: cannot re-read the mailbox another session changed")
	}
	old := sel.mbox
	if nm.UIDValidity() != old.UIDValidity() {
		nm.Close()
		return s.fatal("Fatal mailbox error: UIDVALIDITY changed by another program")
	}
	now := make(map[uint32]int, nm.Len()) // UID -> index in the new view
	for i := 0; i < nm.Len(); i++ {
		now[nm.Message(i).UID] = i
	}
	seq, survivors := uint32(1), 0
	var changed []int // new indexes of known messages whose flags changed
	for i := 0; i < min(sel.told, old.Len()); i++ {
		om := old.Message(i)
		if j, ok := now[om.UID]; ok {
			nm := nm.Message(j)
			if nm.Flags != om.Flags || !slices.Equal(nm.Keywords, om.Keywords) {
				changed = append(changed, j)
			}
			seq++
			survivors++
			continue
		}
		if err := w.WriteExpunge(seq); err != nil {
			return err
		}
	}
	old.Close()
	sel.mbox = nm
	sel.told = survivors
	// New keywords are announced before a FETCH shows them.
	s.announceKeywords()
	for _, j := range changed {
		m := nm.Message(j)
		if err := w.WriteMessageFlags(uint32(j+1), imap.UID(m.UID), messageFlags(s.shown(m))); err != nil {
			return err
		}
	}
	return nil
}

// announceKeywords tells the client of keywords that appeared in the
// selected mailbox since it was last told, before any FETCH or EXISTS
// shows them (RFC 3501 7.2.6: FLAGS lists every flag in use): "* FLAGS"
// and, read-write, "* OK [PERMANENTFLAGS]", back to back as UW sends them.
// Caller holds mu and no response writer open.
func (s *Session) announceKeywords() {
	sel := s.sel
	kw := sel.mbox.Keywords()
	if slices.Equal(kw, sel.keywords) {
		return
	}
	sel.keywords = slices.Clone(kw)
	s.conn.Untagged(flagsLine(kw))
	if !sel.mbox.ReadOnly() {
		s.conn.Untagged(permanentFlagsLine(kw))
	}
}

// flagsLine is the untagged FLAGS response of a mailbox with these
// keywords.
func flagsLine(keywords []string) string {
	var b strings.Builder
	b.WriteString("* FLAGS (")
	for i, f := range mailboxFlags(keywords) {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(string(f))
	}
	b.WriteString(")")
	return b.String()
}

// permanentFlagsLine is the untagged PERMANENTFLAGS response of a
// read-write mailbox with these keywords.
func permanentFlagsLine(keywords []string) string {
	var b strings.Builder
	b.WriteString(`* OK [PERMANENTFLAGS (\*`)
	for _, f := range mailboxFlags(keywords) {
		b.WriteString(" ")
		b.WriteString(string(f))
	}
	b.WriteString(")] Permanent flags")
	return b.String()
}

func mailboxFlags(keywords []string) []imap.Flag {
	flags := []imap.Flag{imap.FlagAnswered, imap.FlagFlagged, imap.FlagDeleted, imap.FlagDraft, imap.FlagSeen}
	for _, k := range keywords {
		if atomFlag(k) { // as messageFlags: what go-imap cannot write is not shown
			flags = append(flags, imap.Flag(k))
		}
	}
	return flags
}
