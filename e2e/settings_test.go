package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Issue 11 settings through imaplib against the real imapd -listen: the
// shared authenticator pool (imapd_become_user false keeps the sessions in
// the daemon), forward_user records read back by imapd -relay-check,
// bulletins, user_quota.
func TestSettingsImaplib(t *testing.T) {
	bulletins := t.TempDir()
	if err := os.WriteFile(filepath.Join(bulletins, "1.txt"), []byte("Subject: Maintenance\n\nTonight.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	site := newSite(t, "imapd_become_user false", "authent_number 2", "forward_user true",
		"bulletin_path "+bulletins, "bulletin_from Postmaster Team", "user_quota 8")
	srv := startListen(t, site)
	host, port := hostPort(srv.Addr)
	check := func(user, pass, what string) string {
		t.Helper()
		out := runPython(t, "settings_check.py", host, port, user, pass, what)
		if !strings.HasSuffix(out, "ok\n") {
			t.Fatalf("%s: %s\nlog:\n%s", what, out, logTail(site))
		}
		return out
	}
	check("alice", "alice-secret", "logins")
	if out := check("alice", "alice-secret", "bulletin"); !strings.Contains(out, "From: Postmaster Team <postmaster@") {
		t.Errorf("bulletin From: %s", out)
	}
	// bob starts under his 8 KB: one 9 KB APPEND goes in (slightly over), the next is refused.
	check("bob", "bob-secret", "quota")

	out, err := exec.Command(bin("imapd"), "-i", site.Config, "-relay-check", "127.0.0.1").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "allowed: ") {
		t.Errorf("-relay-check 127.0.0.1: %v %s", err, out)
	}
	if out, err := exec.Command(bin("imapd"), "-i", site.Config, "-relay-check", "192.0.2.1").CombinedOutput(); err == nil {
		t.Errorf("-relay-check 192.0.2.1 allowed: %s", out)
	}
	// The pool: the daemon started at most authent_number authenticators
	// for 8 logins (cryptauth processes still running as its children).
	if n := countChildren(t, srv.cmd.Process.Pid, "cryptauth"); n < 1 || n > 2 {
		t.Errorf("%d cryptauth processes under the daemon, want 1 or 2", n)
	}
}

// countChildren counts the running children of pid whose command name is
// name (Linux /proc; elsewhere the test is skipped).
func countChildren(t *testing.T, pid int, name string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	n := 0
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		j := strings.IndexByte(s, '(')
		if i < 0 || j < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 || s[j+1:i] != name || f[1] != strconv.Itoa(pid) {
			continue
		}
		n++
	}
	return n
}

// TestSessionProcessesShareAuth: as root with imapd_become_user true, every
// connection is a process of its own, and they ask the daemon's shared
// authenticator pool (authent_number) through the relay instead of each
// starting an authenticator: after 6 logins (5 good, 1 wrong password) the
// daemon runs at most authent_number cryptauth processes itself, and the
// logged-in sessions worked as their users (the check SELECTs INBOX).
func TestSessionProcessesShareAuth(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("a process per connection needs root")
	}
	site := newSite(t, "authent_number 2")
	srv := startListen(t, site)
	host, port := hostPort(srv.Addr)
	if out := runPython(t, "settings_check.py", host, port, "alice", "alice-secret", "logins"); !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("logins: %s\nlog:\n%s", out, logTail(site))
	}
	if n := countChildren(t, srv.cmd.Process.Pid, "cryptauth"); n < 1 || n > 2 {
		t.Errorf("%d cryptauth processes under the daemon, want 1 or 2 (the session processes' logins went elsewhere)", n)
	}
}
