package server

// SEARCHRES (RFC 5182) needs two things of the connection that go-imap
// does not give the session: whether the running command is a UID command
// ("$" means UIDs there, sequence numbers elsewhere; go-imap passes the
// same marker for both), and the ESEARCH line of a SEARCH RETURN (SAVE)
// dropped (guard.go, output.go). A NO the guard gives a SEARCH ... SAVE
// empties the saved result.

// RunningCommand is the name of the command go-imap is running, upper
// case, "UID FETCH" for UID commands (session.commandNamer): the session
// tells "$" in UID commands from the others by it, and LSUB from LIST
// (SUBSCRIBED), which go-imap passes alike. It is called from go-imap's
// goroutine, which is also the guard's.
func (c *conn) RunningCommand() string {
	return c.guard.cmd.name
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
