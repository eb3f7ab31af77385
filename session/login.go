package session

import (
	"errors"
	"net"
	"path/filepath"
	"strings"

	"github.com/emersion/go-imap/v2"

	"imapd/account"
	"imapd/auth"
	"imapd/config"
	"imapd/folders"
	"imapd/platform"
)

// loginFailed is the legacy reply to a refused LOGIN.
var loginFailed = &imap.Error{Type: imap.StatusResponseTypeNo, Text: "LOGIN failed"}

// Login checks the user's password and finds their mail.
//
// On unix, a process running as root becomes the user here, before any of
// the user's files is touched (the session opens files only after Login),
// when the authenticator gave a uid and imapd_become_user is true (see
// becomeUser). Users found in the system password file (not in a
// vdomain_passwd file) keep their folders in ~/<imapd_mailbox_name> when
// that is set.
func (s *Session) Login(username, password string) error {
	if err := s.begin("LOGIN"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	cfg := s.deps.Config
	host := s.clientIP()

	acct, err := account.Resolve(cfg, username, host, s.localIP())
	if err != nil {
		s.deps.Log.Infof("login refused user=%q host=%s: %v", username, host, err)
		return loginFailed
	}
	if cfg.LowercasePassword {
		password = strings.ToLower(password)
	}
	authn := s.deps.Auth
	if authn == nil {
		if s.authn == nil {
			s.authn, err = auth.New(cfg)
			if err != nil {
				s.deps.Log.Errorf("login user=%s host=%s: authentication not available: %v", acct.User, host, err)
				return no(imap.ResponseCodeUnavailable, "LOGIN failed: authentication is not available, try later")
			}
		}
		authn = s.authn
	}
	res, err := authn.Check(acct.AuthName, password, host)
	switch {
	case errors.Is(err, auth.ErrUnavailable):
		s.deps.Log.Errorf("login user=%s host=%s: authenticator unavailable: %v", acct.User, host, err)
		return no(imap.ResponseCodeUnavailable, "LOGIN failed: authentication temporarily unavailable, try later")
	case err != nil:
		s.deps.Log.Infof("login failed user=%s host=%s: %v", acct.User, host, err)
		return loginFailed
	}
	// No more passwords to check on this connection: the authenticator
	// (a process started as root, for external) goes before we change
	// identity.
	if s.authn != nil {
		s.authn.Close()
		s.authn = nil
	}

	s.recordRelay(acct.User, host)
	if res.DropFile != "" {
		acct.UseDropFile(res.DropFile)
	}
	system := usesSystemPasswd(cfg, acct.AuthName)
	if name := cfg.ImapdMailboxName; name != "" && res.Home != "" && system && acct.Maildir == "" {
		acct.FolderRoot = filepath.Join(res.Home, name)
	}
	if err := s.becomeUser(acct, res, system); err != nil {
		return err
	}
	// The 4.4.3z fix: a drop file that is a symbolic link or has another
	// name could lead to somebody else's file.
	if err := platform.CheckMailFile(acct.DropFile); err != nil {
		s.deps.Log.Errorf("login refused user=%s host=%s: %v", acct.User, host, err)
		return loginFailed
	}
	if s.deps.NewStore == nil {
		s.deps.Log.Errorf("login refused user=%s host=%s: no storage format configured", acct.User, host)
		return no(imap.ResponseCodeUnavailable, "Mailbox storage not available")
	}
	s.acct = acct
	if acct.Maildir != "" {
		s.tree = folders.NewMaildir(acct.Maildir, platform.SubscriptionFile())
	} else {
		s.tree = folders.New(acct.FolderRoot, acct.DropFile, platform.SubscriptionFile())
	}
	s.storage = s.deps.NewStore(acct)
	s.setQuota(res.Info)
	s.conn.Authenticated()
	s.deps.Log.Infof("login %s inbox=%s", s.who(), acct.DropFile)
	s.deliverBulletins()
	return nil
}

// becomeUser makes the process the authenticated user when it runs as
// root, the authenticator gave a uid and imapd_become_user is true, then
// checks that the user can reach their mail (the manual's "Problems with
// unix-user Authentication"). With imapd_become_user false the process
// stays root.
func (s *Session) becomeUser(acct *account.Account, res *auth.Result, system bool) error {
	cfg := s.deps.Config
	host := s.clientIP()
	// A process that became a user (at a LOGIN then refused: the user
	// cannot read their mail) is no longer root, but must not serve
	// somebody else as that user: BecomeUser refuses another uid, and a
	// user without one is refused here.
	became := platform.BecameUser()
	if res.UID < 0 && became {
		s.deps.Log.Errorf("login refused user=%s host=%s: this session process already became another user at an earlier LOGIN", acct.User, host)
		return no(imap.ResponseCodeUnavailable, "LOGIN failed: server error, try later")
	}
	if res.UID < 0 || !platform.Privileged() && !became {
		return nil
	}
	if !cfg.ImapdBecomeUser {
		s.deps.Log.Debugf("login user=%s host=%s: staying root (imapd_become_user false)", acct.User, host)
		return nil
	}
	u := platform.User{UID: res.UID, GID: res.GID}
	if system && res.GID >= 0 {
		u.Name = acct.AuthName // supplementary groups from the group file
	}
	if err := platform.BecomeUser(u); err != nil {
		s.deps.Log.Errorf("login refused user=%s host=%s: cannot become the user: %v", acct.User, host, err)
		return no(imap.ResponseCodeUnavailable, "LOGIN failed: server error, try later")
	}
	if err := platform.CheckUserAccess(acct.DropFile, acct.FolderRoot); err != nil {
		s.deps.Log.Errorf("login refused user=%s host=%s: problems with unix-user authentication: as uid %d, %v (give the user access, or set imapd_become_user false)", acct.User, host, res.UID, err)
		return loginFailed
	}
	return nil
}

// usesSystemPasswd reports whether unix_user authentication looks authName
// up in the system password file rather than a vdomain_passwd file (auth.Unix
// does so for "user@domain" when the domain has one).
func usesSystemPasswd(cfg *config.Config, authName string) bool {
	at := strings.LastIndexByte(authName, '@')
	if at <= 0 {
		return true
	}
	for d, f := range cfg.VDomainPasswd {
		if f != "" && strings.EqualFold(d, authName[at+1:]) {
			return false
		}
	}
	return true
}

// localIP is the address the client connected to, for IP-based virtual
// domains: the connection's own, else (a pipe, not a socket) dpop_host when
// it is an IP address.
func (s *Session) localIP() string {
	if ip := ipOf(s.conn.LocalAddr()); net.ParseIP(ip) != nil {
		return ip
	}
	if h := s.deps.Config.DpopHost; net.ParseIP(h) != nil {
		return h
	}
	return ""
}
