package maildir

// Changed reports, at the cost of four stats, whether the directories may
// have changed since this Mailbox last read them (see stamp): Sync then
// reads them again. Sessions sharing a mailbox (imapd_shared_mailboxes)
// compare flags only then.
func (m *Mailbox) Changed() bool {
	now, ok := takeStamp(m.dir)
	return !ok || !m.seen.unchanged(now)
}

// Gone reports whether message i's file vanished (another session or
// program removed it); it stays in the view until Expunge drops it.
func (m *Mailbox) Gone(i int) bool { return m.msgs[i].gone }
