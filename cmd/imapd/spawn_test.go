package main

import (
	"testing"

	"imapd/config"
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
