package auth

import (
	"slices"
	"testing"
)

// IMAP carries 8-bit user names and passwords (literals), and an
// authenticator may answer with 8-bit paths (a Latin-1 drop file). Through
// the relay they must reach the authenticator, and come back, byte for
// byte, as they do in-process: JSON strings turn every byte that is not
// UTF-8 into U+FFFD, so "caf\xe9" and "caf\xe8" were the same password.
func TestRelayKeepsBytes(t *testing.T) {
	cmd, log := helper(t, "normal")
	p, err := NewPool(cmd, 1, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	r := relayPair(t, 0, func() (Authenticator, error) { return p, nil })

	user := "j\xf6rg"
	res, err := r.Check(user, "good pass", "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "/var/spool/mail/" + user; res.DropFile != want {
		t.Errorf("drop file %q, want %q", res.DropFile, want)
	}
	if _, err := r.Check("alice", "caf\xe9", ""); err == nil {
		t.Fatal("wrong password accepted")
	}
	if got := readLog(t, log); !slices.Contains(got, "pass caf\xe9") {
		t.Errorf("the authenticator did not get the password as sent: %q", got)
	}
}
