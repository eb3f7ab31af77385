package session

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/folders"
	"imapd/mailbox"
	"imapd/platform"
)

// destination resolves the target of APPEND, COPY and MOVE: an existing
// message folder, or NO [TRYCREATE].
func (s *Session) destination(name, what string) (string, error) {
	if isInbox(name) {
		return s.messageFolder(name, what)
	}
	path, err := s.tree.Path(name)
	if err != nil {
		return "", s.storageErr(what, err)
	}
	kind, err := s.tree.Kind(name)
	if err != nil {
		return "", s.storageErr(what, err)
	}
	switch kind {
	case folders.NotFound:
		return "", no(imap.ResponseCodeTryCreate, "Must create mailbox %s before %s", name, what)
	case folders.FolderOfFolders:
		return "", no(imap.ResponseCodeCannot, "Can't %s to %s: it holds folders, not messages", what, name)
	}
	if err := s.tree.CheckMailbox(path); err != nil {
		return "", s.storageErr(what, err)
	}
	return path, nil
}

// appendTo adds messages to the mailbox at path: into the selected mailbox
// directly, raw at the end when another session holds it (that session
// gives them UIDs), else with UIDs. uidValidity is 0 when no UIDs are known.
func (s *Session) appendTo(path string, msgs []mailbox.NewMessage) (uidValidity uint32, uids []uint32, err error) {
	if s.sel != nil && s.sel.path == path && !s.sel.mbox.ReadOnly() {
		uids, err = s.sel.mbox.Append(msgs)
		return s.sel.mbox.UIDValidity(), uids, err
	}
	if s.sharing() {
		defer tell(path, nil) // sessions of this process holding it look now
	}
	if platform.InUse(path) || (s.sel != nil && s.sel.path == path) {
		return 0, nil, s.storage.AppendHeld(path, msgs)
	}
	return s.storage.AppendTo(path, msgs)
}

// Append stores a message the client sends.
func (s *Session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if err := s.begin("APPEND"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	path, err := s.destination(name, "APPEND")
	if err != nil {
		// The literal must still be read off the wire.
		io.Copy(io.Discard, r)
		return nil, err
	}
	bits, kws, err := parseFlags(options.Flags)
	if err == nil {
		err = s.overQuota("APPEND")
	}
	if err != nil {
		io.Copy(io.Discard, r)
		return nil, err
	}
	msg := mailbox.NewMessage{
		Body: r, Size: r.Size(), Flags: bits, Keywords: kws, Date: options.Time,
		Sender: s.acct.User + "@" + s.deps.Hostname,
	}
	uidValidity, uids, err := s.appendTo(path, []mailbox.NewMessage{msg})
	s.quotaWrote(path)
	if err != nil {
		io.Copy(io.Discard, r)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, no(imap.ResponseCodeTryCreate, "Must create mailbox %s before APPEND", name)
		}
		return nil, s.storageErr("APPEND", err)
	}
	if uidValidity == 0 || len(uids) != 1 {
		return nil, nil
	}
	return &imap.AppendData{UID: imap.UID(uids[0]), UIDValidity: uidValidity}, nil
}

// copyMessages appends messages idx of src to the mailbox at dest in one
// append (all or nothing, so a client that retries a failed COPY does not
// get duplicates), keeping From lines, flags, keywords and dates. Each
// message is opened only when the append reads it and let go at its end,
// so a COPY of a whole big mailbox holds one message buffer at a time. It
// returns the new UIDs (nil when the destination is held elsewhere and
// they are not known).
func copyMessages(src mailbox.Mailbox, idx []int, dest string, store mailbox.Store, raw bool) (*imap.CopyData, error) {
	data := &imap.CopyData{}
	msgs := make([]mailbox.NewMessage, 0, len(idx))
	bodies := make([]*lazyMessage, 0, len(idx))
	held := &heldMessage{}
	for _, i := range idx {
		m := src.Message(i)
		body := &lazyMessage{mb: src, i: i, size: m.Size, held: held}
		bodies = append(bodies, body)
		msgs = append(msgs, mailbox.NewMessage{
			Body: body, Size: m.Size, Flags: m.Flags, Keywords: m.Keywords,
			Date: m.InternalDate, FromLine: m.FromLine, Copy: true,
		})
		data.SourceUIDs.AddNum(imap.UID(m.UID))
	}
	defer func() {
		for _, b := range bodies {
			b.Close()
		}
	}()
	if raw {
		return nil, store.AppendHeld(dest, msgs)
	}
	uidValidity, uids, err := store.AppendTo(dest, msgs)
	if err != nil {
		return nil, err
	}
	data.UIDValidity = uidValidity
	for _, u := range uids {
		data.DestUIDs.AddNum(imap.UID(u))
	}
	return data, nil
}

// lazyMessage reads message i of a mailbox, opening it at the first Read
// and closing it at its end. A message of at most heldMax bytes is read
// whole into the buffer the messages of one copy share (io.Copy converts
// its line ends a run at a time, where Read goes a byte at a time), and
// handed out from there; should a reader come back after another message
// took the buffer, its message is read again.
type lazyMessage struct {
	mb   mailbox.Mailbox
	i    int
	size int64
	held *heldMessage
	pos  int // bytes handed out of a held message
	rc   io.ReadCloser
	done bool
}

// heldMessage is the buffer of one copy's messages.
type heldMessage struct {
	owner *lazyMessage
	buf   bytes.Buffer
}

// heldMax bounds the message a copy reads whole into memory.
const heldMax = 1 << 20

func (l *lazyMessage) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.held != nil && l.size <= heldMax {
		return l.readHeld(p)
	}
	if l.rc == nil {
		rc, err := l.mb.Open(l.i)
		if err != nil {
			return 0, err
		}
		l.rc = rc
	}
	n, err := l.rc.Read(p)
	if err == io.EOF {
		l.Close()
		l.done = true
	}
	return n, err
}

func (l *lazyMessage) readHeld(p []byte) (int, error) {
	h := l.held
	if h.owner != l {
		h.owner = nil
		h.buf.Reset()
		rc, err := l.mb.Open(l.i)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(&h.buf, rc)
		rc.Close()
		if err != nil {
			h.buf.Reset()
			return 0, err
		}
		h.owner = l
	}
	b := h.buf.Bytes()
	if l.pos >= len(b) {
		l.done = true
		if h.owner == l {
			h.owner = nil
		}
		return 0, io.EOF
	}
	n := copy(p, b[l.pos:])
	l.pos += n
	return n, nil
}

func (l *lazyMessage) Close() error {
	if l.rc == nil {
		return nil
	}
	err := l.rc.Close()
	l.rc = nil
	return err
}

// Copy copies messages to another mailbox (COPYUID when UIDs are known).
func (s *Session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	if err := s.begin("COPY"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return s.copy(numSet, dest, "COPY")
}

func (s *Session) copy(numSet imap.NumSet, dest, what string) (*imap.CopyData, error) {
	sel, err := s.needSelected()
	if err != nil {
		return nil, err
	}
	numSet = s.resolveSearchRes(numSet) // SEARCHRES "$"
	idx, err := indexes(sel.mbox, sel.told, numSet)
	if err != nil {
		return nil, err
	}
	path, err := s.destination(dest, what)
	if err != nil {
		return nil, err
	}
	if len(idx) == 0 {
		return nil, nil
	}
	if err := s.overQuota(what); err != nil {
		return nil, err
	}
	defer s.quotaWrote(path)
	if path == sel.path {
		if sel.mbox.ReadOnly() {
			return nil, no(imap.ResponseCodeCannot, "%s refused: mailbox is open read-only", what)
		}
		// Copy into the mailbox itself: read first, then append.
		return s.copySelf(sel, idx)
	}
	data, err := copyMessages(sel.mbox, idx, path, s.storage, platform.InUse(path))
	if s.sharing() {
		tell(path, nil)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, no(imap.ResponseCodeTryCreate, "Must create mailbox %s before %s", dest, what)
	}
	if err != nil {
		return nil, s.storageErr(what, err)
	}
	return data, nil
}

func (s *Session) copySelf(sel *selected, idx []int) (*imap.CopyData, error) {
	data := &imap.CopyData{UIDValidity: sel.mbox.UIDValidity()}
	for _, i := range idx {
		m := sel.mbox.Message(i)
		tmp, err := os.CreateTemp("", "imapd-copy-*")
		if err != nil {
			return nil, s.storageErr("COPY", err)
		}
		os.Remove(tmp.Name())
		rc, err := sel.mbox.Open(i)
		if err == nil {
			_, err = io.Copy(tmp, rc)
			rc.Close()
		}
		if err == nil {
			_, err = tmp.Seek(0, io.SeekStart)
		}
		var uids []uint32
		if err == nil {
			uids, err = sel.mbox.Append([]mailbox.NewMessage{{
				Body: tmp, Size: m.Size, Flags: m.Flags, Keywords: m.Keywords,
				Date: m.InternalDate, FromLine: m.FromLine, Copy: true,
			}})
		}
		tmp.Close()
		if err != nil {
			return nil, s.storageErr("COPY", err)
		}
		data.SourceUIDs.AddNum(imap.UID(m.UID))
		for _, u := range uids {
			data.DestUIDs.AddNum(imap.UID(u))
		}
	}
	return data, nil
}

// Move copies, then expunges the originals (only those).
func (s *Session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if err := s.begin("MOVE"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sel, err := s.needSelected()
	if err != nil {
		return err
	}
	if sel.mbox.ReadOnly() {
		return no(imap.ResponseCodeCannot, "MOVE refused: mailbox is open read-only")
	}
	numSet = s.resolveSearchRes(numSet) // SEARCHRES "$"
	idx, err := indexes(sel.mbox, sel.told, numSet)
	if err != nil {
		return err
	}
	data, err := s.copy(numSet, dest, "MOVE")
	if err != nil {
		return err
	}
	if data != nil {
		if err := w.WriteCopyData(data); err != nil {
			return err
		}
	}
	moved := make(map[uint32]bool, len(idx))
	var marked []int // messages MOVE flagged \Deleted itself
	for _, i := range idx {
		m := sel.mbox.Message(i)
		moved[m.UID] = true
		if m.Flags&mailbox.Deleted != 0 {
			continue
		}
		if err := sel.setFlags(i, m.Flags|mailbox.Deleted, m.Keywords); err != nil {
			s.unmark(sel, marked)
			return s.storageErr("MOVE", err)
		}
		marked = append(marked, i)
	}
	gone, err := sel.mbox.Expunge(func(uid uint32) bool { return moved[uid] })
	if err != nil {
		if !errors.Is(err, mailbox.ErrChanged) {
			// The copies exist; the originals stay as they were rather
			// than flagged \Deleted by a MOVE that did not finish.
			s.unmark(sel, marked)
		}
		return s.expungeErr("MOVE", err)
	}
	for k, i := range gone {
		if err := w.WriteExpunge(uint32(i - k + 1)); err != nil {
			return err
		}
	}
	sel.forget(gone)
	return nil
}

// unmark takes back the \Deleted flag a failed MOVE set.
func (s *Session) unmark(sel *selected, idx []int) {
	for _, i := range idx {
		if i < sel.mbox.Len() {
			m := sel.mbox.Message(i)
			sel.setFlags(i, m.Flags&^mailbox.Deleted, m.Keywords)
		}
	}
}

// Expunge removes messages flagged \Deleted.
func (s *Session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	if err := s.begin("EXPUNGE"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	sel, err := s.needSelected()
	if err != nil {
		return err
	}
	if sel.mbox.ReadOnly() {
		// go-imap's CLOSE calls Expunge with a writer that writes
		// nothing; CLOSE of a read-only mailbox removes nothing and
		// answers OK (RFC 3501 6.4.2). An EXPUNGE that removed nothing
		// fails: a client must not believe its messages are gone.
		if *w == (imapserver.ExpungeWriter{}) {
			return nil
		}
		return no(imap.ResponseCode("READ-ONLY"), "Expunge ignored on readonly mailbox")
	}
	// Only messages the client knows of: one delivered since the last
	// EXISTS (even one that arrived flagged \Deleted) is not its to remove.
	uids = s.resolveSearchResUIDs(uids) // SEARCHRES "$"
	told := min(sel.told, sel.mbox.Len())
	if told == 0 {
		return nil
	}
	maxUID := sel.mbox.Message(told - 1).UID
	filter := func(uid uint32) bool { return uid <= maxUID }
	if uids != nil {
		filter = func(uid uint32) bool { return uid <= maxUID && uidIn(*uids, uid, maxUID) }
	}
	gone, err := sel.mbox.Expunge(filter)
	if err != nil {
		return s.expungeErr("EXPUNGE", err)
	}
	for k, i := range gone {
		if err := w.WriteExpunge(uint32(i - k + 1)); err != nil {
			return err
		}
	}
	sel.forget(gone)
	return nil
}

func (s *Session) expungeErr(what string, err error) error {
	if errors.Is(err, mailbox.ErrChanged) {
		s.deps.Log.Errorf("%s %s: %v", what, s.who(), err)
		return s.fatal("Fatal mailbox error: mailbox changed by another program")
	}
	return s.storageErr(what, err)
}
