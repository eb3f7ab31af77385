package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"

	"imapd/config"
	"imapd/internal/spawn"
	"imapd/logging"
	"imapd/platform"
)

// needsOwnProcess reports whether a -listen daemon must serve a connection
// in a process of its own: when it runs as root with imapd_become_user
// true, a session becomes its user after LOGIN (a process can be only one),
// whether the uid comes from the password file (unix_user) or from the
// external authenticator's answer, which is known only after LOGIN. So
// every connection gets its own process then, as under inetd.
func needsOwnProcess(cfg *config.Config) bool {
	if !platform.Privileged() || !cfg.ImapdBecomeUser {
		return false
	}
	m := strings.ToLower(strings.TrimSpace(cfg.AuthentMethod))
	return m == "unix_user" || m == "external" || m == ""
}

// spawnListener hands each accepted connection that needsOwnProcess to a
// child `imapd -i FILE` (inetd mode, the connection as its stdin and
// stdout, through internal/spawn) and gives the others to the server.
type spawnListener struct {
	net.Listener
	a    *app
	log  *logging.Logger
	kids *children
}

func (l *spawnListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cfg, _, err := l.a.load()
		if err != nil || !needsOwnProcess(cfg) {
			return c, nil // the server tells the client about a bad configuration
		}
		if err := l.kids.spawn(c, l.a.path); err != nil {
			// c is still ours: say why and close it.
			l.log.Errorf("connection from %s: cannot start a session process: %v", c.RemoteAddr(), err)
			io.WriteString(c, "* BYE Server error: cannot start a session process\r\n")
			c.Close()
		}
	}
}

// children are the session processes of a -listen daemon.
type children struct {
	log *logging.Logger
	g   spawn.Group
}

func newChildren(log *logging.Logger) *children {
	k := &children{log: log}
	k.g.Term = true // a session says BYE and saves on SIGTERM
	k.g.Log = log
	return k
}

// spawn starts this program in inetd mode on c. On success the child owns
// c; on failure c is left to the caller.
func (k *children) spawn(c net.Conn, conf string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	cmd := exec.Command(exe, "-i", conf)
	cmd.Stderr = os.Stderr
	ch, err := k.g.Start(c, cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", exe, err)
	}
	k.log.Debugf("connection from %s: session process %d", c.RemoteAddr(), ch.Cmd.Process.Pid)
	return nil
}

// shutdown sends SIGTERM to every child (each says BYE after saving) and
// waits for them; when ctx ends first, the rest have their connections cut
// and, if that is not enough, are killed (see spawn.Group.Shutdown).
func (k *children) shutdown(ctx context.Context) error {
	st := k.g.Shutdown(ctx)
	if st.Cut > 0 || st.Killed > 0 {
		return fmt.Errorf("%d session processes cut, %d killed: %w", st.Cut, st.Killed, context.Cause(ctx))
	}
	return nil
}
