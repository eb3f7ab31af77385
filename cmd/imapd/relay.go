package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"

	"imapd/auth"
	"imapd/config"
)

// The external authenticator of session processes. A -listen daemon that
// starts a process per connection lends each its shared authenticator pool
// (auth.ServeRelay, auth.Relay) instead of letting every one start its own
// authenticator process at LOGIN. The daemon sets envAuthRelay to the
// descriptor (always relayFD) of its end of a socket pair; a process started
// through the set-uid bit ignores it, so does one whose descriptor is not a
// socket. The session closes it after its LOGIN, before it becomes the user.
const (
	envAuthRelay = "IMAPD_AUTH_RELAY"
	relayFD      = 5 // after the login report's 3 and 4
)

// shareAuth sets up cmd, a session process, to ask k.auth for its
// passwords. The returned function must be called after cmd.Start, with
// whether it started. It must follow shareLogins (descriptors 3 and 4).
func (k *children) shareAuth(cmd *exec.Cmd) (func(started bool), error) {
	if len(cmd.ExtraFiles) != relayFD-3 {
		return nil, fmt.Errorf("auth relay: descriptors %d, want %d before it", len(cmd.ExtraFiles), relayFD-3)
	}
	parent, child, err := socketPair()
	if err != nil {
		return nil, fmt.Errorf("auth relay: %w", err)
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, child)
	addEnv(cmd, fmt.Sprintf("%s=%d", envAuthRelay, relayFD))
	return func(started bool) {
		child.Close()
		if !started {
			parent.Close()
			return
		}
		go auth.ServeRelay(parent, k.auth)
	}, nil
}

// openAuthRelay returns the daemon's relay when this process was started
// by a daemon for that; nil otherwise. useAuthRelay hands it on.
func openAuthRelay(setuid bool) net.Conn {
	v, ok := os.LookupEnv(envAuthRelay)
	if !ok {
		return nil
	}
	os.Unsetenv(envAuthRelay) // not for the authenticator
	if setuid || v != fmt.Sprint(relayFD) {
		return nil
	}
	return inheritedSocket(relayFD)
}

// useAuthRelay gives c to auth when cfg uses an external authenticator;
// otherwise (or without a configuration) it closes c, so that no session
// holds a way to the daemon's authenticator that it does not need.
func useAuthRelay(c net.Conn, cfg *config.Config) {
	if c == nil {
		return
	}
	if _, external := auth.SharedKey(cfg); !external {
		c.Close()
		return
	}
	auth.SetRelay(c)
}
