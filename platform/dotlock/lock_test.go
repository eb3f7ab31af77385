package dotlock

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
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

// tempDir is t.TempDir, but emptied with os.Remove on Windows: under
// Wine, Go's RemoveAll fails with "Invalid function" (see the maildir
// tests).
func tempDir(t testing.TB) string {
	t.Helper()
	if runtime.GOOS != "windows" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "dotlock-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			os.Remove(filepath.Join(dir, e.Name()))
		}
		if err := os.Remove(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

func must(fi os.FileInfo, err error) os.FileInfo {
	if err != nil {
		panic(err)
	}
	return fi
}

// gone asks the system whether a process exists, as platform.ProcessGone
// does on unix (this package's tests cannot import platform, which
// imports it).
func gone(pid int) bool {
	p, err := os.FindProcess(pid)
	return err != nil || errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}

// the two policies of the formats: mbox (UW's) and maildir.
var policies = map[string]Options{
	"link": {Stale: 5 * time.Minute, Link: true, Mode: 0o666, GoWithout: true, Gone: gone},
	"excl": {Stale: 2 * time.Minute, Refresh: 30 * time.Second, Mode: 0o600, Gone: gone},
}

func host() string { return SafeName(hostOf(Options{})) }

// TestContent: a lock holds "<pid> <host>\n" from the moment it exists,
// and nothing else is left in the directory once released.
func TestContent(t *testing.T) {
	for what, o := range policies {
		dir := tempDir(t)
		name := filepath.Join(dir, "x.lock")
		o.Host = "node 7"
		l, err := Take(name, time.Now().Add(time.Second), o)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(name)
		if want := fmt.Sprintf("%d node_7\n", os.Getpid()); string(b) != want {
			t.Errorf("%s: lock holds %q, want %q", what, b, want)
		}
		if runtime.GOOS != "windows" {
			if m := must(lstatNow(name)).Mode().Perm(); m != o.Mode {
				t.Errorf("%s: mode %v, want %v", what, m, o.Mode)
			}
		}
		// Our own live lock is not broken: another taker waits.
		if _, err := Take(name, time.Now().Add(20*time.Millisecond), o); !errors.Is(err, ErrTimeout) {
			t.Errorf("%s: take while we hold it: %v", what, err)
		}
		l.Release()
		l.Release()
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("%s: left in the directory: %v", what, ents)
		}
	}
}

// TestHonoured: locks we cannot prove dead keep the age rule: another
// host's, empty, procmail's "0", a PID alone (liblockfile), garbage; a
// process of this host that is alive. A lock whose holder on this host is
// gone, or naming our PID that this process does not hold (a leftover of
// an earlier process), is broken at once.
func TestHonoured(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no processes to kill by PID here in the test")
	}
	dead := deadPID(t)
	h := host()
	for what, o := range policies {
		name := filepath.Join(tempDir(t), "x.lock")
		for _, content := range []string{
			fmt.Sprintf("%d elsewhere\n", dead),
			"",
			"0",
			fmt.Sprintf("%d\n", dead),
			fmt.Sprintf("%d %s", dead, h), // no newline: not ours
			fmt.Sprintf("%d %s\nmore\n", dead, h),
			fmt.Sprintf("0%d %s\n", dead, h),
			fmt.Sprintf("%d %s\n", os.Getppid(), h),
		} {
			os.WriteFile(name, []byte(content), 0o600)
			if _, err := Take(name, time.Now().Add(20*time.Millisecond), o); !errors.Is(err, ErrTimeout) {
				t.Errorf("%s: lock %q: %v", what, content, err)
			}
		}
		for _, content := range []string{
			fmt.Sprintf("%d %s\n", dead, h),
			fmt.Sprintf("%d %s\n", os.Getpid(), h),
		} {
			os.WriteFile(name, []byte(content), 0o600)
			l, err := Take(name, time.Now().Add(10*time.Second), o)
			if err != nil {
				t.Errorf("%s: lock %q: %v", what, content, err)
				continue
			}
			l.Release()
		}
	}
}

// TestAgeRule: a lock of another host is broken when older than Stale.
func TestAgeRule(t *testing.T) {
	for what, o := range policies {
		name := filepath.Join(tempDir(t), "x.lock")
		os.WriteFile(name, []byte("123 elsewhere\n"), 0o600)
		if _, err := Take(name, time.Now().Add(20*time.Millisecond), o); !errors.Is(err, ErrTimeout) {
			t.Fatalf("%s: young foreign lock: %v", what, err)
		}
		old := time.Now().Add(-2 * o.Stale)
		os.Chtimes(name, old, old)
		l, err := Take(name, time.Now().Add(10*time.Second), o)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		l.Release()
	}
}

// TestSymlinkRefused: a symbolic link in the lock's place is refused.
func TestSymlinkRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := tempDir(t)
	name := filepath.Join(dir, "x.lock")
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), name); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if _, err := Take(name, time.Now().Add(time.Second), policies["link"]); err == nil {
		t.Fatal("took a symbolic link for a lock")
	}
}

// TestRefreshed: a holder that refreshes keeps its lock young while it
// holds it, however long; one that does not leaves it alone.
func TestRefreshed(t *testing.T) {
	o := policies["excl"]
	o.Refresh = 5 * time.Millisecond
	name := filepath.Join(tempDir(t), "x.lock")
	l, err := Take(name, time.Now().Add(time.Second), o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	first := must(lstatNow(name))
	deadline := time.Now().Add(10 * time.Second)
	for refreshed := 0; refreshed < 3; {
		fi := must(lstatNow(name))
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

// TestSeizeKeepsLiveLock: breaking a lock looked at as stale never breaks
// the live lock that stands there by then (refreshed, or made anew): it
// is put back. A release removes only its own lock.
func TestSeizeKeepsLiveLock(t *testing.T) {
	name := filepath.Join(tempDir(t), "x.lock")
	os.WriteFile(name, []byte("123 elsewhere\n"), 0o600)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(name, old, old)
	stale := must(lstatNow(name))
	// Its holder refreshes it before the breaker acts.
	now := time.Now()
	os.Chtimes(name, now, now)
	seize(name, stale)
	if fi, err := os.Lstat(name); err != nil || !fi.ModTime().Equal(now) {
		t.Fatalf("live lock broken: %v", err)
	}
	// Made anew after a release: kept too.
	os.Remove(name)
	os.WriteFile(name, []byte("124 elsewhere\n"), 0o600)
	seize(name, stale)
	if b, err := os.ReadFile(name); err != nil || string(b) != "124 elsewhere\n" {
		t.Fatalf("new lock broken: %q %v", b, err)
	}
	// The stale one itself is broken, and nothing is left.
	os.Chtimes(name, old, old)
	stale = must(lstatNow(name))
	seize(name, stale)
	if ents, _ := os.ReadDir(filepath.Dir(name)); len(ents) != 0 {
		t.Fatalf("left after breaking: %v", ents)
	}
	for what, o := range policies {
		l, err := Take(name, time.Now().Add(time.Second), o)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(name)
		os.WriteFile(name, []byte("125 elsewhere\n"), 0o600)
		l.Release()
		if b, _ := os.ReadFile(name); string(b) != "125 elsewhere\n" {
			t.Fatalf("%s: release removed another's lock: %q", what, b)
		}
		os.Remove(name)
	}
}

// TestParse: only the content we write is ours to judge.
func TestParse(t *testing.T) {
	for in, want := range map[string]bool{
		"12 host\n": true, "12 host": false, "12\n": false, "0 host\n": false,
		"012 host\n": false, "12 ho st\n": false, "12 host\r\n": false,
		"12 host\n\n": true, "12 host\nx": false, "-1 host\n": false, "": false,
	} {
		if _, _, ok := Parse([]byte(in)); ok != want {
			t.Errorf("Parse(%q) ok %v, want %v", in, ok, want)
		}
	}
}

// TestHitch: the maker the cluster session lock uses too: kept open, the
// lock is the file returned; a second try finds it (fs.ErrExist) and still
// gets the file system's time; no hitching post is left.
func TestHitch(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Keep is for unix: an open hitching post cannot be removed here")
	}
	dir := tempDir(t)
	name := filepath.Join(dir, "x.lock")
	f, fi, now, err := Hitch(name, []byte("1 a\n"), Post{Mode: 0o666, Sync: true, Keep: true})
	if err != nil {
		t.Fatal(err)
	}
	if now.IsZero() || !os.SameFile(fi, must(lstatNow(name))) {
		t.Fatalf("made %v at %v", fi, now)
	}
	if _, err := f.WriteAt([]byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, _ := os.ReadFile(name); string(b) != "2 a\n" {
		t.Fatalf("lock holds %q", b)
	}
	if m := must(lstatNow(name)).Mode().Perm(); m != 0o666 {
		t.Errorf("mode %v, want 0666", m)
	}
	f, fi, now, err = Hitch(name, []byte("3 b\n"), Post{Mode: 0o666, Host: "b"})
	if !errors.Is(err, fs.ErrExist) || f != nil || fi != nil || now.IsZero() {
		t.Fatalf("second Hitch: %v %v %v %v", f, fi, now, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left in the directory: %v", ents)
	}
}

// TestGoroutinesExclusive: goroutines of one process taking one lock over
// and over never hold it at once. A waiter once read a lock of ours just
// given up, found no lock of ours by that name, took it for an earlier
// process's with our PID and broke the fresh lock another goroutine had
// made in the same inode (ext4 reuses it at once, with the same coarse
// time): two holders of a maildir's uid list, one's rename of the new list
// failing under the other's.
func TestGoroutinesExclusive(t *testing.T) {
	for what, o := range policies {
		t.Run(what, func(t *testing.T) {
			name := filepath.Join(tempDir(t), "x.lock")
			var inside, most atomic.Int32
			var wg sync.WaitGroup
			for range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 300 {
						l, err := Take(name, time.Now().Add(time.Minute), o)
						if err != nil {
							t.Error(err)
							return
						}
						n := inside.Add(1)
						if n > most.Load() {
							most.Store(n)
						}
						runtime.Gosched()
						inside.Add(-1)
						l.Release()
					}
				}()
			}
			wg.Wait()
			if most.Load() != 1 {
				t.Errorf("%d goroutines held the lock at once", most.Load())
			}
			gates.Lock()
			left := len(gates.m)
			gates.Unlock()
			if left != 0 {
				t.Errorf("%d gates left", left)
			}
		})
	}
}
