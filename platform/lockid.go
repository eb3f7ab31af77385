package platform

import "sync/atomic"

// lockID is dmail.conf's lock_id: with it set, the unix session lock is
// the cluster lock on the shared file system (see cluster_unix.go) instead
// of UW's /tmp lock. Windows keeps its sharing-mode hold either way (a
// file server enforces share modes for every client).
var lockID atomic.Pointer[string]

// SetLockID sets this server's lock_id ("" = none: UW's /tmp session
// lock). cmd/imapd calls it with the configuration of each connection;
// claims already made keep the lock they took.
func SetLockID(id string) { lockID.Store(&id) }
