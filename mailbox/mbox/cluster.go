package mbox

// readsOnFileLock reports whether a reader may go without the dot-lock,
// on the file lock alone (lockRead). Not with lock_id set: the spool is
// shared by several hosts, over NFS, where flock is emulated by byte-range
// locks or, mounted with nolock, stays local to each host; a rewrite by
// another host (EXPUNGE) would then not wait for this host's readers.
// Readers take the dot-lock there, as writers do (docs/cluster.md).
func (o *Options) readsOnFileLock() bool { return o.LockID == "" }
