package main

import (
	"sync"

	"imapd/auth"
	"imapd/config"
	"imapd/logging"
)

// sharedAuth is the pool of external authenticators (and its cache) that a
// -listen daemon shares between the sessions it serves in its own process
// (authent_number, authent_cache, auth_nocache). The configuration is read
// for every connection: when the authentication settings change, the next
// connection gets a new pool and the old one is closed once the requests
// it is answering are done.
type sharedAuth struct {
	log    *logging.Logger
	mu     sync.Mutex
	key    auth.Shared
	cur    auth.Authenticator
	closed bool // the daemon is stopping: no new pool
}

// get returns the shared authenticator for cfg, nil when cfg does not use
// external authentication or the pool cannot be made (the session then
// makes its own and reports the problem at LOGIN).
func (s *sharedAuth) get(cfg *config.Config) auth.Authenticator {
	k, ok := auth.SharedKey(cfg)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	if s.cur != nil && s.key == k {
		return s.cur
	}
	a, err := auth.NewShared(k)
	if err != nil {
		s.log.Errorf("external authenticator pool: %v", err)
		return nil
	}
	if old := s.cur; old != nil {
		s.log.Infof("authentication settings changed: new authenticator pool")
		go old.Close()
	}
	s.key, s.cur = k, a
	return a
}

// close ends the pool's processes; later gets return nil (a session
// process still logging in gets "unavailable", not a new pool).
func (s *sharedAuth) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.cur != nil {
		s.cur.Close()
		s.cur = nil
	}
}
