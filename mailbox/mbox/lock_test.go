package mbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"imapd/mailbox"
	"imapd/platform/filelock"
)

func TestLocks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inbox")
	writeFile(t, path, spool61)
	opt := testOpts(at(1))
	opt.LockTimeout = 50 * time.Millisecond

	// A fresh dot-lock held by someone else: we wait, then give up.
	writeFile(t, path+".lock", "")
	if _, err := Open(path, opt); !errors.Is(err, mailbox.ErrLocked) {
		t.Fatalf("fresh dot-lock: %v", err)
	}
	// A stale one is seized.
	old := time.Now().Add(-10 * time.Minute)
	must(t, os.Chtimes(path+".lock", old, old))
	m, err := Open(path, opt)
	must(t, err)
	must(t, m.Close())
	if _, err := os.Lstat(path + ".lock"); err == nil {
		t.Fatal("dot-lock left behind")
	}
	// A symbolic link in its place is refused.
	if runtime.GOOS != "windows" {
		must(t, os.Symlink(filepath.Join(dir, "elsewhere"), path+".lock"))
		if _, err := Open(path, opt); err == nil || errors.Is(err, mailbox.ErrLocked) {
			t.Fatalf("symlinked lock: %v", err)
		}
		os.Remove(path + ".lock")
	}
	// A file lock held by another open file description.
	if filelock.Advisory {
		f, err := os.Open(path)
		must(t, err)
		ok, err := filelock.TryLock(f, filelock.Exclusive)
		must(t, err)
		if !ok {
			t.Fatal("could not lock")
		}
		if _, err := Open(path, opt); !errors.Is(err, mailbox.ErrLocked) {
			t.Fatalf("file lock held: %v", err)
		}
		ro := opt
		ro.ReadOnly = true
		if _, err := Stat(path, ro); !errors.Is(err, mailbox.ErrLocked) {
			t.Fatalf("file lock held, shared: %v", err)
		}
		must(t, filelock.Unlock(f))
		f.Close()
		if _, err := os.Lstat(path + ".lock"); err == nil {
			t.Fatal("dot-lock left behind after a timeout")
		}
	}
}

// holdLock is the helper process of TestDotLockHolderKilled: it holds the
// mailbox at path locked (as during a write) until it is killed.
func holdLock(path string) {
	opt := Options{UseFlock: true, LockID: os.Getenv("MBOX_TEST_LOCK_ID")}
	if _, err := HoldLock(path, opt); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	time.Sleep(time.Hour) // until killed (select {} would be a deadlock the runtime ends)
}

// holder starts a process holding path's locks; kill ends it with SIGKILL.
func holder(t *testing.T, path, lockID string) (kill func()) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "MBOX_TEST_HOLD="+path, "MBOX_TEST_LOCK_ID="+lockID)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	kill = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("holder: %q %v", line, err)
	}
	return kill
}

// TestDotLockContent: the dot-lock holds "<pid> <host>\n" (lock_id when
// set) from the moment it exists, and the file it was written to first is
// gone.
func TestDotLockContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "inbox")
	writeFile(t, path, spool61)
	opt := testOpts(at(1))
	opt.LockID = "node7"
	release, err := HoldLock(path, opt)
	must(t, err)
	b, err := os.ReadFile(path + ".lock")
	must(t, err)
	if want := strconv.Itoa(os.Getpid()) + " node7\n"; string(b) != want {
		t.Errorf("dot-lock holds %q, want %q", b, want)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path + ".lock")
		must(t, err)
		if fi.Mode().Perm() != 0o666 {
			t.Errorf("dot-lock mode %v, want 0666", fi.Mode().Perm())
		}
	}
	// Our own live lock is not broken: another Open waits.
	opt.LockTimeout = 30 * time.Millisecond
	if _, err := Open(path, opt); !errors.Is(err, mailbox.ErrLocked) {
		t.Fatalf("open while we hold the lock: %v", err)
	}
	must(t, release())
	ents, err := os.ReadDir(dir)
	must(t, err)
	for _, e := range ents {
		if e.Name() != "inbox" {
			t.Errorf("left in the directory: %s", e.Name())
		}
	}
}

// TestDotLockHolderKilled: the locks of a process killed with SIGKILL in
// the middle of a write do not block the next one: its dot-lock names a
// process of this host that is gone, and is broken at once (before: the
// lock was honoured for 5 minutes, LockTimeout gave up first).
func TestDotLockHolderKilled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	kill := holder(t, path, "")
	opt := testOpts(at(1))
	opt.LockTimeout = 30 * time.Millisecond
	if _, err := Open(path, opt); !errors.Is(err, mailbox.ErrLocked) {
		t.Fatalf("open while a live process holds the lock: %v", err)
	}
	kill()
	if _, err := os.Lstat(path + ".lock"); err != nil {
		t.Fatalf("the killed holder left no dot-lock: %v", err)
	}
	opt.LockTimeout = 20 * time.Second
	m, err := Open(path, opt)
	if err != nil {
		t.Fatalf("open after the holder was killed: %v", err)
	}
	must(t, m.Close())
	if _, err := os.Lstat(path + ".lock"); err == nil {
		t.Error("dot-lock left behind")
	}
}

// TestReadersWithoutDotLock: with use_flock, read-only opens and STATUS take
// the file lock shared and no dot-lock, so they run side by side; a writer
// waits for them; a dot-lock someone holds still makes a reader wait.
func TestReadersWithoutDotLock(t *testing.T) {
	if !filelock.Advisory || runtime.GOOS == "solaris" || runtime.GOOS == "illumos" {
		t.Skip("needs flock(2): shared locks of one process")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "inbox")
	writeFile(t, path, spool61)
	opt := testOpts(at(1))
	opt.LockTimeout = 50 * time.Millisecond
	ro := opt
	ro.ReadOnly = true

	// Another reader in the middle of its parse.
	f, err := os.Open(path)
	must(t, err)
	defer f.Close()
	ok, err := filelock.TryLock(f, filelock.Shared)
	must(t, err)
	if !ok {
		t.Fatal("could not lock")
	}
	readers := 0
	testReadLocked = func(p string) {
		readers++
		if _, err := os.Lstat(p + ".lock"); err == nil {
			t.Error("a reader made the dot-lock")
		}
	}
	defer func() { testReadLocked = nil }()
	m, err := Open(path, ro)
	must(t, err)
	if m.Len() != 3 {
		t.Fatalf("%d messages", m.Len())
	}
	must(t, m.Close())
	if _, err := Stat(path, ro); err != nil {
		t.Fatal(err)
	}
	if readers != 2 {
		t.Fatalf("%d readers without the dot-lock, want 2", readers)
	}
	// A writer waits for the readers.
	if _, err := Open(path, opt); !errors.Is(err, mailbox.ErrLocked) {
		t.Fatalf("writer while a reader holds the file: %v", err)
	}
	must(t, filelock.Unlock(f))

	// A dot-lock held by another program: the reader waits for it.
	writeFile(t, path+".lock", "")
	if _, err := Open(path, ro); !errors.Is(err, mailbox.ErrLocked) {
		t.Fatalf("reader while a dot-lock is held: %v", err)
	}
	os.Remove(path + ".lock")
}
