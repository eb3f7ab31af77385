package server

import "strings"

// SEARCHRES (RFC 5182) needs two things of the connection that go-imap
// does not give the session: whether the running command is a UID command
// ("$" means UIDs there, sequence numbers elsewhere; go-imap passes the
// same marker for both), and the ESEARCH line of a SEARCH RETURN (SAVE)
// dropped (guard.go, output.go).

// UIDCommand reports whether the command go-imap is running is a UID
// command (session.uidCommander). It is called from go-imap's goroutine,
// which is also the guard's.
func (c *conn) UIDCommand() bool {
	return strings.HasPrefix(c.guard.cmd.name, "UID ")
}

// searchResSession is a session with SEARCHRES (session.Session).
type searchResSession interface {
	ClearSearchResult()
}

// initSearchRes wires the guard to the output and the session.
func (c *conn) initSearchRes(inner any) {
	c.guard.dropESearch = c.out.dropESearch
	if s, ok := inner.(searchResSession); ok {
		c.guard.clearSearchRes = s.ClearSearchResult
	}
}
