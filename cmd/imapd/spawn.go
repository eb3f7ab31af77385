package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"imapd/auth"
	"imapd/config"
	"imapd/internal/spawn"
	"imapd/logging"
	"imapd/platform"
	"imapd/server"
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

// spawnListener admits each accepted connection through the caps
// (imapd_max_connections, imapd_max_connections_per_ip: a refused one is
// told "* BYE Too many connections" and closed before anything else
// happens), then hands it to a child `imapd -i FILE` (inetd mode, the
// connection as its stdin and stdout, through internal/spawn; with -tls on
// a TLS listener: the child reads the certificate itself) when it
// needsOwnProcess, else to the server (as a TLS connection on a TLS
// listener). A connection's place is given back when its child exits, or
// when the server closes it.
type spawnListener struct {
	net.Listener
	a      *app
	log    *logging.Logger
	kids   *children
	tls    *server.TLS // implicit TLS; nil = plain
	limits *server.Limiter
}

func (l *spawnListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, ok := l.limits.Admit(c)
		if !ok {
			continue
		}
		// The configuration is read for every connection: the caps of
		// the next ones follow it.
		cfg, _, err := l.a.load()
		if err == nil {
			l.limits.SetLimits(cfg.ImapdMaxConnections, cfg.ImapdMaxConnectionsPerIP)
		}
		if err != nil || !needsOwnProcess(cfg) {
			rc := server.ReleaseOnClose(c, release)
			if l.tls != nil {
				return tls.Server(rc, l.tls.Config()), nil
			}
			return rc, nil // the server tells the client about a bad configuration
		}
		if err := l.kids.spawn(c, l.a.path, l.tls != nil, release, cfg); err != nil {
			// c is still ours: say why and close it.
			l.log.Errorf("connection from %s: cannot start a session process: %v", c.RemoteAddr(), err)
			if l.tls == nil {
				io.WriteString(c, "* BYE Server error: cannot start a session process\r\n")
			}
			c.Close()
		}
	}
}

// children are the session processes of a -listen daemon.
type children struct {
	log    *logging.Logger
	logins *server.LoginFailures // of all the children (report.go)
	g      spawn.Group

	// auth returns the daemon's shared external authenticator for its
	// current configuration, lent to the children that use one (relay.go);
	// nil: none is lent.
	auth func() (auth.Authenticator, error)
}

func newChildren(log *logging.Logger) *children {
	k := &children{log: log, logins: server.NewLoginFailures()}
	k.g.Term = true // a session says BYE and saves on SIGTERM
	k.g.Log = log
	return k
}

// spawn starts this program in inetd mode on c (with -tls when implicit).
// On success the child owns c; on failure c is left to the caller. release
// is called when the child has exited, or at once if it could not start.
// The child reports its failed logins to k.logins, whose delays follow
// loginDelay and loginDelayMax (report.go).
func (k *children) spawn(c net.Conn, conf string, implicit bool, release func(), cfg *config.Config) error {
	started := false
	defer func() {
		if !started {
			release()
		}
	}()
	cmd, reports, err := k.command(conf, implicit, c.RemoteAddr(), cfg)
	if err != nil {
		return err
	}
	defer func() { reports(started) }()
	ch, err := k.g.Start(c, cmd)
	if err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	started = true
	k.log.Debugf("connection from %s: session process %d", c.RemoteAddr(), ch.Cmd.Process.Pid)
	go func() {
		ch.Wait()
		release()
	}()
	return nil
}

// command is the session process for a connection from client: this
// program in inetd mode (-i conf, -tls when implicit), with GOMAXPROCS=1
// unless the daemon's environment sets it, its failed logins shared with k
// (shareLogins, with cfg's delays) and, when cfg uses an external
// authenticator, k's lent to it (shareAuth). The returned function must be
// called after Start, with whether it started.
func (k *children) command(conf string, implicit bool, client net.Addr, cfg *config.Config) (*exec.Cmd, func(started bool), error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, fmt.Errorf("find this program: %w", err)
	}
	args := []string{"-i", conf}
	if implicit {
		args = append(args, "-tls")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = os.Stderr
	if os.Getenv("GOMAXPROCS") == "" {
		// A session runs one command at a time: one P from the runtime's
		// start saves each further P's span caches and the threads that
		// ran them, ~300 KiB of a session process's anonymous memory on 2
		// CPUs (more on bigger machines). It must be in the environment:
		// runtime.GOMAXPROCS(1) in main, after the package inits ran on
		// every P, measured 100 KiB worse, not better (issue 10).
		addEnv(cmd, "GOMAXPROCS=1")
	}
	reports, err := k.shareLogins(cmd, client, cfg.ImapdLoginDelay, cfg.ImapdLoginDelayMax)
	if err != nil {
		return nil, nil, err
	}
	if _, external := auth.SharedKey(cfg); !external || k.auth == nil || runtime.GOOS == "windows" {
		return cmd, reports, nil
	}
	lend, err := k.shareAuth(cmd)
	if err != nil {
		reports(false)
		return nil, nil, err
	}
	return cmd, func(started bool) {
		reports(started)
		lend(started)
	}, nil
}

// addEnv adds kv to the environment cmd starts with, which is this
// process's plus what was added before (an Env set from nothing would
// drop the rest: once, GOMAXPROCS=1).
func addEnv(cmd *exec.Cmd, kv string) {
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, kv)
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
