//go:build unix

package platform

import (
	"errors"
	"fmt"
	"os"
	"time"

	"imapd/platform/unix"
)

// lockCluster is lockAcross with lock_id set: the session lock is the
// cluster lock beside the mailbox (unix.TryClusterLock), seen by every host
// sharing the spool. The holder, wherever it runs, is asked through its
// lock file and lets go within unix.ClusterPoll (watchCluster); a holder
// that does not (a host that hangs, a session stuck in a long command)
// leaves the new session read-only after LetGoTimeout, as UW does.
func lockCluster(path string, fi os.FileInfo, c *Claim, deadline time.Time, id string) (notices []string, ok bool) {
	wait := 5 * time.Millisecond
	told := false
	for {
		l, h, err := unix.TryClusterLock(path, fi, id, func(msg string) { Warnf("%s", msg) })
		if errors.Is(err, unix.ErrForeignLock) {
			return notices, true // as lockAcross: planted, it decides nothing
		}
		if err != nil {
			Warnf("%v", err)
			return append(notices, noticeReadOnly), false
		}
		if l != nil {
			c.across = l
			go watchCluster(c, l, unix.ClusterPoll)
			return notices, true
		}
		if !told && h.PID > 0 {
			if h.Host == unix.SafeLockID(id) {
				notices = append(notices, fmt.Sprintf(noticeTryingProcess, h.PID))
			} else {
				notices = append(notices, fmt.Sprintf(noticeTryingProcess+" on %s", h.PID, h.Host))
			}
			told = true
		}
		if time.Now().After(deadline) {
			return append(notices, noticeReadOnly), false
		}
		t := time.NewTimer(min(wait, time.Until(deadline)+time.Millisecond))
		<-t.C
		wait = min(2*wait, maxClusterPoll)
	}
}

// maxClusterPoll is the longest pause between two tries of a cluster lock
// someone else holds (each try is a few requests to the file server).
const maxClusterPoll = 100 * time.Millisecond

// watchCluster looks at the claim's lock file until it is released: when
// another session asks for it, or it was broken (this host could not
// refresh it in time), the claim's session is told to let go.
func watchCluster(c *Claim, l *unix.ClusterLock, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-l.Done():
			return
		case <-t.C:
		}
		switch l.Check() {
		case unix.ClusterWanted:
			c.tellLetGo()
			return
		case unix.ClusterLost:
			Warnf("session lock %s was broken by another session (not refreshed in time); letting the mailbox go", l.Name())
			c.tellLetGo()
			return
		}
	}
}

// heldCluster is heldAcross with lock_id set.
func heldCluster(path string, fi os.FileInfo, id string) bool {
	return unix.ClusterHeldBy(path, fi, id)
}

// clusterID is the lock_id in force, "" when none.
func clusterID() string {
	if p := lockID.Load(); p != nil {
		return *p
	}
	return ""
}
