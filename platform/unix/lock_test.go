//go:build linux

package unix

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Uids of the local users of TestForeignLock* (no password entry needed).
const (
	victimUID   = 4242
	attackerUID = 4243
)

// TestMain doubles as the helper process of TestForeignLockIgnored: with
// UNIX_TEST_TRYLOCK=<mailbox> it tries the session lock (running as the
// mailbox's owner) and prints what happened.
func TestMain(m *testing.M) {
	if p := os.Getenv("UNIX_TEST_TRYLOCK"); p != "" {
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Println("stat:", err)
			os.Exit(1)
		}
		var warned []string
		l, _, err := TryLock(fi, func(m string) { warned = append(warned, m) })
		switch {
		case errors.Is(err, ErrForeignLock):
			fmt.Println("ignored:", strings.Join(warned, "; "))
		case err != nil:
			fmt.Println("error:", err)
		case l == nil:
			fmt.Println("held")
		default:
			fmt.Println("locked")
			l.Unlock()
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// plantLock starts a process of the attacker's uid holding an exclusive
// flock on the session lock name of the mailbox fi describes until the
// test ends. flock(1) creates the file, so it is the attacker's, unless
// leftOwner >= 0: then a file of that owner, mode 0666, is there first (as
// a crashed session leaves it).
func plantLock(t *testing.T, fi os.FileInfo, leftOwner ...int) string {
	t.Helper()
	name, _ := LockName(fi)
	os.Remove(name)
	t.Cleanup(func() { os.Remove(name) })
	if len(leftOwner) > 0 {
		if err := os.WriteFile(name, []byte("999999"), 0o666); err != nil {
			t.Fatal(err)
		}
		os.Chmod(name, 0o666)
		os.Chown(name, leftOwner[0], leftOwner[0])
	}
	cmd := exec.Command("flock", "-x", name, "-c", "echo locked; exec sleep 600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: attackerUID, Gid: attackerUID}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("flock(1): %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "locked\n" {
		t.Fatalf("planter: %q %v", line, err)
	}
	return name
}

// TestForeignLockRemoved: a session lock another local user planted (and
// holds) for the mailbox of a root session is removed, and the session
// gets its lock; the removal is reported. (Before: the planted lock made
// every session of the mailbox read-only.)
func TestForeignLockRemoved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: files of other users")
	}
	_, fi := mailbox(t)
	name := plantLock(t, fi)
	if Held(fi) {
		t.Error("Held = true for a lock of another user")
	}
	var warned []string
	l, _, err := TryLock(fi, func(m string) { warned = append(warned, m) })
	if err != nil || l == nil {
		t.Fatalf("TryLock over a planted lock: %v %v", l, err)
	}
	defer l.Unlock()
	if len(warned) != 1 || !strings.Contains(warned[0], "removed session lock "+name) ||
		!strings.Contains(warned[0], fmt.Sprintf("uid %d", attackerUID)) {
		t.Errorf("warnings %q", warned)
	}
	if lfi, err := os.Lstat(name); err != nil {
		t.Fatal(err)
	} else if uid, _ := ownerOf(lfi); uid != 0 {
		t.Errorf("lock file owned by %d, want ours", uid)
	}
}

// TestForeignHolderRemoved: a lock file of the mailbox's owner left by a
// crashed session (mode 0666, as UW makes it) that another user opened and
// holds locked decides nothing either: the OS names the holder (Linux),
// whose uid is not trusted; the file is removed and the lock taken.
func TestForeignHolderRemoved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: files of other users")
	}
	p, _ := mailbox(t)
	os.Chown(p, victimUID, victimUID)
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	name := plantLock(t, fi, victimUID)
	var warned []string
	l, _, err := TryLock(fi, func(m string) { warned = append(warned, m) })
	if err != nil || l == nil {
		t.Fatalf("TryLock over a lock held by another user: %v %v", l, err)
	}
	defer l.Unlock()
	want := fmt.Sprintf("removed session lock %s: locked by a process of uid %d, not by the mailbox's owner (uid %d)", name, attackerUID, victimUID)
	if len(warned) != 1 || !strings.HasPrefix(warned[0], want) {
		t.Errorf("warnings %q, want %q...", warned, want)
	}
}

// TestForeignLockIgnored: the mailbox's owner (not root) cannot remove the
// lock another user planted in the sticky /tmp: it is ignored (the caller
// goes on read-write), and reported. The session of the owner runs as a
// separate process of the owner's uid.
func TestForeignLockIgnored(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: processes of other users")
	}
	dir, err := os.MkdirTemp("", "imapd-foreign-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "unix.test")
	copyFile(t, os.Args[0], bin)
	mbox := filepath.Join(dir, "INBOX")
	if err := os.WriteFile(mbox, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(mbox, victimUID, victimUID)
	fi, err := os.Stat(mbox)
	if err != nil {
		t.Fatal(err)
	}
	name := plantLock(t, fi)
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "UNIX_TEST_TRYLOCK="+mbox)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: victimUID, Gid: victimUID}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := fmt.Sprintf("ignored: ignored session lock %s: owned by uid %d, not by the mailbox's owner (uid %d)", name, attackerUID, victimUID)
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("got %q, want %q...", out, want)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	r, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, r); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

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
	l, _, err := TryLock(fi, nil)
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
	l2, h, err := TryLock(fi, nil)
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
	l, _, err := TryLock(fi, nil)
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
		l, _, err := TryLock(fi, nil)
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
	l, _, err := TryLock(fi, nil)
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
	if l2, _, _ := TryLock(fi, nil); l2 != nil {
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
