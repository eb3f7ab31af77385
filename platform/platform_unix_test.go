//go:build linux

package platform

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
	"testing"
	"time"

	"imapd/platform/unix"
)

// TestMain lets tests run this binary as a second process holding a
// mailbox (IMAPD_PLATFORM_HELPER=mode:arg).
func TestMain(m *testing.M) {
	if h := os.Getenv("IMAPD_PLATFORM_HELPER"); h != "" {
		os.Exit(helper(h))
	}
	os.Exit(m.Run())
}

// helper modes:
//
//	hold:PATH      claim PATH; on letGo print "letgo", release, exit 0
//	stubborn:PATH  claim PATH; on letGo print "asked" and keep it
//	sharedhold:PATH  as hold, with ClaimShared (imapd_shared_mailboxes)
//	become:UID:GID become the user, print /proc/self/status ids
//	shared:UID     become the user without SetOneSessionProcess
//
// A holder prints "held" once it holds, and exits when stdin closes.
func helper(h string) int {
	mode, arg, _ := strings.Cut(h, ":")
	switch mode {
	case "hold", "stubborn", "sharedhold":
		var c *Claim
		letGo := func() {
			if mode == "stubborn" {
				fmt.Println("asked")
				return
			}
			fmt.Println("letgo")
			c.Release()
			os.Exit(0)
		}
		var err error
		if mode == "sharedhold" {
			c, _, err = ClaimShared(arg, letGo)
		} else {
			c, _, err = ClaimMailbox(arg, false, letGo)
		}
		if err != nil || c.ReadOnly() {
			fmt.Println("failed", err)
			return 1
		}
		fmt.Println("held")
		io.Copy(io.Discard, os.Stdin)
		return 0
	case "become", "shared":
		uidS, gidS, _ := strings.Cut(arg, ":")
		uid, _ := strconv.Atoi(uidS)
		gid := -1
		if gidS != "" {
			gid, _ = strconv.Atoi(gidS)
		}
		if mode == "become" {
			SetOneSessionProcess()
		}
		if err := BecomeUser(User{UID: uid, GID: gid}); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		b, _ := os.ReadFile("/proc/self/status")
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "Uid:") || strings.HasPrefix(l, "Gid:") || strings.HasPrefix(l, "Groups:") {
				fmt.Println(strings.Join(strings.Fields(l), " "))
			}
		}
		return 0
	}
	return 2
}

type holder struct {
	cmd   *exec.Cmd
	out   *bufio.Reader
	stdin io.WriteCloser
	done  chan struct{}
}

// startHolder runs a helper and waits for "held".
func startHolder(t *testing.T, mode, path string) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "IMAPD_PLATFORM_HELPER="+mode+":"+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, out: bufio.NewReader(out), stdin: stdin, done: make(chan struct{})}
	t.Cleanup(func() {
		stdin.Close()
		h.wait()
	})
	if l := h.line(t); l != "held" {
		t.Fatalf("helper: %q", l)
	}
	return h
}

func (h *holder) line(t *testing.T) string {
	t.Helper()
	l, err := h.out.ReadString('\n')
	if err != nil && l == "" {
		return "EOF"
	}
	return strings.TrimSpace(l)
}

func (h *holder) wait() error {
	select {
	case <-h.done:
		return nil
	default:
	}
	err := h.cmd.Wait()
	close(h.done)
	return err
}

func newMailbox(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "INBOX")
	if err := os.WriteFile(p, []byte("From a Mon Jan  1 00:00:00 2024\n\nx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if fi, err := os.Stat(p); err == nil {
			if n, ok := unix.LockName(fi); ok {
				os.Remove(n)
			}
		}
	})
	return p
}

func lockContent(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := unix.LockName(fi)
	b, err := os.ReadFile(n)
	if err != nil {
		return "missing: " + err.Error()
	}
	return string(b)
}

func TestKissOfDeathAcrossProcesses(t *testing.T) {
	p := newMailbox(t)
	h := startHolder(t, "hold", p)
	if !InUse(p) {
		t.Error("InUse = false while another process holds the mailbox")
	}
	c, notices, err := ClaimMailbox(p, false, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.ReadOnly() {
		t.Fatalf("read-only after the holder let go; notices %q", notices)
	}
	want := []string{fmt.Sprintf("* NO Trying to get mailbox lock from process %d", h.cmd.Process.Pid)}
	if strings.Join(notices, "|") != strings.Join(want, "|") {
		t.Errorf("notices %q, want %q", notices, want)
	}
	if l := h.line(t); l != "letgo" {
		t.Errorf("holder said %q, want letgo", l)
	}
	if got := lockContent(t, p); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock content %q, want our PID", got)
	}
	c.Release()
	if got := lockContent(t, p); !strings.HasPrefix(got, "missing") {
		t.Errorf("lock file after Release: %q", got)
	}
}

func TestExamineDisturbsNobody(t *testing.T) {
	p := newMailbox(t)
	h := startHolder(t, "stubborn", p)
	c, notices, err := ClaimMailbox(p, true, func() {})
	if err != nil || !c.ReadOnly() || len(notices) != 0 {
		t.Fatalf("EXAMINE claim: %v %v %q", c, err, notices)
	}
	c.Release()
	h.stdin.Close()
	if l := h.line(t); l != "EOF" {
		t.Errorf("holder was disturbed: %q", l)
	}
}

func TestStubbornHolderGivesReadOnly(t *testing.T) {
	defer func(d time.Duration) { LetGoTimeout = d }(LetGoTimeout)
	LetGoTimeout = 300 * time.Millisecond
	p := newMailbox(t)
	h := startHolder(t, "stubborn", p)
	c, notices, err := ClaimMailbox(p, false, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if !c.ReadOnly() {
		t.Fatal("read-write although the holder kept the lock")
	}
	want := []string{
		fmt.Sprintf("* NO Trying to get mailbox lock from process %d", h.cmd.Process.Pid),
		"* NO Mailbox is open by another process, access is readonly",
	}
	if strings.Join(notices, "|") != strings.Join(want, "|") {
		t.Errorf("notices %q, want %q", notices, want)
	}
	if l := h.line(t); l != "asked" {
		t.Errorf("holder said %q, want asked", l)
	}
	if got := lockContent(t, p); got != strconv.Itoa(h.cmd.Process.Pid) {
		t.Errorf("lock content %q, want the holder's PID", got)
	}
}

// A PID planted in the lock file (it is mode 0666) is not signalled: it
// does not hold the lock.
func TestPlantedPIDNotSignalled(t *testing.T) {
	p := newMailbox(t)
	startHolder(t, "stubborn", p)
	victim := exec.Command("cat")
	vin, _ := victim.StdinPipe()
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	name, _ := unix.LockName(fi)
	if err := os.WriteFile(name, []byte(strconv.Itoa(victim.Process.Pid)), 0o666); err != nil {
		t.Fatal(err)
	}
	c, notices, err := ClaimMailbox(p, false, func() {})
	if err != nil {
		t.Fatal(err)
	}
	c.Release()
	if !c.ReadOnly() || len(notices) != 1 || !strings.Contains(notices[0], "readonly") {
		t.Errorf("claim: read-only %v, notices %q", c.ReadOnly(), notices)
	}
	vin.Close()
	if err := victim.Wait(); err != nil {
		t.Errorf("the planted PID's process was hurt: %v", err)
	}
}

func TestInUseAfterHolderExits(t *testing.T) {
	p := newMailbox(t)
	h := startHolder(t, "stubborn", p)
	if !InUse(p) {
		t.Fatal("InUse = false while held")
	}
	h.stdin.Close()
	h.wait()
	// The holder died without unlinking: the file is stale, not held.
	if InUse(p) {
		t.Error("InUse = true after the holder exited")
	}
	c, notices, err := ClaimMailbox(p, false, func() {})
	if err != nil || c.ReadOnly() || len(notices) != 0 {
		t.Fatalf("claim over a stale lock: %v %v %q", c.ReadOnly(), err, notices)
	}
	c.Release()
}

func TestInProcessTakeover(t *testing.T) {
	p := newMailbox(t)
	var c1 *Claim
	bye := make(chan struct{})
	c1, _, err := ClaimMailbox(p, false, func() { c1.Release(); close(bye) })
	if err != nil || c1.ReadOnly() {
		t.Fatal(err)
	}
	if !InUse(p) {
		t.Error("InUse = false")
	}
	c2, notices, err := ClaimMailbox(p, false, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Release()
	<-bye
	if c2.ReadOnly() || len(notices) != 1 || notices[0] != "* NO Trying to get mailbox lock from another session" {
		t.Errorf("second claim: read-only %v, notices %q", c2.ReadOnly(), notices)
	}
	if got := lockContent(t, p); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock content %q", got)
	}
}

func TestLinkedMailboxRefused(t *testing.T) {
	p := newMailbox(t)
	dir := t.TempDir()
	sym := filepath.Join(dir, "sym")
	hard := filepath.Join(dir, "hard")
	os.Symlink(p, sym)
	os.Link(p, hard)
	for _, name := range []string{sym, hard} {
		if _, _, err := ClaimMailbox(name, false, nil); err == nil {
			t.Errorf("ClaimMailbox(%s) accepted a linked file", filepath.Base(name))
		}
		if _, _, err := ClaimMailbox(name, true, nil); err == nil {
			t.Errorf("ClaimMailbox(%s, read-only) accepted a linked file", filepath.Base(name))
		}
		if err := CheckMailFile(name); err == nil {
			t.Errorf("CheckMailFile(%s) accepted a linked file", filepath.Base(name))
		}
	}
	if err := CheckMailFile(filepath.Join(dir, "missing")); err != nil {
		t.Errorf("CheckMailFile(missing): %v", err)
	}
}

func runHelper(t *testing.T, mode string) (string, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "IMAPD_PLATFORM_HELPER="+mode)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestBecomeUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	out, err := runHelper(t, "become:65534:65534")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := "Uid: 65534 65534 65534 65534\nGid: 65534 65534 65534 65534\nGroups: 65534\n"
	if out != want {
		t.Errorf("after BecomeUser:\n%s\nwant\n%s", out, want)
	}
	// GID -1: the primary group of the uid's passwd entry (nobody: nogroup).
	out, err = runHelper(t, "become:65534")
	if err != nil || !strings.Contains(out, "Gid: 65534 65534 65534 65534") {
		t.Errorf("GID from passwd: %v: %s", err, out)
	}
	out, err = runHelper(t, "shared:65534:65534")
	if err == nil || !strings.Contains(out, "serves several sessions") {
		t.Errorf("a shared process became a user: %v: %s", err, out)
	}
}

func TestBecomeUserTwice(t *testing.T) {
	proc.mu.Lock()
	saved := proc.became
	proc.became = &User{UID: 12345}
	proc.mu.Unlock()
	defer func() { proc.mu.Lock(); proc.became = saved; proc.mu.Unlock() }()
	if err := BecomeUser(User{UID: 12345}); err != nil {
		t.Errorf("same user again: %v", err)
	}
	if err := BecomeUser(User{UID: 12346}); err == nil || errors.Is(err, ErrSharedProcess) {
		t.Errorf("another user after the first: %v", err)
	}
}
