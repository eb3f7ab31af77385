//go:build !windows

package auth

import (
	"fmt"
	"runtime"

	"imapd/config"
)

const defaultMethod = "unix_user"

func newNTUser(cfg *config.Config) (Authenticator, error) {
	return nil, fmt.Errorf("nt_user authentication is only available on Windows (this is %s)", runtime.GOOS)
}

func newUnixUser(cfg *config.Config) (Authenticator, error) {
	return NewUnix(cfg)
}
