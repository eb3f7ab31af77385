package main

import (
	"io"
	"os/exec"
	"testing"

	"imapd/config"
	"imapd/logging"
)

// The daemon's pool: one per authentication settings, none for other
// methods, and none once the daemon closed it (a session process still
// logging in then gets "unavailable", and no process outlives the daemon).
func TestSharedAuth(t *testing.T) {
	tr, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1)")
	}
	s := &sharedAuth{log: logging.New(io.Discard, logging.LevelError)}
	if a := s.get(&config.Config{AuthentMethod: "unix_user"}); a != nil {
		t.Errorf("unix_user: %T", a)
	}
	cfg := &config.Config{AuthentMethod: "external", AuthentProcess: tr, AuthentNumber: 1}
	a := s.get(cfg)
	if a == nil || s.get(cfg) != a {
		t.Fatalf("external: %v, then another", a)
	}
	s.close()
	if b := s.get(cfg); b != nil {
		t.Errorf("after close: %T", b)
	}
}
