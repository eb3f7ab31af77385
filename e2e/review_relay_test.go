package e2e

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"imapd/internal/imaptest"
)

// A LOGIN whose session became the user (root, imapd_become_user) and was
// then refused (the user cannot read their drop file) leaves the process
// running as that user for good. A second LOGIN on that connection, as
// somebody else (with another uid, or none), must not give a session of
// that other user running with the first user's identity (their files,
// their rights): it is refused.
func TestSecondLoginAfterBecomingUser(t *testing.T) {
	if os.Geteuid() != 0 || runtime.GOOS != "linux" {
		t.Skip("a session becomes its user only as root")
	}
	// A directory anybody can enter (t.TempDir's parent is root's only):
	// the authenticator, and bob's drop file.
	dir, err := os.MkdirTemp("", "review-relay")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A real authenticator (the external protocol, in sh): alice is uid
	// 65534 (nobody), whose drop file in the root-only spool it cannot
	// read; bob has uid 0 and a drop file where anybody can look.
	script := filepath.Join(dir, "auth.sh")
	if err := os.WriteFile(script, []byte(`#!/bin/sh
while read verb user pass ip; do
  case "$verb $user $pass" in
  "check alice alice-secret") echo "+OK alice $SPOOL/alice 65534" ;;
  "check bob bob-secret") echo "+OK bob $BOBDIR/bob 0" ;;
  "check carol carol-secret") echo "+OK carol $BOBDIR/carol" ;;
  exit*) echo "+OK"; exit 0 ;;
  *) echo "-ERR Invalid login" ;;
  esac
done
`), 0o755); err != nil {
		t.Fatal(err)
	}
	site := newSite(t, "authent_process "+script, "imapd_login_delay 0")
	if err := os.Chmod(site.Spool, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob", "carol"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SPOOL", site.Spool)
	t.Setenv("BOBDIR", dir)
	srv := startListen(t, site)
	c := imaptest.Dial(t, srv.Addr)
	c.Greeting("* OK")
	c.NO("LOGIN alice alice-secret")
	c.NO("LOGIN bob bob-secret")
	// carol's authenticator gives no uid: a session stays as the process
	// is, which is alice's identity now.
	c.NO("LOGIN carol carol-secret")
}
