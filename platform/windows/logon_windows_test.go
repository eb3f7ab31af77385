package windows

import (
	"errors"
	"testing"

	"golang.org/x/sys/windows"
)

// underWine reports whether the test runs under Wine (its ntdll exports
// wine_get_version).
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

func TestLogonUserRejectsMalformed(t *testing.T) {
	for _, c := range []struct{ user, domain, password string }{
		{"", "", "secret"},
		{`DOMAIN\`, "", "secret"},
		{"alice", "", "sec\x00ret"},
	} {
		if err := LogonUser(c.user, c.domain, c.password); !errors.Is(err, ErrLogonRejected) {
			t.Errorf("LogonUser(%q, %q, %q) = %v, want ErrLogonRejected", c.user, c.domain, c.password, err)
		}
	}
}

func TestLogonUser(t *testing.T) {
	err := LogonUser("imapd-no-such-user", "", "wrong password")
	if underWine() {
		// Wine's LogonUserW is a stub ("FIXME ... stub") that accepts any
		// name and password and hands out a fake token. What is real here
		// is only the call through advapi32; this pins Wine's behaviour so
		// the day it changes the test says so.
		if err != nil {
			t.Fatalf("under Wine LogonUserW accepted everything so far; now: %v", err)
		}
		if err := LogonUser(`WORKGROUP\imapd-no-such-user`, "", "x"); err != nil {
			t.Fatalf("under Wine, DOMAIN\\user: %v", err)
		}
		t.Log("Wine's LogonUserW accepts any credentials: only the call path is tested")
		return
	}
	if !errors.Is(err, ErrLogonRejected) {
		t.Fatalf("LogonUser of an unknown user = %v, want ErrLogonRejected", err)
	}
}
