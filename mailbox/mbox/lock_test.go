package mbox

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"imapd/mailbox"
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
	// flock held by another open file description.
	if haveFlock {
		f, err := os.Open(path)
		must(t, err)
		ok, err := flockTry(f, true)
		must(t, err)
		if !ok {
			t.Fatal("could not flock")
		}
		if _, err := Open(path, opt); !errors.Is(err, mailbox.ErrLocked) {
			t.Fatalf("flock held: %v", err)
		}
		ro := opt
		ro.ReadOnly = true
		if _, err := Stat(path, ro); !errors.Is(err, mailbox.ErrLocked) {
			t.Fatalf("flock held, shared: %v", err)
		}
		flockUnlock(f)
		ok, err = flockTry(f, false) // a shared holder lets readers in
		must(t, err)
		if !ok {
			t.Fatal("could not take a shared flock")
		}
		if _, err := Stat(path, ro); err != nil {
			t.Fatalf("shared flock: %v", err)
		}
		if _, err := Open(path, opt); !errors.Is(err, mailbox.ErrLocked) {
			t.Fatalf("writer with a reader holding flock: %v", err)
		}
		f.Close()
		if _, err := os.Lstat(path + ".lock"); err == nil {
			t.Fatal("dot-lock left behind after a timeout")
		}
	}
}
