package main

import (
	"strings"
	"testing"
)

func TestDisagreements(t *testing.T) {
	res := func(server string, run int, checks map[string]string) *result {
		return &result{Server: server, Run: run, Checks: checks}
	}
	same := []*result{
		res("imapd", 1, map[string]string{"mixed: cycles": "20", "conn: session processes": "4"}),
		res("dovecot", 1, map[string]string{"mixed: cycles": "20"}),
		res("imapd", 2, map[string]string{"mixed: cycles": "20", "conn: session processes": "4"}),
	}
	if d := disagreements(same); len(d) != 0 {
		t.Errorf("agreeing answers reported as differing: %q", d)
	}
	differ := append(same, res("dovecot", 2, map[string]string{"mixed: cycles": "19", "SEARCH hits": "3"}))
	d := disagreements(differ)
	if len(d) != 2 {
		t.Fatalf("got %d disagreements, want 2 (mixed: cycles, SEARCH hits): %q", len(d), d)
	}
	if !strings.HasPrefix(d[0], "SEARCH hits: ") || !strings.Contains(d[0], "imapd run 1=(none)") {
		t.Errorf("a check one server did not answer: %q", d[0])
	}
	if !strings.HasPrefix(d[1], "mixed: cycles: ") || !strings.Contains(d[1], "dovecot run 2=19") {
		t.Errorf("a differing answer: %q", d[1])
	}
}

func TestMixedMessageDeterministic(t *testing.T) {
	a, b := mixedMessage("u1", 2, 3), mixedMessage("u1", 2, 3)
	if a != b {
		t.Fatal("the same cycle appends different messages: servers would not be comparable")
	}
	if !strings.Contains(a, "\r\n\r\n") || strings.Contains(strings.ReplaceAll(a, "\r\n", ""), "\n") {
		t.Errorf("the appended message must have CRLF lines and a header/body separator: %q", a)
	}
}

func TestValidate(t *testing.T) {
	base := func() options {
		return options{imapd: "imapd", cryptauth: "cryptauth", mbox: "m", mixedMbox: "x",
			mixedUsers: 10, mixedClients: 5, mixedCycles: 1, loginClients: 1, loginN: 1, connN: 1,
			servers: []string{"imapd", "dovecot"}, suites: []string{"steps", "mixed"}}
	}
	o := base()
	if msg := o.validate(); msg != "" {
		t.Fatalf("valid options refused: %s", msg)
	}
	for name, change := range map[string]func(*options){
		"unknown suite":             func(o *options) { o.suites = []string{"nope"} },
		"unknown server":            func(o *options) { o.servers = []string{"nope"} },
		"steps on an inetd server":  func(o *options) { o.servers = []string{"dovecot-unix"} },
		"mixed without its mailbox": func(o *options) { o.mixedMbox = "" },
		"more clients than users":   func(o *options) { o.mixedClients = 11 },
	} {
		o := base()
		change(&o)
		if o.validate() == "" {
			t.Errorf("%s: accepted", name)
		}
	}
}
