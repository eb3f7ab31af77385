package auth

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"imapd/config"
)

// shortTimeout is authent_timeout for the requests that must time out.
const shortTimeout = 200 * time.Millisecond

// setTimeout changes authent_timeout of a running External: the tests start
// the process with a generous timeout (starting can be slow, under -race or
// Wine), then make it short for the request that must time out.
func setTimeout(e *External, d time.Duration) {
	e.mu.Lock()
	e.timeout = d
	e.mu.Unlock()
}

func newExt(t *testing.T, command string, timeout time.Duration) *External {
	t.Helper()
	e, err := NewExternal(command, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// noAuthGoroutines waits (by yielding, not sleeping) until no goroutine of
// an authenticator process is left, and fails if one stays.
func noAuthGoroutines(t *testing.T) {
	t.Helper()
	var stacks string
	for i := 0; i < 10000; i++ {
		buf := make([]byte, 1<<20)
		stacks = string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "imapd/auth.(*extProc)") && !strings.Contains(stacks, "imapd/auth.startProc") {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("authenticator goroutines left:\n%s", stacks)
}

func TestExternalCheckOK(t *testing.T) {
	cmd, log := helper(t, "ok")
	e := newExt(t, cmd, 5*time.Second)
	r, err := e.Check("bob", "good pass", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	want := &Result{User: "BOB", DropFile: "/var/spool/mail/bob", UID: 1001, GID: -1, Info: "quota=100 more info"}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %+v, want %+v", r, want)
	}
	lines := readLog(t, log)
	if countPrefix(lines, "start") != 1 || !contains(lines, "pass good pass") || !contains(lines, "ip 192.0.2.1") {
		t.Fatalf("log %q", lines)
	}
	// Unknown client IP is sent as 0.0.0.0; spaces anywhere in the password
	// are sent verbatim; the process is reused.
	r, err = e.Check("bob", "nouid", "")
	if err != nil {
		t.Fatal(err)
	}
	if r.User != "bob" || r.DropFile != "/d/bob" || r.UID != -1 || r.Info != "" {
		t.Fatalf("nouid: %+v", r)
	}
	if _, err := e.Check("bob", "  lead  and trail ", "192.0.2.1"); !errors.Is(err, ErrRejected) {
		t.Fatalf("want rejection, got %v", err)
	}
	lines = readLog(t, log)
	if !contains(lines, "ip 0.0.0.0") || !contains(lines, "pass   lead  and trail ") || countPrefix(lines, "start") != 1 {
		t.Fatalf("log %q", lines)
	}
}

func TestExternalReplyForms(t *testing.T) {
	cmd, _ := helper(t, "ok")
	e := newExt(t, cmd, 5*time.Second)
	cases := []struct {
		pass string
		want Result
	}{
		{"minimal", Result{User: "amy", UID: -1, GID: -1}},
		{"textuid", Result{User: "amy", DropFile: "/d/amy", Info: "info only", UID: -1, GID: -1}},
		{"data", Result{User: "amy", DropFile: "/d/amy", UID: 5, GID: -1}},
		{"crlf", Result{User: "amy", DropFile: "/d/amy", UID: 6, GID: -1}},
		{"partial", Result{User: "amy", DropFile: "/d/amy", UID: 7, GID: -1}}, // last line without newline, then exit
	}
	for _, c := range cases {
		r, err := e.Check("amy", c.pass, "127.0.0.1")
		if err != nil {
			t.Fatalf("%s: %v", c.pass, err)
		}
		if !reflect.DeepEqual(*r, c.want) {
			t.Errorf("%s: got %+v, want %+v", c.pass, *r, c.want)
		}
	}
	r, err := e.Lookup("carl")
	if err != nil || r.User != "carl" || r.DropFile != "/spool/carl" || r.UID != 0 {
		t.Fatalf("lookup: %+v %v", r, err)
	}
}

func TestExternalRejected(t *testing.T) {
	cmd, _ := helper(t, "ok")
	e := newExt(t, cmd, 5*time.Second)
	_, err := e.Check("bob", "s3cr3t-wrong", "127.0.0.1")
	if !errors.Is(err, ErrRejected) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "Invalid login") || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("error %q: want the reason and no password", err)
	}
}

func TestExternalRefusesUnsendable(t *testing.T) {
	cmd, log := helper(t, "ok")
	e := newExt(t, cmd, 5*time.Second)
	for _, c := range [][2]string{
		{"bob", ""}, {"bob", "a\rb"}, {"bob", "a\nb"}, {"bob", "a\x00b"},
		{"", "pw"}, {"b ob", "pw"}, {"b\tob", "pw"}, {"bob\n", "pw"},
	} {
		if _, err := e.Check(c[0], c[1], "127.0.0.1"); !errors.Is(err, ErrRejected) {
			t.Errorf("Check(%q, %q) = %v, want ErrRejected", c[0], c[1], err)
		}
	}
	if lines := readLog(t, log); len(lines) != 0 {
		t.Fatalf("the authenticator was contacted: %q", lines)
	}
}

func TestExternalDeadKeepsProcess(t *testing.T) {
	cmd, log := helper(t, "ok")
	e := newExt(t, cmd, 5*time.Second)
	_, err := e.Check("bob", "dead", "127.0.0.1")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "database down") {
		t.Fatalf("got %v", err)
	}
	if _, err := e.Check("bob", "good pass", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if n := countPrefix(readLog(t, log), "start"); n != 1 {
		t.Fatalf("%d starts, want 1", n)
	}
}

func TestExternalCrashRestarts(t *testing.T) {
	cmd, log := helper(t, "ok")
	e := newExt(t, cmd, 5*time.Second)
	for _, pass := range []string{"crash", "garbage", "long"} {
		_, err := e.Check("bob", pass, "127.0.0.1")
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("%s: got %v", pass, err)
		}
		if pass == "crash" && !strings.Contains(err.Error(), "exit status 3") {
			t.Errorf("crash: %v does not say how the process ended", err)
		}
		if _, err := e.Check("bob", "good pass", "127.0.0.1"); err != nil {
			t.Fatalf("after %s: %v", pass, err)
		}
	}
	// "crash" is asked twice (a process that ends before answering is
	// replaced and asked again once), then one process per failure.
	if n := countPrefix(readLog(t, log), "start"); n != 5 {
		t.Fatalf("%d starts, want 5", n)
	}
	e.Close()
	noAuthGoroutines(t)
}

func TestExternalTimeout(t *testing.T) {
	cmd, log := helper(t, "silent") // answers lookups, never checks
	e := newExt(t, cmd, 30*time.Second)
	if _, err := e.Lookup("bob"); err != nil {
		t.Fatal(err)
	}
	setTimeout(e, shortTimeout)
	_, err := e.Check("bob", "pw", "127.0.0.1")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("got %v", err)
	}
	noAuthGoroutines(t) // killed, reaped, reader stopped
	// The next request starts a new process.
	setTimeout(e, 30*time.Second)
	if _, err := e.Lookup("bob"); err != nil {
		t.Fatal(err)
	}
	if n := countPrefix(readLog(t, log), "start"); n != 2 {
		t.Fatalf("%d starts, want 2", n)
	}
}

func TestExternalMissingProgram(t *testing.T) {
	e := newExt(t, tempDir(t)+"/no-such-authenticator -x", time.Second)
	_, err := e.Check("bob", "pw", "127.0.0.1")
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
}

func TestExternalClose(t *testing.T) {
	cmd, log := helper(t, "ok")
	e := newExt(t, cmd, 5*time.Second)
	if _, err := e.Lookup("bob"); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if !contains(readLog(t, log), "exit") {
		t.Fatalf("exit not sent: %q", readLog(t, log))
	}
	noAuthGoroutines(t)
	if _, err := e.Check("bob", "good pass", "127.0.0.1"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("after Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// A process that ignores "exit" (and the end of its input) is killed
// after the bound. The bound is closeWait, not shortTimeout: the process
// must get to log the "exit" it reads before the kill, which a loaded
// machine may not schedule within a fraction of a second.
func TestExternalCloseKillsDeafProcess(t *testing.T) {
	cmd, log := helper(t, "deaf")
	e := newExt(t, cmd, 30*time.Second)
	if _, err := e.Lookup("bob"); err != nil {
		t.Fatal(err)
	}
	e.Close()
	if !contains(readLog(t, log), "exit") {
		t.Fatalf("exit not sent: %q", readLog(t, log))
	}
	noAuthGoroutines(t)
}

func TestNewSelectsMethod(t *testing.T) {
	cmd, log := helper(t, "ok", "-a", "b")
	cfg := config.Defaults()
	cfg.AuthentMethod = "EXTERNAL"
	cfg.AuthentProcess = "/nonexistent/authenticator"
	cfg.ImapdAuthentProcess = cmd
	cfg.LowercasePassword = true
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Check("bob", "GOOD Pass", "127.0.0.1"); err != nil {
		t.Fatalf("lowercase_password: %v", err)
	}
	lines := readLog(t, log)
	if !contains(lines, "start -a b") || !contains(lines, "pass good pass") {
		t.Fatalf("log %q", lines)
	}
	a.Close()

	// authent_process when imapd_authent_process is unset.
	cfg.ImapdAuthentProcess = ""
	cfg.AuthentProcess = cmd
	a, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Check("bob", "good pass", ""); err != nil {
		t.Fatal(err)
	}
	a.Close()

	cfg.AuthentProcess = " "
	if _, err := New(cfg); err == nil {
		t.Fatal("external without a process accepted")
	}
	cfg.AuthentMethod = "kerberos"
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "kerberos") {
		t.Fatalf("unknown method: %v", err)
	}
	cfg.AuthentMethod = "nt_user"
	_, err = New(cfg)
	if runtime.GOOS != "windows" && (err == nil || !strings.Contains(err.Error(), "only available on Windows")) {
		t.Fatalf("nt_user: %v", err)
	}
	if runtime.GOOS == "linux" {
		for _, m := range []string{"unix_user", ""} {
			cfg.AuthentMethod = m
			a, err := New(cfg)
			if err != nil {
				t.Fatalf("%q: %v", m, err)
			}
			if _, ok := a.(*Unix); !ok {
				t.Fatalf("%q gave %T", m, a)
			}
		}
	}
	if _, err := New(nil); err == nil {
		t.Fatal("nil config accepted")
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}
