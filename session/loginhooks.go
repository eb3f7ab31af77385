package session

import (
	"time"

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
