package session_test

import (
	"encoding/base64"
	"os/exec"
	"testing"
)

func TestLogin(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	if c.Greeting != "* OK "+testHost+" IMAP4rev1 vtest server ready" {
		t.Errorf("greeting %q", c.Greeting)
	}
	c.bad("SELECT INBOX")
	r := c.no("LOGIN alice wrong")
	r.taggedIs(t, "NO LOGIN failed")
	c.no("LOGIN nobody alice-secret").taggedIs(t, "NO LOGIN failed")
	c.no(`LOGIN alice ""`)
	c.ok(`LOGIN "alice" {12}` + "\r\n" + "alice-secret")
	c.bad("LOGIN alice alice-secret")
	c.ok("SELECT INBOX").has(t, "* 3 EXISTS")
	c.logout()
	if got := c.readEOF(); len(got) != 0 {
		t.Errorf("after LOGOUT: %q", got)
	}
}

// TestLoginSynchronizingLiteral: the password in a literal the client sends
// after the continuation.
func TestLoginSynchronizingLiteral(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.send("L1 LOGIN alice {12}")
	if got := c.readResponse(); got != "+ Ready for literal data" {
		t.Fatalf("continuation: %q", got)
	}
	c.send("alice-secret")
	c.collect("L1").taggedHas(t, "OK ")
}

// TestLoginPasswordWithSpaces: the external protocol carries passwords with
// spaces.
func TestLoginPasswordWithSpaces(t *testing.T) {
	e := newEnv(t)
	if out, err := exec.Command(cryptauthPath, "-add", e.site.Password, "carol", "two words here").CombinedOutput(); err != nil {
		t.Fatalf("cryptauth -add: %v %s", err, out)
	}
	c := e.dial()
	c.no(`LOGIN carol "two words"`)
	c.ok(`LOGIN carol "two words here"`)
	c.ok("SELECT INBOX").has(t, "* 0 EXISTS")
}

func TestAuthenticatePlain(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	bad := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00nope"))
	c.no("AUTHENTICATE PLAIN %s", bad)
	good := base64.StdEncoding.EncodeToString([]byte("\x00alice\x00alice-secret"))
	c.ok("AUTHENTICATE PLAIN %s", good)
	c.ok("SELECT INBOX").has(t, "* 3 EXISTS")
}

// TestUnknownCommand: before login go-imap ends the connection (a guard
// against cross-protocol attacks); after it, BAD and the session goes on.
func TestUnknownCommand(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.bad("FROBNICATE").taggedIs(t, "BAD Unknown command")
	c.bad("XYZZY 1 2 3")
	c.ok("NOOP")

	c2 := e.dial()
	c2.send("A1 FROBNICATE")
	got := c2.readEOF()
	if len(got) == 0 || got[len(got)-1] != "* BYE Unknown command" {
		t.Errorf("before login: %q", got)
	}
}
