package mailbox

import "errors"

// Store reaches the mailboxes of one on-disk format by path. The folders
// package decides which path a mailbox name has; the format decides the
// bytes at that path (as Dovecot splits mailbox-list from mail-storage, and
// UW c-client has one driver per format). The session holds one Store, chosen
// per user from the configuration when the user logs in.
type Store interface {
	// Open opens the mailbox at path for a session.
	Open(path string, readOnly bool) (Mailbox, error)
	// Stat reports a mailbox that is not selected. readOnly: another
	// session holds it, so nothing it could notice may change (mbox
	// writes nothing; maildir still records the UIDs of new files in its
	// uid list, under the list's lock, as every writer of it does, so a
	// UID shown is never given to another message).
	Stat(path string, readOnly bool) (Status, error)
	// CreateInbox makes the INBOX at path when it does not exist yet (mbox:
	// an empty drop file, without UW's internal-data message, which a POP3
	// server would deliver as mail).
	CreateInbox(path string) error
	// Initialize gives a new (empty) mailbox at path its first state: UID
	// validity, and whatever else the format keeps.
	Initialize(path string) error
	// AppendTo appends to a mailbox no session holds and returns its UID
	// validity and the new messages' UIDs.
	AppendTo(path string, msgs []NewMessage) (uidValidity uint32, uids []uint32, err error)
	// AppendHeld appends to a mailbox another session holds, in a way that
	// session takes in (it gives the UIDs).
	AppendHeld(path string, msgs []NewMessage) error
	// Recover finishes whatever a crash interrupted in the mailbox at path,
	// before it is renamed or deleted. An error wrapping ErrOrphanJournal
	// means something left by a crash was set aside, not applied: the
	// mailbox is usable.
	Recover(path string) error
}

// ErrOrphanJournal: Recover found crash state written for another mailbox
// (the mailbox was renamed or deleted after a crash and the name reused)
// and set it aside instead of applying it.
var ErrOrphanJournal = errors.New("crash journal of another file moved aside")
