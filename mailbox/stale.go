package mailbox

import "fmt"

// ErrStale: the mailbox was written by another program since this Mailbox
// last read it, and the operation refused to start: nothing was written,
// and it may be tried again on the mailbox opened again. It is an
// ErrChanged (the Mailbox is dead). Returned only by a Mailbox told to be
// strict about it (sessions sharing a mailbox, imapd_shared_mailboxes).
var ErrStale = fmt.Errorf("written by another program since it was read (%w)", ErrChanged)
