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
// reported stay valid; nobody's \Recent is claimed.
func Stat(path string, opt Options) (mailbox.Status, error) {
	m := &Mailbox{path: path, opt: opt, ro: opt.ReadOnly}
	if m.ro {
		if err := recoverIfJournal(path, &opt); err != nil {
			return mailbox.Status{}, err
		}
	}
	var h *held
	var err error
	if m.ro {
		h, err = lockRead(path, &m.opt)
	} else {
		h, err = lockMailbox(path, &m.opt, true, 0)
		if err != nil && errors.Is(err, fs.ErrPermission) {
			m.ro = true
			h, err = lockRead(path, &m.opt)
		}
	}
	if err != nil {
		return mailbox.Status{}, err
	}
	defer h.release()
	if !m.ro {
		if _, err := recoverJournal(path, h.f); err != nil {
			return mailbox.Status{}, err
		}
	}
	if err := m.loadAll(h); err != nil {
		return mailbox.Status{}, err
	}
	if !m.ro {
		if err := m.commit(h, nil); err != nil {
			return mailbox.Status{}, err
		}
	}
	s := mailbox.Status{UIDNext: m.uidLast + 1, UIDValidity: m.uidValidity, Messages: uint32(len(m.msgs))}
	for _, msg := range m.msgs {
		if msg.recent {
			s.Recent++
		}
		if msg.flags&mailbox.Seen == 0 {
			s.Unseen++
		}
		s.Size += msg.size
	}
	return s, nil
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
