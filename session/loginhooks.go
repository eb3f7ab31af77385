package session

import (
	"bytes"
	"strings"
	"time"

	"imapd/bulletin"
	"imapd/config"
	"imapd/mailbox"
	"imapd/relay"
)

// What a login does besides checking the password: the forward_user
// record (before the process becomes the user: the records file is
// root's), bulletins and the quota limit (after).

// recordRelay writes the forward_user record of a login whose password
// was right. A failure is logged; the login goes on.
func (s *Session) recordRelay(user, host string) {
	cfg := s.deps.Config
	if !cfg.ForwardUser || host == "" {
		return
	}
	path := relay.Path(cfg)
	if path == "" {
		s.deps.Log.Errorf("login user=%s host=%s: forward_user: no work_path to keep the records in", user, host)
		return
	}
	if err := relay.Add(path, host, user, time.Now(), cfg.ForwardWindow); err != nil {
		s.deps.Log.Errorf("login user=%s host=%s: %v", user, host, err)
	}
}

// mailHost is the domain of addresses imapd makes up: the main
// host_domain, else the host name.
func (s *Session) mailHost() string {
	if d := s.deps.Config.HostDomain; len(d) > 0 && d[0] != "" {
		return d[0]
	}
	return s.deps.Hostname
}

// deliverBulletins appends the bulletins the user has not received yet to
// their INBOX (package bulletin), through the session's ordinary append.
// Failures are logged; the login goes on.
func (s *Session) deliverBulletins() {
	cfg := s.deps.Config
	dirs := bulletin.Dirs(cfg.BulletinPath, s.acct.Domain)
	if len(dirs) == 0 {
		return
	}
	inbox, err := s.messageFolder("INBOX", "bulletin delivery")
	if err != nil {
		s.deps.Log.Errorf("%s: bulletins: %v", s.who(), err)
		return
	}
	host := s.mailHost()
	domain := s.acct.Domain
	if domain == "" {
		domain = host
	}
	r := bulletin.Recipient{DropFile: s.acct.DropFile, To: s.acct.User + "@" + domain, From: cfg.BulletinFrom, Host: host,
		HideOld: hideOldBulletins(cfg)}
	n, err := bulletin.Deliver(dirs, r, func(msg []byte, _ time.Time) error {
		m := mailbox.NewMessage{Body: bytes.NewReader(msg), Size: int64(len(msg)), Sender: "postmaster@" + host}
		_, _, err := s.appendTo(inbox, []mailbox.NewMessage{m})
		return err
	}, func(format string, args ...any) {
		s.deps.Log.Errorf("%s: "+format, append([]any{s.who()}, args...)...)
	})
	if n > 0 {
		s.deps.Log.Infof("%s: %d bulletin(s) delivered", s.who(), n)
	}
	if err != nil {
		s.deps.Log.Errorf("%s: %v", s.who(), err)
	}
}

// hideOldBulletins is DPOP's hide_old_bulls (a setting of the other
// servers, kept in Config.Others): new users do not get the bulletins
// already there.
func hideOldBulletins(cfg *config.Config) bool {
	for i := len(cfg.Others) - 1; i >= 0; i-- {
		if e := cfg.Others[i]; e.Name == "hide_old_bulls" {
			v := strings.ToLower(strings.TrimSpace(e.Value))
			return v == "true" || v == "yes" || v == "on" || v == "1"
		}
	}
	return false
}
