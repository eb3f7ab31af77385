package mbox

import "os"

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

// noteForeign is called under the lock, before an operation: a file that
// differs from what we last saw was written by someone else, and the
// operation is about to update what we saw.
func (m *Mailbox) noteForeign(st os.FileInfo) {
	if st.Size() != m.size || !st.ModTime().Equal(m.fi.ModTime()) {
		m.foreign = true
	}
}
