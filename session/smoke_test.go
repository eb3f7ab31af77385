package session_test

import "testing"

func TestSmoke(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	for _, cmd := range []string{`SELECT "a&"`, "NOOP", `SELECT "a&" `, "NOOP"} {
		r := c.cmd("%s", cmd)
		t.Logf("%s\n%q\n%q", cmd, r.Untagged, r.Tagged)
	}
}
