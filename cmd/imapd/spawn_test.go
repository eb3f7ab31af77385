package main

import (
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"imapd/auth"
	"imapd/config"
	"imapd/logging"
	"imapd/platform"
)

func TestNeedsOwnProcess(t *testing.T) {
	root := platform.Privileged()
	for _, c := range []struct {
		method string
		become bool
		want   bool
	}{
		{"unix_user", true, root},
		{"", true, root}, // the unix default (Privileged is false on Windows)
		{"UNIX_USER", true, root},
		{"unix_user", false, false},
		{"external", true, root}, // the authenticator may name a uid: a process each
		{"external", false, false},
		{"nt_user", true, false},
	} {
		cfg := &config.Config{AuthentMethod: c.method, ImapdBecomeUser: c.become}
		if got := needsOwnProcess(cfg); got != c.want {
			t.Errorf("method %q become %v: %v, want %v", c.method, c.become, got, c.want)
		}
	}
}

// TestSessionCommandEnv: a session process gets both GOMAXPROCS=1 and its
// login report in its environment (sharing the failed logins once replaced
// the whole environment, and GOMAXPROCS=1 never reached the children).
func TestSessionCommandEnv(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no session processes on Windows")
	}
	t.Setenv("GOMAXPROCS", "")
	os.Unsetenv("GOMAXPROCS")
	k := newChildren(logging.New(io.Discard, logging.LevelError))
	client := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 143}
	cmd, reports, err := k.command("/etc/dmail.conf", true, client, &config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer reports(false)
	if !slices.Contains(cmd.Env, "GOMAXPROCS=1") {
		t.Errorf("no GOMAXPROCS=1 in %q", cmd.Env)
	}
	if !slices.ContainsFunc(cmd.Env, func(e string) bool { return strings.HasPrefix(e, envLoginReport+"=0 ") }) {
		t.Errorf("no %s in %q", envLoginReport, cmd.Env)
	}
	if !slices.Equal(cmd.Args[1:], []string{"-i", "/etc/dmail.conf", "-tls"}) || len(cmd.ExtraFiles) != 2 {
		t.Errorf("args %q, %d extra files", cmd.Args, len(cmd.ExtraFiles))
	}

	// With an external authenticator the daemon lends its own (relay.go).
	k.auth = func() (auth.Authenticator, error) { return nil, auth.ErrUnavailable }
	cmd, lend, err := k.command("/etc/dmail.conf", false, client, &config.Config{AuthentMethod: "external"})
	if err != nil {
		t.Fatal(err)
	}
	defer lend(false)
	if len(cmd.ExtraFiles) != relayFD-2 || !slices.Contains(cmd.Env, envAuthRelay+"=5") || !slices.Contains(cmd.Env, "GOMAXPROCS=1") {
		t.Errorf("external: %d extra files, env %q", len(cmd.ExtraFiles), cmd.Env)
	}

	// A GOMAXPROCS the administrator set is the children's too.
	t.Setenv("GOMAXPROCS", "3")
	cmd, reports, err = k.command("/etc/dmail.conf", false, client, &config.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer reports(false)
	if slices.Contains(cmd.Env, "GOMAXPROCS=1") || !slices.Contains(cmd.Env, "GOMAXPROCS=3") {
		t.Errorf("GOMAXPROCS in %q", cmd.Env)
	}
}

// A process started through the set-uid bit, or told another descriptor,
// does not take the relay (a user could otherwise hand it an authenticator
// of their own); the variable is gone either way.
func TestAuthRelayRefused(t *testing.T) {
	for _, c := range []struct {
		value  string
		setuid bool
	}{{"5", true}, {"0", false}, {"5 ", false}} {
		t.Setenv(envAuthRelay, c.value)
		if got := openAuthRelay(c.setuid); got != nil {
			t.Errorf("%q setuid %v: took %v", c.value, c.setuid, got)
		}
		if _, ok := os.LookupEnv(envAuthRelay); ok {
			t.Errorf("%q setuid %v: %s still set", c.value, c.setuid, envAuthRelay)
		}
	}
}
