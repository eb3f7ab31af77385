//go:build unix

package platform

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"imapd/platform/unix"
)

// Two servers of a cluster (lock_id hosta and hostb; here one process
// plays both): the later session asks through the lock file, the holder's
// watcher tells its session to let go, the later one gets the mailbox
// read-write. When the holder does not let go, the later one ends
// read-only at its deadline.
func TestClusterClaimHandOver(t *testing.T) {
	defer func(p time.Duration) { unix.ClusterPoll = p }(unix.ClusterPoll)
	unix.ClusterPoll = 10 * time.Millisecond
	path := filepath.Join(t.TempDir(), "alice")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan struct{})
	a := &Claim{key: "a", released: make(chan struct{}), letGo: func() { close(asked) }}
	if notices, ok := lockCluster(path, fi, a, time.Now().Add(time.Second), "hosta"); !ok || len(notices) != 0 {
		t.Fatalf("first claim: ok %v notices %q", ok, notices)
	}

	// Holder does not let go: read-only at the deadline.
	stubborn := &Claim{key: "b0", released: make(chan struct{})}
	notices, ok := lockCluster(path, fi, stubborn, time.Now().Add(300*time.Millisecond), "hostb")
	trying := fmt.Sprintf(noticeTryingProcess+" on hosta", os.Getpid())
	if ok || !slices.Equal(notices, []string{trying, noticeReadOnly}) {
		t.Fatalf("stubborn holder: ok %v notices %q", ok, notices)
	}
	<-asked // the watcher saw the request

	// Now it lets go when asked.
	go func() { releaseAcross(a) }()
	b := &Claim{key: "b", released: make(chan struct{})}
	notices, ok = lockCluster(path, fi, b, time.Now().Add(LetGoTimeout), "hostb")
	if !ok {
		t.Fatalf("second claim read-only: %q", notices)
	}
	name, _ := unix.ClusterLockName(path, fi)
	if b, err := os.ReadFile(name); err != nil || string(b) != fmt.Sprintf("%d hostb\n", os.Getpid()) {
		t.Fatalf("lock now %q %v", b, err)
	}
	if !heldCluster(path, fi, "hosta") {
		t.Fatal("heldCluster does not see hostb's lock")
	}
	releaseAcross(b)
	if _, err := os.Lstat(name); !os.IsNotExist(err) {
		t.Fatalf("lock left after release: %v", err)
	}
	if heldCluster(path, fi, "hosta") {
		t.Fatal("heldCluster after release")
	}
}
