package session

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/folders"
	"imapd/mailbox"
	"imapd/mailbox/mbox"
	"imapd/platform"
)

// copyBatch bounds how many messages are streamed into one append, so a
// COPY of a whole big mailbox holds few files and little memory at once.
const copyBatch = 64

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
	if err := folders.CheckFile(path); err != nil {
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
	if platform.InUse(path) || (s.sel != nil && s.sel.path == path) {
		return 0, nil, mbox.AppendRaw(path, msgs, s.mboxOptions(false))
	}
	return mbox.AppendTo(path, msgs, s.mboxOptions(false))
}

// Append stores a message the client sends.
func (s *Session) Append(name string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path, err := s.destination(name, "APPEND")
	if err != nil {
		// The literal must still be read off the wire.
		io.Copy(io.Discard, r)
		return nil, err
	}
	bits, kws, err := parseFlags(options.Flags)
	if err != nil {
		io.Copy(io.Discard, r)
		return nil, err
	}
	msg := mailbox.NewMessage{
		Body: r, Size: r.Size(), Flags: bits, Keywords: kws, Date: options.Time,
		Sender: s.acct.User + "@" + s.deps.Hostname,
	}
	uidValidity, uids, err := s.appendTo(path, []mailbox.NewMessage{msg})
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

// copyMessages appends messages idx of src to the mailbox at dest in
// batches, keeping From lines, flags, keywords and dates. It returns the
// new UIDs (nil when the destination is held elsewhere and they are not
// known).
func copyMessages(src mailbox.Mailbox, idx []int, dest string, opt mbox.Options, raw bool) (*imap.CopyData, error) {
	data := &imap.CopyData{}
	known := !raw
	for start := 0; start < len(idx); start += copyBatch {
		end := min(start+copyBatch, len(idx))
		var msgs []mailbox.NewMessage
		var closers []io.Closer
		for _, i := range idx[start:end] {
			m := src.Message(i)
			rc, err := src.Open(i)
			if err != nil {
				closeAll(closers)
				return nil, err
			}
			closers = append(closers, rc)
			msgs = append(msgs, mailbox.NewMessage{
				Body: rc, Size: m.Size, Flags: m.Flags, Keywords: m.Keywords,
				Date: m.InternalDate, FromLine: m.FromLine,
			})
			data.SourceUIDs.AddNum(imap.UID(m.UID))
		}
		var err error
		var uidValidity uint32
		var uids []uint32
		if raw {
			err = mbox.AppendRaw(dest, msgs, opt)
		} else {
			uidValidity, uids, err = mbox.AppendTo(dest, msgs, opt)
		}
		closeAll(closers)
		if err != nil {
			return nil, err
		}
		data.UIDValidity = uidValidity
		for _, u := range uids {
			data.DestUIDs.AddNum(imap.UID(u))
		}
	}
	if !known {
		return nil, nil
	}
	return data, nil
}

func closeAll(cs []io.Closer) {
	for _, c := range cs {
		c.Close()
	}
}

// Copy copies messages to another mailbox (COPYUID when UIDs are known).
func (s *Session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copy(numSet, dest, "COPY")
}

func (s *Session) copy(numSet imap.NumSet, dest, what string) (*imap.CopyData, error) {
	sel, err := s.needSelected()
	if err != nil {
		return nil, err
	}
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
	if path == sel.path {
		if sel.mbox.ReadOnly() {
			return nil, no(imap.ResponseCodeCannot, "%s refused: mailbox is open read-only", what)
		}
		// Copy into the mailbox itself: read first, then append.
		return s.copySelf(sel, idx)
	}
	data, err := copyMessages(sel.mbox, idx, path, s.mboxOptions(false), platform.InUse(path))
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
				Date: m.InternalDate, FromLine: m.FromLine,
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
	s.mu.Lock()
	defer s.mu.Unlock()
	sel, err := s.needSelected()
	if err != nil {
		return err
	}
	if sel.mbox.ReadOnly() {
		return no(imap.ResponseCodeCannot, "MOVE refused: mailbox is open read-only")
	}
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
	for _, i := range idx {
		m := sel.mbox.Message(i)
		moved[m.UID] = true
		if err := sel.mbox.SetFlags(i, m.Flags|mailbox.Deleted, m.Keywords); err != nil {
			return s.storageErr("MOVE", err)
		}
	}
	gone, err := sel.mbox.Expunge(func(uid uint32) bool { return moved[uid] })
	if err != nil {
		return s.expungeErr("MOVE", err)
	}
	for k, i := range gone {
		if err := w.WriteExpunge(uint32(i - k + 1)); err != nil {
			return err
		}
	}
	sel.told -= len(gone)
	return nil
}

// Expunge removes messages flagged \Deleted.
func (s *Session) Expunge(w *imapserver.ExpungeWriter, uids *imap.UIDSet) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sel, err := s.needSelected()
	if err != nil {
		return err
	}
	if sel.mbox.ReadOnly() {
		// go-imap's CLOSE calls Expunge with a writer that writes
		// nothing; CLOSE of a read-only mailbox removes nothing, silently
		// (RFC 3501 6.4.2). An EXPUNGE is told why nothing happened.
		if *w != (imapserver.ExpungeWriter{}) {
			s.conn.Notice("* NO Expunge ignored on readonly mailbox")
		}
		return nil
	}
	var filter func(uint32) bool
	if uids != nil {
		maxUID := sel.mbox.UIDNext()
		filter = func(uid uint32) bool { return uidIn(*uids, uid, maxUID) }
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
	sel.told -= len(gone)
	return nil
}

func (s *Session) expungeErr(what string, err error) error {
	if errors.Is(err, mailbox.ErrChanged) {
		s.sel.mbox = closedMailbox{s.sel.mbox}
		return s.fatal("Fatal mailbox error: mailbox changed by another program")
	}
	return s.storageErr(what, err)
}
