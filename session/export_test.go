package session

// SetTestHooks makes every session call lock(what) before a command (what:
// its name, "POLL" and "IDLE" for updates) takes the session's lock, and
// letGo after letGo has let the mailbox go and before it says BYE. It
// returns a function that removes them.
func SetTestHooks(lock func(what string), letGo func()) (remove func()) {
	hooks.Store(&testHooks{lock: lock, letGo: letGo})
	return func() { hooks.Store(nil) }
}
