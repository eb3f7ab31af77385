package session_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"imapd/relay"
)

// forward_user: a login with the right password records the client's
// address for the SMTP server's relay check; a wrong one does not.
func TestForwardUserRecordsLogin(t *testing.T) {
	e := newEnv(t, "forward_user true", "forward_window 600")
	path := relay.Path(e.cfg)
	c := e.dial()
	c.no("LOGIN alice wrong")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("a failed login wrote %s (%v)", path, err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.dial()
			c.ok("LOGIN alice alice-secret")
			c.logout()
		}()
	}
	wg.Wait()
	r, ok, err := relay.Allowed(path, "127.0.0.1", time.Now(), 600*time.Second)
	if err != nil || !ok || r.User != "alice" {
		t.Fatalf("after the logins: %+v %v %v", r, ok, err)
	}
	if recs, _ := relay.Read(path); len(recs) != 1 {
		t.Errorf("records %+v: one per address", recs)
	}
	if _, ok, _ := relay.Allowed(path, "127.0.0.1", time.Now().Add(601*time.Second), 600*time.Second); ok {
		t.Error("still allowed after forward_window")
	}
}

// forward_user false (the default) records nothing.
func TestForwardUserOff(t *testing.T) {
	e := newEnv(t)
	e.login().logout()
	if _, err := os.Stat(relay.Path(e.cfg)); !os.IsNotExist(err) {
		t.Errorf("records written without forward_user (%v)", err)
	}
}
