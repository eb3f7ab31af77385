package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"imapd/config"
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
// connection as its stdin and stdout; with -tls on a TLS listener: the
// child reads the certificate itself) when it needsOwnProcess, else to the
// server (as a TLS connection on a TLS listener). A connection's place is
// given back when its child exits, or when the server closes it.
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
		if err := l.kids.spawn(c, l.a.path, l.tls != nil, release, cfg.ImapdLoginDelay, cfg.ImapdLoginDelayMax); err != nil {
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
	log      *logging.Logger
	logins   *server.LoginFailures // of all the children (report.go)
	mu       sync.Mutex
	stopping bool
	procs    map[*os.Process]struct{}
	wg       sync.WaitGroup
}

func newChildren(log *logging.Logger) *children {
	return &children{log: log, procs: map[*os.Process]struct{}{}, logins: server.NewLoginFailures()}
}

// spawn starts this program in inetd mode on c (with -tls when implicit);
// c is closed here (the child has its own descriptor). release is called
// when the child has exited, or at once if it could not start. The child
// reports its failed logins to k.logins, whose delays follow loginDelay and
// loginDelayMax (report.go).
func (k *children) spawn(c net.Conn, conf string, implicit bool, release func(), loginDelay, loginDelayMax time.Duration) error {
	defer c.Close()
	started := false
	defer func() {
		if !started {
			release()
		}
	}()
	fc, ok := c.(interface{ File() (*os.File, error) })
	if !ok {
		return fmt.Errorf("connection %T has no descriptor to pass on", c)
	}
	f, err := fc.File()
	if err != nil {
		return fmt.Errorf("descriptor of the connection: %w", err)
	}
	defer f.Close()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this program: %w", err)
	}
	args := []string{"-i", conf}
	if implicit {
		args = append(args, "-tls")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = f, f, os.Stderr
	setChildAttrs(cmd)
	reports, err := k.shareLogins(cmd, c.RemoteAddr(), loginDelay, loginDelayMax)
	if err != nil {
		return err
	}
	defer func() { reports(started) }()
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stopping {
		return fmt.Errorf("shutting down")
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", exe, err)
	}
	started = true
	k.procs[cmd.Process] = struct{}{}
	k.wg.Add(1)
	k.log.Debugf("connection from %s: session process %d", c.RemoteAddr(), cmd.Process.Pid)
	go func() {
		cmd.Wait()
		release()
		k.mu.Lock()
		delete(k.procs, cmd.Process)
		k.mu.Unlock()
		k.wg.Done()
	}()
	return nil
}

// shutdown sends SIGTERM to every child (each says BYE after saving) and
// waits for them; when ctx ends first the rest are killed.
func (k *children) shutdown(ctx context.Context) error {
	k.mu.Lock()
	k.stopping = true
	for p := range k.procs {
		p.Signal(syscall.SIGTERM)
	}
	k.mu.Unlock()
	done := make(chan struct{})
	go func() {
		k.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		k.mu.Lock()
		for p := range k.procs {
			p.Kill()
		}
		k.mu.Unlock()
		<-done
		return ctx.Err()
	}
}
