//go:build unix

package mbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A symbolic or hard link planted at a mailbox name is refused, never
// followed (the legacy 4.4.3z security fix): not by Open, not by AppendTo,
// not by Stat.
func TestLinksRefused(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	body := "From a@b Mon Nov 23 10:00:00 2026\nSubject: secret\n\nsecret\n\n"
	if err := os.WriteFile(secret, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	sym := filepath.Join(dir, "sym")
	hard := filepath.Join(dir, "hard")
	if err := os.Symlink(secret, sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(secret, hard); err != nil {
		t.Fatal(err)
	}
	opt := Options{UseFlock: true}
	for _, p := range []string{sym, hard} {
		if mb, err := Open(p, opt); err == nil {
			mb.Close()
			t.Errorf("Open(%s) followed a link", filepath.Base(p))
		}
		if _, _, err := AppendTo(p, nil, opt); err == nil {
			t.Errorf("AppendTo(%s) followed a link", filepath.Base(p))
		}
		if _, err := Stat(p, opt); err == nil {
			t.Errorf("Stat(%s) followed a link", filepath.Base(p))
		}
	}
	if b, _ := os.ReadFile(secret); !strings.HasPrefix(string(b), body) || len(b) != len(body) {
		t.Errorf("the linked file was changed:\n%s", b)
	}
}
