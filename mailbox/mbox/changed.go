package mbox

import (
	"fmt"
	"os"

	"imapd/mailbox"
)

// Changed reports, at the cost of one stat, whether another session or
// program wrote the file since this Mailbox last read it: the file is not
// as this Mailbox last left it (identity, size or modification time), or
// an operation of ours found it so (noteForeign) and absorbed only part
// of the change (new mail, not a flag changed in place). Sessions sharing
// a mailbox (imapd_shared_mailboxes) read it again only then.
func (m *Mailbox) Changed() bool {
	if m.dead != nil || m.fi == nil || m.foreign {
		return true
	}
	st, err := os.Stat(m.path)
	if err != nil {
		return true
	}
	return !os.SameFile(st, m.fi) || st.Size() != m.size || !st.ModTime().Equal(m.fi.ModTime())
}

// Strict makes every later operation that locks the file refuse, before
// it reads or writes anything, a file that is not as this Mailbox last
// left it (ErrChanged; the Mailbox is then dead and must be opened
// again). For sessions sharing a mailbox: another session may have
// rewritten it, and From lines of the same text (mail delivered within
// one second) can stand at the old offsets of other messages, which the
// checks of Sync and commit would take for the messages they know.
func (m *Mailbox) Strict() { m.strict = true }

// noteForeign is called under the lock, before an operation: a file that
// differs from what we last saw was written by someone else, and the
// operation is about to update what we saw (or, Strict, refuses to).
func (m *Mailbox) noteForeign(st os.FileInfo) error {
	if st.Size() == m.size && st.ModTime().Equal(m.fi.ModTime()) {
		return nil
	}
	m.foreign = true
	if m.strict {
		return fmt.Errorf("mailbox %s: %w", m.path, mailbox.ErrStale)
	}
	return nil
}
