package main

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"imapd/internal/imaptest"
	"imapd/platform"
)

// startListen runs imapd with args (a -listen among them) and returns it
// and the address it says it listens on.
func startListen(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd, _ := imapd(t, args...)
	cmd.Stderr = nil
	stderr, err := cmd.StderrPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stderr).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "imapd: listening on ")
	if err != nil || !ok {
		t.Fatalf("first stderr line %q (%v)", line, err)
	}
	go io.Copy(io.Discard, stderr)
	return cmd, addr
}

// dialFrom connects from the loopback address src; the test is skipped
// where the system has no such address.
func dialFrom(t *testing.T, src, addr string) *imaptest.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from %s: %v", src, err)
	}
	ic := imaptest.New(t, c)
	ic.Timeout = limit
	return ic
}

// The caps of a -listen daemon hold for sessions served in goroutines and
// for session processes (root with imapd_become_user) alike: a connection
// over a cap is told so and closed, and no session starts for it.
func TestListenConnectionCaps(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no 127.0.0.2 source addresses under Wine")
	}
	modes := map[string]string{"goroutines": "imapd_become_user false"}
	if platform.Privileged() {
		modes["processes"] = "imapd_become_user true"
	}
	for mode, become := range modes {
		t.Run(mode, func(t *testing.T) {
			dir := tempDir(t)
			_, addr := startListen(t, "-i", writeConfig(t, dir, become,
				"imapd_max_connections 2", "imapd_max_connections_per_ip 1"), "-listen", "127.0.0.1:0")
			greeting := "* OK " + hostname() + " IMAP4rev1 vdev server ready"

			a := dialFrom(t, "127.0.0.1", addr)
			a.Expect(greeting)
			sameIP := dialFrom(t, "127.0.0.1", addr)
			sameIP.Expect("* BYE Too many connections")
			sameIP.ExpectEOF()
			b := dialFrom(t, "127.0.0.2", addr)
			b.Expect(greeting)
			third := dialFrom(t, "127.0.0.3", addr)
			third.Expect("* BYE Too many connections")
			third.ExpectEOF()

			log, err := os.ReadFile(filepath.Join(dir, "imapd.log"))
			for _, want := range []string{
				" INFO connection refused: client=127.0.0.1 too many connections: the address has 1 (imapd_max_connections_per_ip 1)\n",
				" INFO connection refused: client=127.0.0.3 too many connections: the server has 2 (imapd_max_connections 2)\n",
			} {
				if err != nil || !strings.Contains(string(log), want) {
					t.Errorf("imapd.log (%v) lacks %q:\n%s", err, want, log)
				}
			}
			if mode == "processes" && strings.Count(string(log), ": session process ") != 2 {
				t.Errorf("want exactly 2 session processes started:\n%s", log)
			}
		})
	}
}

// A daemon starting a session process per connection counts the failed
// logins of an address across its processes, as it does across goroutine
// sessions: processes running side by side share the count, and a new
// connection does not start afresh.
func TestListenLoginFailuresAcrossProcesses(t *testing.T) {
	if !platform.Privileged() || runtime.GOOS == "windows" {
		t.Skip("session processes need root")
	}
	dir := tempDir(t)
	_, addr := startListen(t, "-i", writeConfig(t, dir, "imapd_become_user true", "imapd_login_delay 0"), "-listen", "127.0.0.1:0")
	greeting := "* OK " + hostname() + " IMAP4rev1 vdev server ready"
	connect := func() *imaptest.Conn {
		t.Helper()
		c := imaptest.Dial(t, addr)
		c.Timeout = limit
		c.Expect(greeting)
		return c
	}
	fail := func(cl *imaptest.Conn, tag, user string) {
		t.Helper()
		if r := cl.Tagged(tag, "LOGIN "+user+" wrong"); r.Status != "NO" {
			t.Fatalf("LOGIN: %q", r.Lines())
		}
	}
	a, b := connect(), connect() // two processes, both started before any failure
	fail(a, "a1", "nobody")
	fail(a, "a2", "nobody")
	fail(b, "b1", "root")
	c := connect() // a third, started after them
	fail(c, "c1", "daemon")

	log, err := os.ReadFile(filepath.Join(dir, "imapd.log"))
	for _, want := range []string{
		` INFO login failure: client=127.0.0.1 user="root" failures=1 address_failures=3` + "\n",
		` INFO login failure: client=127.0.0.1 user="daemon" failures=1 address_failures=4` + "\n",
	} {
		if err != nil || !strings.Contains(string(log), want) {
			t.Errorf("imapd.log (%v) lacks %q:\n%s", err, want, log)
		}
	}
}
