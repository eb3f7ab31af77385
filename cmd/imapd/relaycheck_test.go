package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// imapd -relay-check IP: exit 0 for a fresh record, 1 for none or a stale
// one, 2 for a bad address.
func TestRelayCheck(t *testing.T) {
	dir := tempDir(t)
	conf := writeConfig(t, dir, "forward_user true", "forward_window 300")
	now := time.Now().Unix()
	records := fmt.Sprintf("%d 192.0.2.1 old\n%d 192.0.2.7 alice\n", now-301, now-10)
	if err := os.WriteFile(filepath.Join(dir, "forward.dat"), []byte(records), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ip   string
		code int
		out  string
	}{
		{"192.0.2.7", 0, "allowed: alice logged in from 192.0.2.7"},
		{"192.0.2.1", 1, "not allowed"},
		{"192.0.2.99", 1, "not allowed"},
		{"banana", 2, ""},
	} {
		cmd, _ := imapd(t, "-i", conf, "-relay-check", c.ip)
		out, err := cmd.Output()
		if code := exitCode(t, err); code != c.code || !strings.Contains(string(out), c.out) {
			t.Errorf("-relay-check %s: exit %d %q, want %d %q", c.ip, code, out, c.code, c.out)
		}
	}
}
