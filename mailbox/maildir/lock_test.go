package maildir

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"imapd/mailbox"
)

// deadPID is the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// A lock whose holder on this host is gone is broken at once, long before
// it is stale by age.
func TestLockHolderGone(t *testing.T) {
	if !readLocks {
		t.Skip("locks are not read on this OS: the age rule only")
	}
	dir := newDir(t)
	lock := filepath.Join(dir, lockName)
	os.WriteFile(lock, fmt.Appendf(nil, "%d %s\n", deadPID(t), lockHost()), 0o600)
	unlock, err := lockList(dir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if _, err := os.Lstat(lock); err == nil {
		t.Error("lock left after release")
	}
}

// A lock of another host (or that says nothing) is broken by age only.
func TestLockAgeRule(t *testing.T) {
	dir := newDir(t)
	lock := filepath.Join(dir, lockName)
	os.WriteFile(lock, []byte("123 elsewhere\n"), 0o600)
	if _, err := lockList(dir, 20*time.Millisecond); !errors.Is(err, mailbox.ErrLocked) {
		t.Fatalf("young foreign lock: %v", err)
	}
	old := time.Now().Add(-2 * staleLock)
	os.Chtimes(lock, old, old)
	unlock, err := lockList(dir, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}

// A holder keeps its lock young while it holds it, however long.
func TestLockRefreshed(t *testing.T) {
	defer func(r time.Duration) { refreshEvery = r }(refreshEvery)
	refreshEvery = 5 * time.Millisecond
	dir := newDir(t)
	lock := filepath.Join(dir, lockName)
	unlock, err := lockList(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	first, _ := os.Lstat(lock)
	deadline := time.Now().Add(10 * time.Second)
	for refreshed := 0; refreshed < 3; {
		fi, err := os.Lstat(lock)
		if err != nil {
			t.Fatal(err)
		}
		if fi.ModTime().After(first.ModTime()) {
			refreshed++
			first = fi
		}
		if time.Now().After(deadline) {
			t.Fatal("the lock was not refreshed")
		}
		time.Sleep(time.Millisecond)
	}
}

// Breaking a lock looked at as stale never breaks the live lock that
// stands there by then (refreshed, or made anew): it is put back.
func TestLockSeizeKeepsLiveLock(t *testing.T) {
	dir := newDir(t)
	lock := filepath.Join(dir, lockName)
	os.WriteFile(lock, []byte("123 elsewhere\n"), 0o600)
	old := time.Now().Add(-2 * staleLock)
	os.Chtimes(lock, old, old)
	stale := lstat(t, lock)
	// Its holder refreshes it before the breaker acts.
	now := time.Now()
	os.Chtimes(lock, now, now)
	seizeStale(lock, stale, "test")
	if fi, err := os.Lstat(lock); err != nil || !fi.ModTime().Equal(now) {
		t.Fatalf("live lock broken: %v", err)
	}
	// Made anew after a release: kept too.
	os.Remove(lock)
	os.WriteFile(lock, []byte("124 elsewhere\n"), 0o600)
	seizeStale(lock, stale, "test")
	if b, err := os.ReadFile(lock); err != nil || string(b) != "124 elsewhere\n" {
		t.Fatalf("new lock broken: %q %v", b, err)
	}
	// The stale one itself is broken.
	os.Chtimes(lock, old, old)
	stale = lstat(t, lock)
	seizeStale(lock, stale, "test")
	if _, err := os.Lstat(lock); err == nil {
		t.Fatal("stale lock kept")
	}
	// A release removes only its own lock.
	unlock, err := lockList(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(lock)
	os.WriteFile(lock, []byte("125 elsewhere\n"), 0o600)
	unlock()
	if b, _ := os.ReadFile(lock); string(b) != "125 elsewhere\n" {
		t.Fatalf("release removed another's lock: %q", b)
	}
}
