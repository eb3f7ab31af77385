//go:build unix

package unix

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// clusterMailbox makes a mailbox file and returns its path and info.
func clusterMailbox(t *testing.T) (string, os.FileInfo) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "alice")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, fi
}

func clusterTry(t *testing.T, path string, fi os.FileInfo, id string) (*ClusterLock, ClusterHolder, []string) {
	t.Helper()
	var warned []string
	l, h, err := TryClusterLock(path, fi, id, func(m string) { warned = append(warned, m) })
	if err != nil {
		t.Fatalf("TryClusterLock: %v", err)
	}
	return l, h, warned
}

func readLock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// plantClusterLock writes a lock file as another holder left it, aged by age.
func plantClusterLock(t *testing.T, path string, fi os.FileInfo, content string, age time.Duration) string {
	t.Helper()
	name, _ := ClusterLockName(path, fi)
	if err := os.WriteFile(name, []byte(content), 0o666); err != nil {
		t.Fatal(err)
	}
	if age > 0 {
		old := time.Now().Add(-age)
		if err := os.Chtimes(name, old, old); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

func TestClusterLockNameBesideMailbox(t *testing.T) {
	path, fi := clusterMailbox(t)
	name, ok := ClusterLockName(path, fi)
	_, ino, _ := inode(fi)
	if !ok || name != filepath.Join(filepath.Dir(path), ".imapd-session."+strconv.FormatUint(ino, 16)) {
		t.Fatalf("lock name %q", name)
	}
}

// A second session (another host) asks; the holder sees it; after the
// holder lets go the second gets the lock. Nothing is left behind.
func TestClusterLockAskAndHandOver(t *testing.T) {
	path, fi := clusterMailbox(t)
	a, _, _ := clusterTry(t, path, fi, "host a")
	if a == nil {
		t.Fatal("first lock not taken")
	}
	want := strconv.Itoa(os.Getpid()) + " host_a\n"
	if got := readLock(t, a.Name()); got != want {
		t.Fatalf("lock content %q, want %q", got, want)
	}
	if c := a.Check(); c != ClusterHeld {
		t.Fatalf("Check before any request = %v", c)
	}
	b, h, warned := clusterTry(t, path, fi, "hostb")
	if b != nil || h.PID != os.Getpid() || h.Host != "host_a" || len(warned) != 0 {
		t.Fatalf("second try: lock %v holder %+v warned %q", b, h, warned)
	}
	// A second request adds nothing: the file stays small.
	clusterTry(t, path, fi, "hostb")
	if got := readLock(t, a.Name()); strings.Count(got, "wants") != 1 || !strings.HasPrefix(got, want) {
		t.Fatalf("lock content after requests %q", got)
	}
	if c := a.Check(); c != ClusterWanted {
		t.Fatalf("Check after request = %v, want ClusterWanted", c)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	<-a.Done()
	b, _, _ = clusterTry(t, path, fi, "hostb")
	if b == nil {
		t.Fatal("lock not taken after the holder let go")
	}
	if got := readLock(t, b.Name()); got != strconv.Itoa(os.Getpid())+" hostb\n" {
		t.Fatalf("new lock content %q", got)
	}
	b.Unlock()
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Fatalf("left behind: %v", names)
	}
}

// A lock of another host is broken only when it was not refreshed for
// ClusterStale (by the file system's clock).
func TestClusterLockOtherHostStale(t *testing.T) {
	path, fi := clusterMailbox(t)
	name := plantClusterLock(t, path, fi, "4242 hostb\n", 0)
	l, h, _ := clusterTry(t, path, fi, "hosta")
	if l != nil || h.PID != 4242 || h.Host != "hostb" {
		t.Fatalf("fresh lock of another host: lock %v holder %+v", l, h)
	}
	old := time.Now().Add(-ClusterStale - time.Minute)
	if err := os.Chtimes(name, old, old); err != nil {
		t.Fatal(err)
	}
	// DELETE's question does not judge the age (it has no server time).
	if !ClusterHeldBy(path, fi, "hosta") {
		t.Fatal("ClusterHeldBy: an old lock of another host does not count")
	}
	l, _, warned := clusterTry(t, path, fi, "hosta")
	if l == nil {
		t.Fatal("stale lock of another host not broken")
	}
	defer l.Unlock()
	if len(warned) != 1 || !strings.Contains(warned[0], "process 4242 on hostb did not refresh it") {
		t.Fatalf("warned %q", warned)
	}
}

// A lock of this server whose process is gone is broken at once, whatever
// its age; so is one naming our PID that this process does not hold.
func TestClusterLockSameHostDeadHolder(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	dead := cmd.Process.Pid
	for _, tc := range []struct {
		content, why string
	}{
		{strconv.Itoa(dead) + " hosta\n", "is gone"},
		{strconv.Itoa(os.Getpid()) + " hosta\n", "earlier process with our PID"},
	} {
		path, fi := clusterMailbox(t)
		plantClusterLock(t, path, fi, tc.content, 0)
		l, _, warned := clusterTry(t, path, fi, "hosta")
		if l == nil {
			t.Fatalf("%q: not broken", tc.content)
		}
		l.Unlock()
		if len(warned) != 1 || !strings.Contains(warned[0], tc.why) {
			t.Fatalf("%q: warned %q", tc.content, warned)
		}
	}
	// The same dead PID under another lock_id is another host's process:
	// only the age counts.
	path, fi := clusterMailbox(t)
	plantClusterLock(t, path, fi, strconv.Itoa(dead)+" hostb\n", 0)
	if l, _, _ := clusterTry(t, path, fi, "hosta"); l != nil {
		t.Fatal("a fresh lock of another host was broken by PID")
	}
}

// The holder stamps its lock (the file server's time), and learns when the
// lock was broken or removed.
func TestClusterLockStampAndLost(t *testing.T) {
	path, fi := clusterMailbox(t)
	l, _, _ := clusterTry(t, path, fi, "hosta")
	if l == nil {
		t.Fatal("not taken")
	}
	defer l.Unlock()
	old := time.Now().Add(-time.Hour)
	os.Chtimes(l.Name(), old, old)
	l.Stamp()
	st, err := os.Stat(l.Name())
	if err != nil || !st.ModTime().After(old.Add(time.Minute)) {
		t.Fatalf("not stamped: %v %v", st.ModTime(), err)
	}
	if !ClusterHeldBy(path, fi, "hostb") {
		t.Fatal("ClusterHeldBy: a live lock is not seen")
	}
	// Broken by another host (renamed away, a new lock made).
	os.Remove(l.Name())
	if c := l.Check(); c != ClusterLost {
		t.Fatalf("Check after removal = %v", c)
	}
	plantClusterLock(t, path, fi, "7 hostb\n", 0)
	if c := l.Check(); c != ClusterLost {
		t.Fatalf("Check after replacement = %v", c)
	}
	// Our Unlock leaves the other host's lock alone.
	l.Unlock()
	if got := readLock(t, l.Name()); got != "7 hostb\n" {
		t.Fatalf("another host's lock touched: %q", got)
	}
}

func TestClusterLockSymlinkRefused(t *testing.T) {
	path, fi := clusterMailbox(t)
	name, _ := ClusterLockName(path, fi)
	if err := os.Symlink(filepath.Join(t.TempDir(), "x"), name); err != nil {
		t.Fatal(err)
	}
	if _, _, err := TryClusterLock(path, fi, "hosta", nil); !errors.Is(err, ErrUnsafeLock) {
		t.Fatalf("err = %v, want ErrUnsafeLock", err)
	}
}

func TestParseClusterLock(t *testing.T) {
	for _, tc := range []struct {
		in    string
		h     ClusterHolder
		asked bool
	}{
		{"12 a\n", ClusterHolder{12, "a"}, false},
		{"12 a\n13 b wants\n", ClusterHolder{12, "a"}, true},
		{"", ClusterHolder{}, false},
		{"012 a\n", ClusterHolder{}, false},
		{"12\n", ClusterHolder{}, false},
		{"x y\n", ClusterHolder{}, false},
	} {
		h, asked := parseClusterLock([]byte(tc.in))
		if h != tc.h || asked != tc.asked {
			t.Errorf("%q: %+v %v, want %+v %v", tc.in, h, asked, tc.h, tc.asked)
		}
	}
}
