package session

import (
	"errors"
	"strings"

	"github.com/emersion/go-imap/v2"

	"imapd/account"
	"imapd/auth"
	"imapd/folders"
	"imapd/platform"
)

// loginFailed is the legacy reply to a refused LOGIN.
var loginFailed = &imap.Error{Type: imap.StatusResponseTypeNo, Text: "LOGIN failed"}

// Login checks the user's password and finds their mail.
func (s *Session) Login(username, password string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := s.deps.Config
	host := s.clientIP()

	acct, err := account.Resolve(cfg, username, host, ipOf(s.conn.LocalAddr()))
	if err != nil {
		s.deps.Log.Infof("login refused user=%q host=%s: %v", username, host, err)
		return loginFailed
	}
	if cfg.LowercasePassword {
		password = strings.ToLower(password)
	}
	if s.authn == nil {
		s.authn, err = auth.New(cfg)
		if err != nil {
			s.deps.Log.Errorf("login user=%s host=%s: authentication not available: %v", acct.User, host, err)
			return no(imap.ResponseCodeUnavailable, "LOGIN failed: authentication is not available, try later")
		}
	}
	res, err := s.authn.Check(acct.AuthName, password, host)
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		s.deps.Log.Errorf("login user=%s host=%s: authenticator unavailable: %v", acct.User, host, err)
		return no(imap.ResponseCodeUnavailable, "LOGIN failed: authentication temporarily unavailable, try later")
	case err != nil:
		s.deps.Log.Infof("login failed user=%s host=%s: %v", acct.User, host, err)
		return loginFailed
	}
	if res.DropFile != "" {
		acct.UseDropFile(res.DropFile)
	}
	s.acct = acct
	s.tree = folders.New(acct.FolderRoot, acct.DropFile, platform.SubscriptionFile())
	s.conn.Authenticated()
	s.deps.Log.Infof("login %s inbox=%s", s.who(), acct.DropFile)
	return nil
}
