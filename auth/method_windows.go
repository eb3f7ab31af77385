//go:build windows

package auth

import (
	"fmt"

	"imapd/config"
)

const defaultMethod = "nt_user"

// newNTUser is the Windows account check; it is not written yet.
func newNTUser(cfg *config.Config) (Authenticator, error) {
	return nil, fmt.Errorf("nt_user authentication is not implemented yet")
}

func newUnixUser(cfg *config.Config) (Authenticator, error) {
	return nil, fmt.Errorf("unix_user authentication is not available on Windows: use nt_user or external")
}
