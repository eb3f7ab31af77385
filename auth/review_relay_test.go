package auth

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// IMAP carries 8-bit user names and passwords (literals), and an
// authenticator may answer with 8-bit paths (a Latin-1 drop file). Through
// the relay they must reach the authenticator, and come back, byte for
// byte, as they do in-process: JSON strings turn every byte that is not
// UTF-8 into U+FFFD, so "caf\xe9" and "caf\xe8" were the same password.
func TestRelayKeepsBytes(t *testing.T) {
	r, log := poolRelay(t)

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

// A LOGIN line may hold up to 32 KiB (server's maxLine): a long password
// is the authenticator's to refuse, as in-process, not a broken relay
// (NO [UNAVAILABLE] for the rest of the connection, no failure counted).
func TestRelayLongPassword(t *testing.T) {
	r, _ := poolRelay(t)
	long := strings.Repeat("p", 30<<10)
	if _, err := r.Check("alice", long, ""); !errors.Is(err, ErrRejected) {
		t.Errorf("long password: %v, want rejected", err)
	}
	if _, err := r.Check("alice", "good pass", ""); err != nil {
		t.Errorf("after it: %v", err)
	}
}
