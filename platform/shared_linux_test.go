package platform

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestClaimSharedInProcess: two sessions of one process hold a mailbox
// read-write together; the session lock goes with the last.
func TestClaimSharedInProcess(t *testing.T) {
	p := newMailbox(t)
	c1, n1, err := ClaimShared(p, func() { t.Error("first told to let go") })
	if err != nil {
		t.Fatal(err)
	}
	c2, n2, err := ClaimShared(p, func() { t.Error("second told to let go") })
	if err != nil {
		t.Fatal(err)
	}
	if c1.ReadOnly() || c2.ReadOnly() || len(n1)+len(n2) > 0 {
		t.Fatalf("read-only %v %v, notices %q %q", c1.ReadOnly(), c2.ReadOnly(), n1, n2)
	}
	if !InUse(p) {
		t.Error("InUse false while shared")
	}
	if got := lockContent(t, p); got != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock content %q", got)
	}
	c1.Release()
	if !InUse(p) {
		t.Error("InUse false while the second still holds it")
	}
	c2.Release()
	if InUse(p) {
		t.Error("InUse after both let go")
	}
	if got := lockContent(t, p); !strings.HasPrefix(got, "missing") {
		t.Errorf("lock file after the last Release: %q", got)
	}
}

// TestClaimSharedAcrossProcesses: a session of another imapd process
// shares the mailbox: nobody is asked to let go, and it is in use until
// both left.
func TestClaimSharedAcrossProcesses(t *testing.T) {
	p := newMailbox(t)
	h := startHolder(t, "sharedhold", p)
	c, notices, err := ClaimShared(p, func() { t.Error("told to let go") })
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadOnly() || len(notices) > 0 {
		t.Fatalf("read-only %v, notices %q", c.ReadOnly(), notices)
	}
	c.Release()
	if !InUse(p) {
		t.Error("InUse false while the other process shares it")
	}
	h.stdin.Close()
	h.wait()
	if InUse(p) {
		t.Error("InUse after the other process ended")
	}
}

// TestClaimSharedForeignHolder: a holder keeping the legacy rule (UW, or
// imapd without the setting) holds the session lock exclusive: the
// sharing session asks it to let go, as UW would.
func TestClaimSharedForeignHolder(t *testing.T) {
	p := newMailbox(t)
	h := startHolder(t, "hold", p)
	c, notices, err := ClaimShared(p, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.ReadOnly() {
		t.Fatalf("read-only after the holder let go; notices %q", notices)
	}
	want := fmt.Sprintf("* NO Trying to get mailbox lock from process %d", h.cmd.Process.Pid)
	if strings.Join(notices, "|") != want {
		t.Errorf("notices %q, want %q", notices, want)
	}
	if l := h.line(t); l != "letgo" {
		t.Errorf("holder said %q, want letgo", l)
	}
}

// TestLegacyTakesFromShared: a server keeping the legacy rule wants a
// mailbox sessions share: the process it signals lets go.
func TestLegacyTakesFromShared(t *testing.T) {
	p := newMailbox(t)
	h := startHolder(t, "sharedhold", p)
	c, notices, err := ClaimMailbox(p, false, func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if c.ReadOnly() {
		t.Fatalf("read-only; notices %q", notices)
	}
	if l := h.line(t); l != "letgo" {
		t.Errorf("sharing holder said %q, want letgo", l)
	}
}
