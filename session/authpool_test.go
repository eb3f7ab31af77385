package session_test

import (
	"os/exec"
	"testing"

	"imapd/auth"
)

// useSharedAuth restarts e's server with the authenticator a -listen daemon
// shares between its sessions (cmd/imapd does the same).
func (e *env) useSharedAuth() auth.Authenticator {
	e.t.Helper()
	k, ok := auth.SharedKey(e.cfg)
	if !ok {
		e.t.Fatal("the demo site does not use external authentication")
	}
	a, err := auth.NewShared(k)
	if err != nil {
		e.t.Fatal(err)
	}
	e.stop()
	e.deps.Auth = a
	e.start()
	e.t.Cleanup(func() { a.Close() })
	return a
}

// Logins through the shared pool and cache, over real connections: the
// authenticator outlives each session, a repeated good login is answered
// from the cache (it still works after the password file changed, within
// auth.CacheTTL), a wrong password never is.
func TestLoginSharedAuthenticator(t *testing.T) {
	e := newEnv(t)
	a := e.useSharedAuth()
	for range 3 {
		c := e.dial()
		c.ok("LOGIN alice alice-secret")
		c.ok("SELECT INBOX").has(t, "* 3 EXISTS")
		c.logout()
	}
	c := e.dial()
	c.no("LOGIN alice wrong").taggedIs(t, "NO LOGIN failed")
	if out, err := exec.Command(cryptauthPath, "-add", e.site.Password, "alice", "new-secret").CombinedOutput(); err != nil {
		t.Fatalf("cryptauth -add: %v %s", err, out)
	}
	c.ok("LOGIN alice alice-secret") // from the cache
	c.logout()
	c = e.dial()
	c.ok("LOGIN alice new-secret")
	c.logout()
	if n := a.(*auth.Cache).Len(); n != 2 {
		t.Errorf("%d cache entries, want 2 (one per password that worked)", n)
	}
}

// auth_nocache: every login asks the authenticator.
func TestLoginSharedAuthenticatorNoCache(t *testing.T) {
	e := newEnv(t, "auth_nocache true", "authent_number 3")
	a := e.useSharedAuth()
	if _, ok := a.(*auth.Pool); !ok {
		t.Fatalf("auth_nocache gives %T", a)
	}
	c := e.dial()
	c.ok("LOGIN alice alice-secret")
	c.logout()
	if out, err := exec.Command(cryptauthPath, "-add", e.site.Password, "alice", "new-secret").CombinedOutput(); err != nil {
		t.Fatalf("cryptauth -add: %v %s", err, out)
	}
	c = e.dial()
	c.no("LOGIN alice alice-secret")
	c.ok("LOGIN alice new-secret")
	c.logout()
}
