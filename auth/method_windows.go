//go:build windows

package auth

import (
	"errors"
	"fmt"

	"imapd/config"
	"imapd/platform"
)

const defaultMethod = "nt_user"

// newNTUser checks Windows account passwords (LogonUser, network logon).
func newNTUser(cfg *config.Config) (Authenticator, error) { return ntUser{}, nil }

type ntUser struct{}

func (ntUser) Check(user, pass, clientIP string) (*Result, error) {
	err := platform.CheckWindowsPassword(user, pass)
	switch {
	case err == nil:
		return &Result{User: user, UID: -1, GID: -1}, nil
	case errors.Is(err, platform.ErrLogonRejected):
		return nil, fmt.Errorf("%w: %v", ErrRejected, err)
	default:
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
}

func (ntUser) Close() error { return nil }

func newUnixUser(cfg *config.Config) (Authenticator, error) {
	return nil, fmt.Errorf("unix_user authentication is not available on Windows: use nt_user or external")
}
