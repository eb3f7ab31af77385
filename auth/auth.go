// Package auth owns password checks: authent_method external (a child
// process speaking DMail's external authentication protocol, see External),
// unix_user (passwd/shadow files and every crypt(3) scheme in current use,
// see Unix and VerifyCrypt) and the nt_user stub. It knows nothing about
// IMAP: callers pass the name from account.Account.AuthName and get a
// *Result, ErrRejected (wrong user or password: the client gets NO) or
// ErrUnavailable (a temporary failure: the client should try again later).
//
// A -listen daemon serving sessions in its own process shares one Pool of
// authent_number external processes between them, behind a Cache of
// authent_cache successful answers (NewShared); a one-connection process
// uses one External (New), or, when such a daemon started it, the daemon's
// shared one through a Relay.
//
// lowercase_password is applied here, by every method, before the password
// is checked. Passwords are never logged, never put in an error, and never
// passed on a command line.
package auth

import (
	"errors"
	"fmt"
	"strings"

	"imapd/config"
)

// Result is a successful check.
type Result struct {
	User     string // the user name as the authenticator knows it (canonical spelling)
	DropFile string // drop file path from the authenticator, "" when it gave none (use the computed one)
	Info     string // authenticator's info field, "" when none
	UID      int    // unix user id; -1 unknown
	GID      int    // unix group id; -1 unknown (unix_user only)
	Home     string // home directory, "" unknown (unix_user only)
}

var (
	// ErrRejected means the user name or password is wrong, or the account
	// may not log in. Errors wrap it with the reason, for the log.
	ErrRejected = errors.New("authentication rejected")
	// ErrUnavailable means no answer could be had now: the authenticator
	// said -DEAD, crashed, did not answer in time, could not be started, or
	// a password file could not be read. Errors wrap it with the cause.
	ErrUnavailable = errors.New("authentication unavailable")
)

// Authenticator checks passwords. Implementations are safe for use by one
// goroutine at a time at least; External and Unix serialise calls themselves.
type Authenticator interface {
	// Check verifies user's password; clientIP is the peer's address ("" when unknown).
	Check(user, pass, clientIP string) (*Result, error)
	// Close releases the authenticator (ends a child process).
	Close() error
}

// New returns the authenticator authent_method selects: "external" (the
// process named by imapd_authent_process, else authent_process), "unix_user"
// or "nt_user". An empty method means the platform default (nt_user on
// Windows, unix_user elsewhere).
func New(cfg *config.Config) (Authenticator, error) {
	if cfg == nil {
		return nil, fmt.Errorf("authentication: no configuration")
	}
	method := strings.ToLower(strings.TrimSpace(cfg.AuthentMethod))
	if method == "" {
		method = defaultMethod
	}
	switch method {
	case "external":
		if c := takeRelay(); c != nil {
			return NewRelay(c, cfg.AuthentTimeout), nil
		}
		command := cfg.ImapdAuthentProcess
		if strings.TrimSpace(command) == "" {
			command = cfg.AuthentProcess
		}
		e, err := NewExternal(command, cfg.AuthentTimeout)
		if err != nil {
			return nil, err
		}
		e.lowerPass = cfg.LowercasePassword
		return e, nil
	case "unix_user":
		return newUnixUser(cfg)
	case "nt_user":
		return newNTUser(cfg)
	default:
		return nil, fmt.Errorf("authent_method %q is not supported (use external, unix_user or nt_user)", cfg.AuthentMethod)
	}
}

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}

func unavailable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnavailable, fmt.Sprintf(format, args...))
}

// checkUserName refuses names that cannot travel in the external protocol:
// empty, or holding white space or control characters. (Unix also refuses
// ':', which cannot be in a passwd entry.)
func checkUserName(user string) error {
	if user == "" {
		return rejected("empty user name")
	}
	for i := 0; i < len(user); i++ {
		if c := user[i]; c <= ' ' || c == 0x7f {
			return rejected("user name holds a space or control character")
		}
	}
	return nil
}

// checkPassword refuses passwords the protocol cannot carry.
func checkPassword(pass string) error {
	if pass == "" {
		return rejected("empty password")
	}
	if strings.ContainsAny(pass, "\r\n\x00") {
		return rejected("password holds CR, LF or NUL")
	}
	return nil
}
