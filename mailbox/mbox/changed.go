package mbox

import "os"

// Changed reports, at the cost of one stat, whether the file is no longer
// as this Mailbox last read or wrote it (another identity, size or
// modification time): another session or program changed it. Sessions
// sharing a mailbox (imapd_shared_mailboxes) read it again only then: a
// flag change written in place by another session is invisible to Sync.
func (m *Mailbox) Changed() bool {
	if m.dead != nil || m.fi == nil {
		return true
	}
	st, err := os.Stat(m.path)
	if err != nil {
		return true
	}
	return !os.SameFile(st, m.fi) || st.Size() != m.size || !st.ModTime().Equal(m.fi.ModTime())
}
