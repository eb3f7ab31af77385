package server

import (
	"github.com/emersion/go-imap/v2"
)

// IMAP4rev2 (RFC 9051) is offered next to IMAP4rev1. Once a client sent
// ENABLE IMAP4rev2, go-imap answers as an IMAP4rev2 server (ESEARCH to
// every SEARCH, no RECENT in SELECT, [CLOSED] when another mailbox is
// selected, mailbox names in UTF-8); the guard then reads mailbox names
// as go-imap does (UTF-8 characters as they are, validated:
// folders.CheckWireNameUTF8) and refuses the search keys RECENT, NEW and
// OLD, and the session leaves \Recent out of FETCH FLAGS (it asks
// IMAP4rev2 below). The state is go-imap's own (Conn.EnabledCaps), so
// the three never disagree.

// IMAP4rev2 reports whether the client enabled IMAP4rev2 (the session's
// hook; it asks per message, so it only reads what the guard last learnt
// from go-imap: the guard asks before judging every command, and a
// capability, once enabled, stays enabled).
func (c *conn) IMAP4rev2() bool {
	return c.rev2.Load()
}

// enabledCap reports whether go-imap has capability cp enabled on this
// connection (go-imap copies its set for each call).
func (c *conn) enabledCap(cp imap.Cap) bool {
	c.mu.Lock()
	ic := c.ic
	c.mu.Unlock()
	on := ic != nil && ic.EnabledCaps().Has(cp)
	if on && cp == imap.CapIMAP4rev2 {
		c.rev2.Store(true)
	}
	return on
}

// utf8Names: mailbox names may hold raw UTF-8 (IMAP4rev2 or UTF8=ACCEPT
// enabled, as go-imap decides: imapwire's QuotedUTF8).
func (g *guard) utf8Names() bool {
	return g.enabled != nil && (g.enabled(imap.CapIMAP4rev2) || g.enabled(imap.CapUTF8Accept))
}

// isRev2: the client enabled IMAP4rev2. final asks it for every command,
// which also keeps conn.IMAP4rev2 up to date.
func (g *guard) isRev2() bool {
	return g.enabled != nil && g.enabled(imap.CapIMAP4rev2)
}

// quoteName quotes a mailbox name the client sent (checked by the guard)
// for an answer the guard writes: under IMAP4rev2 its UTF-8 characters go
// back as they came.
func (g *guard) quoteName(name string) string {
	return quoteString(name, g.utf8Names())
}
