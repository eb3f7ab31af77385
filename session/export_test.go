package session

// SetTestHooks makes every session call lock(what) before a command (what:
// its name, "POLL" and "IDLE" for updates) takes the session's lock, and
// letGo after letGo has let the mailbox go and before it says BYE. It
// returns a function that removes them.
func SetTestHooks(lock func(what string), letGo func()) (remove func()) {
	hooks.Store(&testHooks{lock: lock, letGo: letGo})
	return func() { hooks.Store(nil) }
}

// SetFetchLines turns the session's own encoding of simple FETCH responses
// (fetchlines.go) on or off; off, go-imap writes them all. It returns a
// function that turns it back on.
func SetFetchLines(on bool) (restore func()) {
	fetchLinesOff.Store(!on)
	return func() { fetchLinesOff.Store(false) }
}
