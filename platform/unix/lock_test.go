//go:build linux

package unix

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// mailbox makes a file to lock and returns its FileInfo.
func mailbox(t *testing.T) (string, os.FileInfo) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "INBOX")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	name, _ := LockName(fi)
	t.Cleanup(func() { os.Remove(name) })
	return p, fi
}

func TestLockFileAsUW(t *testing.T) {
	_, fi := mailbox(t)
	l, _, err := TryLock(fi)
	if err != nil || l == nil {
		t.Fatalf("TryLock: %v %v", l, err)
	}
	id, _ := FileID(fi)
	if want := "/tmp/." + id; l.Name() != want {
		t.Errorf("lock name %s, want %s", l.Name(), want)
	}
	b, err := os.ReadFile(l.Name())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock content %q, want our PID without newline", b)
	}
	lfi, err := os.Lstat(l.Name())
	if err != nil {
		t.Fatal(err)
	}
	if lfi.Mode().Perm() != 0o666 {
		t.Errorf("lock mode %v, want 0666", lfi.Mode().Perm())
	}
	if Held(fi) != true {
		t.Error("Held = false while locked")
	}
	// flock is per open file: a second open of the same process conflicts.
	l2, h, err := TryLock(fi)
	if err != nil || l2 != nil {
		t.Fatalf("second TryLock: %v %v", l2, err)
	}
	if h.PID != os.Getpid() || h.Verdict != Holds {
		t.Errorf("holder %+v, want our PID, verified", h)
	}
	if err := SignalLetGo(h); err == nil {
		t.Error("SignalLetGo signalled this very process")
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(l.Name()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after Unlock: %v", err)
	}
	if Held(fi) {
		t.Error("Held = true after Unlock")
	}
}

func TestLockStaleFileReused(t *testing.T) {
	_, fi := mailbox(t)
	name, _ := LockName(fi)
	// A crashed holder left its file, with a longer PID in it.
	if err := os.WriteFile(name, []byte("999999999"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, _, err := TryLock(fi)
	if err != nil || l == nil {
		t.Fatalf("TryLock over a stale file: %v %v", l, err)
	}
	defer l.Unlock()
	b, _ := os.ReadFile(name)
	if string(b) != strconv.Itoa(os.Getpid()) {
		t.Errorf("content %q, want our PID only", b)
	}
}

func TestLockPlantedLinksRefused(t *testing.T) {
	_, fi := mailbox(t)
	name, _ := LockName(fi)
	target := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, plant := range []struct {
		what string
		do   func() error
	}{
		{"symlink", func() error { return os.Symlink(target, name) }},
		{"hard link", func() error { return os.Link(target, name) }},
		{"directory", func() error { return os.Mkdir(name, 0o700) }},
	} {
		if err := plant.do(); err != nil {
			t.Fatal(err)
		}
		l, _, err := TryLock(fi)
		if l != nil || !errors.Is(err, ErrUnsafeLock) {
			t.Errorf("%s at the lock name: lock %v, err %v; want ErrUnsafeLock", plant.what, l, err)
		}
		if !Held(fi) {
			t.Errorf("%s at the lock name: Held = false, want true (unusable)", plant.what)
		}
		os.Remove(name)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the link target was written: %q", b)
	}
}

func TestWanted(t *testing.T) {
	_, fi := mailbox(t)
	l, _, err := TryLock(fi)
	if err != nil || l == nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	// Put the recorded time in the past, so the waiter's "now" differs
	// whatever the file system's clock granularity.
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(l.Name(), past, past); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(l.Name())
	l.mtime = st.ModTime()
	if l.Wanted() {
		t.Fatal("Wanted before anybody asked")
	}
	if l2, _, _ := TryLock(fi); l2 != nil {
		t.Fatal("second lock granted")
	}
	if !l.Wanted() {
		t.Error("Wanted = false after a waiter tried")
	}
}

func TestSignalRefusesUnverified(t *testing.T) {
	if err := SignalLetGo(Holder{PID: 1, Verdict: DoesNotHold}); err == nil {
		t.Error("signalled a PID the OS says does not hold the lock")
	}
	if err := SignalLetGo(Holder{}); err == nil {
		t.Error("signalled PID 0")
	}
	if os.Geteuid() == 0 {
		if err := SignalLetGo(Holder{PID: 1, Verdict: Unverified}); err == nil {
			t.Error("root signalled an unverified PID")
		}
	}
}

func TestTrustedConfig(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: files owned by root")
	}
	dir, err := os.MkdirTemp("", "imapd-trust-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	conf := filepath.Join(dir, "dmail.conf")
	os.WriteFile(conf, []byte("drop_path /x\n"), 0o644)
	if _, err := TrustedConfig(conf); err != nil {
		t.Errorf("root-owned 0644 file in a 0755 dir: %v", err)
	}
	link := filepath.Join(dir, "link.conf")
	os.Symlink(conf, link)
	if p, err := TrustedConfig(link); err != nil || p != conf {
		t.Errorf("link: %q %v, want the resolved path", p, err)
	}
	os.Chmod(conf, 0o640)
	if _, err := TrustedConfig(conf); err == nil {
		t.Error("a file others cannot read (a secret) was trusted")
	}
	os.Chmod(conf, 0o666)
	if _, err := TrustedConfig(conf); err == nil {
		t.Error("a world-writable file was trusted")
	}
	os.Chmod(conf, 0o644)
	os.Chown(conf, 65534, 65534)
	if _, err := TrustedConfig(conf); err == nil {
		t.Error("a file owned by nobody was trusted")
	}
	os.Chown(conf, 0, 0)
	os.Chmod(dir, 0o777)
	if _, err := TrustedConfig(conf); err == nil {
		t.Error("a file in a world-writable, not sticky, directory was trusted")
	}
}
