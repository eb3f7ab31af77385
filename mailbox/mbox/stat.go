package mbox

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"

	"imapd/mailbox"
)

// Stat returns the STATUS of a mailbox no session here has open. Recent
// counts messages without "O". Unless opt.ReadOnly (or the file cannot be
// written), the UID state is persisted first, so the UIDVALIDITY and UIDNEXT
// reported stay valid; nobody's \Recent is claimed. The file is read as a
// reader (lockRead: no dot-lock, the index when it is sound); only when
// something must be written is it locked and read again as a writer.
func Stat(path string, opt Options) (mailbox.Status, error) {
	if err := recoverIfJournal(path, &opt); err != nil {
		return mailbox.Status{}, err
	}
	m := &Mailbox{path: path, opt: opt, ro: opt.ReadOnly}
	if !m.ro {
		// A new UIDVALIDITY found here (a file without UID state) is
		// written by statWrite, which chooses it again: it must raise the
		// user's high-water mark only once.
		m.opt.ValidityFile = ""
	}
	h, err := lockRead(path, &m.opt)
	if err != nil {
		return mailbox.Status{}, err
	}
	if err := m.loadAll(h); err != nil {
		h.release()
		return mailbox.Status{}, err
	}
	if m.ro || m.clean() {
		m.saveIndex(h.f)
		h.release()
		return m.status(), nil
	}
	h.release()
	w := &Mailbox{path: path, opt: opt}
	switch st, err := w.statWrite(); {
	case err == nil:
		return st, nil
	case errors.Is(err, fs.ErrPermission):
		return m.status(), nil // UW: read-only access; what the file says
	default:
		return mailbox.Status{}, err
	}
}

// statWrite is Stat for a file whose UID state must be written.
func (m *Mailbox) statWrite() (mailbox.Status, error) {
	h, err := lockMailbox(m.path, &m.opt, true, 0)
	if err != nil {
		return mailbox.Status{}, err
	}
	defer h.release()
	if _, err := recoverJournal(m.path, h.f); err != nil {
		return mailbox.Status{}, err
	}
	if err := m.loadAll(h); err != nil {
		return mailbox.Status{}, err
	}
	if err := m.commit(h, nil); err != nil {
		return mailbox.Status{}, err
	}
	m.saveIndex(h.f)
	return m.status(), nil
}

// clean reports whether a checkpoint would write nothing.
func (m *Mailbox) clean() bool {
	p := m.buildPlan(nil)
	return len(p.patches) == 0 && p.tail < 0
}

func (m *Mailbox) status() mailbox.Status {
	s := mailbox.Status{UIDNext: m.uidLast + 1, UIDValidity: m.uidValidity, Messages: uint32(len(m.msgs))}
	for _, msg := range m.msgs {
		if msg.recent {
			s.Recent++
		}
		if msg.flags&mailbox.Seen == 0 {
			s.Unseen++
		}
		if msg.flags&mailbox.Deleted != 0 {
			s.Deleted++
			s.DeletedSize += msg.size
		}
		s.Size += msg.size
	}
	return s
}

// Initialize writes the "FOLDER INTERNAL DATA" pseudo-message into an empty
// file, as UW's CREATE does (docs/formats.md §3): UIDVALIDITY now, uidlast 0.
// A file that is not empty is left alone.
func Initialize(path string, opt Options) error {
	h, err := lockMailbox(path, &opt, true, 0)
	if err != nil {
		return err
	}
	defer h.release()
	if _, err := recoverJournal(path, h.f); err != nil {
		return err
	}
	st, err := h.f.Stat()
	if err != nil {
		return fmt.Errorf("stat mailbox %s: %w", path, err)
	}
	if st.Size() != 0 {
		return nil
	}
	now := opt.now()
	b := makePseudoMessage(now, opt.hostname(), opt.newValidity(0), 0, nil)
	if _, err := writeAtEnd(h.f, 0, func(w *bufio.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("initialize mailbox %s: %w", path, err)
	}
	return nil
}
