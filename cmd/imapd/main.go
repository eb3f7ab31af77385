// Command imapd is the IMAP server: flags, wiring, exit codes.
//
//	imapd [-i FILE] [-tls]        one session on stdin/stdout (inetd, imapdsvc);
//	                              -tls: the client speaks TLS from the start (port 993)
//	imapd [-i FILE] -listen ADDR [-listen-tls ADDR]
//	                              a daemon serving many connections (-listen-tls:
//	                              implicit TLS, port 993; either or both)
//	imapd [-i FILE] -check        print the configuration and its problems
//	imapd [-i FILE] -relay-check IP   exit 0 when IP logged in within forward_window
//	imapd -version
//
// The configuration is -i, else $DMAIL_CONF, else /etc/dmail.conf
// (%SystemRoot%\system32\dmail.conf on windows). It is read afresh for every
// connection, as the legacy server did. The log is <log_path>/imapd.log
// (log_path defaults to work_path, else the configuration file's directory).
//
// Process model: inetd mode serves one session per process, which may
// become the logged-in user (platform.SetOneSessionProcess). A -listen
// daemon running as root with imapd_become_user true (unix_user or
// external authentication: either may name a uid) hands each connection to a child `imapd -i FILE` (inetd
// mode, the connection as its stdin and stdout; see spawn.go), so one
// user's session can never act as another; otherwise it serves sessions in
// goroutines. Its SIGTERM reaches the children (they save and say BYE).
// Either way a daemon admits connections through one server.Limiter
// (imapd_max_connections, imapd_max_connections_per_ip) before it starts
// anything for them, and counts failed logins per client address across
// all its sessions (session processes report theirs: report.go).
//
// Exit codes: 0 after a session or a graceful shutdown, 1 when the
// configuration cannot be used or the shutdown had to be forced, 2 on bad
// flags. SIGTERM or an interrupt shuts down gracefully (every client gets a
// BYE after its flags are written) within shutdownGrace; a second one closes
// at once. In inetd mode SIGHUP does the same; a daemon reloads its TLS
// certificate then (the configuration itself is read per connection
// anyway), keeping the old one if the new one cannot be used. TLS:
// docs/tls.md.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/auth"
	"imapd/config"
	"imapd/logging"
	"imapd/mailbox/storage"
	"imapd/platform"
	"imapd/server"
	"imapd/session"
)

// version is set at build time: -ldflags "-X main.version=...".
var version = "dev"

// shutdownGrace bounds a graceful shutdown.
const shutdownGrace = 10 * time.Second

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("imapd", flag.ContinueOnError)
	cfgFlag := fs.String("i", "", "configuration `file` (default $DMAIL_CONF, else "+defaultConfig()+")")
	listen := fs.String("listen", "", "serve many connections on `addr` (host:port, or :port / port for dpop_host, else every address) instead of one on stdin/stdout")
	listenTLS := fs.String("listen-tls", "", "serve many connections with implicit TLS (port 993) on `addr`, as well as or instead of -listen")
	tlsFlag := fs.Bool("tls", false, "the client on stdin/stdout speaks TLS from the start (inetd on port 993)")
	check := fs.Bool("check", false, "print the configuration in effect and its problems; exit 1 on errors")
	showVersion := fs.Bool("version", false, "print the version")
	demoFlag := fs.Bool("demo", false, "set up and run a demonstration")
	whereFlag := fs.String("where", "", "print where `user`'s INBOX and folders are, as a session would find them")
	convertFlag := fs.String("convert", "", "copy `user`'s drop file and folders into maildirs (use_maildir), keeping UIDs and flags; see docs/maildir.md")
	relayFlag := fs.String("relay-check", "", "exit 0 when `ip` logged in less than forward_window seconds ago (POP-before-SMTP), else 1")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "imapd: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	if *showVersion {
		fmt.Printf("imapd %s\n", version)
		return 0
	}
	a := &app{path: configPath(*cfgFlag), host: hostname(), setuid: platform.SetuidStart()}
	if a.setuid && (*demoFlag || *listen != "" || *listenTLS != "" || *whereFlag != "" || *convertFlag != "") {
		fmt.Fprintf(os.Stderr, "imapd: -listen, -listen-tls, -demo, -where and -convert must be started by root, not through the set-uid bit\n")
		return 1
	}
	if *tlsFlag && (*listen != "" || *listenTLS != "" || *demoFlag) {
		fmt.Fprintf(os.Stderr, "imapd: -tls is for one session on stdin/stdout; a daemon takes -listen-tls\n")
		return 2
	}
	switch {
	case *demoFlag:
		addr, tlsAddr := *listen, *listenTLS
		if addr == "" {
			addr = demoAddr
		}
		if tlsAddr == "" {
			tlsAddr = demoTLSAddr
		}
		conf, cleanup, err := setupDemo(addr, tlsAddr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "imapd: -demo: %v\n", err)
			return 1
		}
		defer cleanup()
		a.path = conf
		return a.listen(addr, tlsAddr)
	case *check:
		return a.check()
	case *whereFlag != "":
		return a.where(*whereFlag, os.Stdout)
	case *convertFlag != "":
		return a.convert(*convertFlag, os.Stdout)
	case *relayFlag != "":
		return a.relayCheck(*relayFlag, os.Stdout, os.Stderr)
	case *listen != "" || *listenTLS != "":
		return a.listen(*listen, *listenTLS)
	}
	return a.inetd(*tlsFlag)
}

func configPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if env := os.Getenv("DMAIL_CONF"); env != "" {
		return env
	}
	return defaultConfig()
}

func defaultConfig() string { return platform.DefaultConfigPath() }

func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "localhost"
}

type app struct {
	path   string // configuration file
	host   string // for the greeting
	setuid bool   // started through the set-uid bit by another user
}

// load reads the configuration as every session does; one with errors is
// refused (imapd -check shows them). After a set-uid start only a
// configuration nobody but root can have written is read
// (platform.TrustedConfig).
func (a *app) load() (*config.Config, []config.Problem, error) {
	path := a.path
	if a.setuid {
		p, err := platform.TrustedConfig(path)
		if err != nil {
			return nil, nil, fmt.Errorf("set-uid start: refusing the configuration: %w", err)
		}
		path = p
	}
	cfg, problems, err := config.Load(path)
	if err != nil {
		return nil, nil, err
	}
	if config.HasErrors(problems) {
		for _, p := range problems {
			if p.Error {
				return cfg, problems, fmt.Errorf("configuration error (see imapd -check): %s", p)
			}
		}
	}
	return cfg, problems, nil
}

func (a *app) check() int {
	cfg, problems, err := a.load()
	if cfg == nil && err != nil {
		fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
		return 1
	}
	_, tlsProblems := cfg.TLSCertificate(time.Now())
	problems = append(problems, tlsProblems...)
	if err := cfg.WriteCheck(os.Stdout, problems); err != nil {
		fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
		return 1
	}
	if config.HasErrors(problems) {
		return 1
	}
	return 0
}

// openLog opens imapd.log in log_path, else work_path, else the
// configuration file's directory.
func (a *app) openLog(cfg *config.Config) (*logging.Logger, error) {
	dir := filepath.Dir(a.path)
	switch {
	case cfg.LogPath != "":
		dir = cfg.LogPath
	case cfg.WorkPath != "":
		dir = cfg.WorkPath
	}
	level, _ := logging.ParseLevel(cfg.LogLevel)
	return logging.Open(dir, "imapd", level, cfg.MaxLogSize)
}

func (a *app) deps(cfg *config.Config, log *logging.Logger) session.Deps {
	platform.SetLockID(cfg.LockID) // the session lock: UW's /tmp one, or the cluster one
	return session.Deps{Config: cfg, Log: log, Hostname: a.host, Version: version, NewStore: storage.For(cfg, a.host)}
}

func newSession(deps session.Deps, conn session.Conn) (imapserver.Session, error) {
	return session.New(deps, conn), nil
}

func logProblems(log *logging.Logger, problems []config.Problem) {
	for _, p := range problems {
		if p.Error {
			log.Errorf("config: %s", p)
		} else {
			log.Debugf("config: %s", p)
		}
	}
}

// inetd serves the one connection on stdin/stdout. A configuration that
// cannot be used is told to the client as "* BYE <reason>", logged, and
// written to stderr unless stderr is the client too. With implicit (-tls)
// the client speaks TLS from its first byte; without a usable certificate
// it can be told nothing: the reason is logged and the connection closed.
func (a *app) inetd(implicit bool) int {
	stderr := io.Writer(os.Stderr)
	if sameFile(os.Stderr, os.Stdin) || sameFile(os.Stderr, os.Stdout) {
		stderr = io.Discard
	}
	// First: descriptors 3 and 4 are checked before anything can reuse them.
	reports, owedFailures, owedWait := openLoginReport(a.setuid)
	relay := openAuthRelay(a.setuid)
	conn, err := server.StdioConn()
	if err != nil {
		fmt.Fprintf(stderr, "imapd: %v\n", err)
		return 1
	}
	cfg, problems, cfgErr := a.load()
	useAuthRelay(relay, cfg)
	// Without a configuration there is no log directory worth creating a
	// file in (it would be the configuration's, e.g. /etc): the client's
	// BYE and stderr carry the reason.
	log := logging.New(io.Discard, logging.LevelError)
	if cfg != nil {
		var err error
		if log, err = a.openLog(cfg); err != nil {
			fmt.Fprintf(stderr, "imapd: %v\n", err)
		}
	}
	defer log.Close()
	logProblems(log, problems)
	if cfgErr != nil {
		fmt.Fprintf(stderr, "imapd: %v\n", cfgErr)
	}
	var tlsSrv *server.TLS
	var tlsLater func() *server.TLS
	switch {
	case cfgErr != nil:
	case implicit:
		tlsSrv = loadTLS(cfg, log)
	case cfg.TLSEnabled():
		// STARTTLS: the greeting says nothing of TLS, so the certificate
		// is read (and its problems logged) after it, while the client
		// reads it (server.Options.TLSLater); a command that needs it
		// waits for it.
		tlsLater = sync.OnceValue(func() *server.TLS { return loadTLS(cfg, log) })
		defer tlsLater() // its problems reach the log before it closes
	}
	if implicit {
		if tlsSrv == nil {
			err := cfgErr
			if err == nil {
				err = errors.New("-tls needs a usable imapd_tls_cert (see imapd -check)")
			}
			log.Errorf("connection from %s: cannot start TLS: %v", conn.RemoteAddr(), err)
			fmt.Fprintf(stderr, "imapd: cannot start TLS: %v\n", err)
			conn.Close()
			return 1
		}
		conn = tls.Server(conn, tlsSrv.Config())
	}
	platform.SetOneSessionProcess()
	auth.SetOneSessionProcess()
	platform.Warnf = log.Errorf
	srv := server.NewServer(server.Options{
		NewDeps: func(c net.Conn) (session.Deps, error) {
			if cfgErr != nil {
				return session.Deps{}, cfgErr
			}
			log.Debugf("connection from %s to %s", c.RemoteAddr(), c.LocalAddr())
			return a.deps(cfg, log), nil
		},
		NewSession:  newSession,
		Log:         log,
		TLS:         tlsSrv,
		TLSLater:    tlsLater,
		LoginFailed: reports.failedFunc(),
	})
	srv.SeedLoginFailures(conn.RemoteAddr(), owedFailures, owedWait)
	stopped := onSignals(srv, log, nil)
	served := make(chan error, 1)
	go func() { served <- srv.ServeConn(conn) }()
	select {
	case err := <-served:
		if err != nil {
			return 1
		}
		return 0
	case code := <-stopped:
		if code != 0 {
			return code // forced: do not wait for the session
		}
		if err := <-served; err != nil && !errors.Is(err, server.ErrServerClosed) {
			return 1
		}
		return 0
	}
}

// listen runs the daemon on addr (plain, STARTTLS offered when TLS is
// configured) and tlsAddr (implicit TLS); either may be "". The
// configuration is read at start (it must be usable) and again for every
// connection; one log is shared. The certificate is read at start and on
// SIGHUP.
func (a *app) listen(addr, tlsAddr string) int {
	cfg, problems, err := a.load()
	if err != nil {
		fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
		return 1
	}
	log, err := a.openLog(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
	}
	defer log.Close()
	logProblems(log, problems)
	platform.Warnf = log.Errorf
	tlsSrv := loadTLS(cfg, log)
	if tlsAddr != "" && tlsSrv == nil {
		fmt.Fprintf(os.Stderr, "imapd: -listen-tls needs a usable imapd_tls_cert (see imapd -check)\n")
		return 1
	}
	authn := &sharedAuth{log: log}
	defer authn.close()
	authn.get(cfg) // the pool's processes start now, not at the first LOGIN
	srv := server.NewServer(server.Options{
		NewDeps: func(c net.Conn) (session.Deps, error) {
			cfg, problems, err := a.load()
			logProblems(log, problems)
			if err != nil {
				return session.Deps{}, err
			}
			log.Debugf("connection from %s to %s", c.RemoteAddr(), c.LocalAddr())
			d := a.deps(cfg, log)
			d.Auth = authn.get(cfg)
			return d, nil
		},
		NewSession: newSession,
		Log:        log,
		TLS:        tlsSrv,
	})
	kids := newChildren(log)
	kids.auth = func() (auth.Authenticator, error) {
		cfg, _, err := a.load()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", auth.ErrUnavailable, err)
		}
		if shared := authn.get(cfg); shared != nil {
			return shared, nil
		}
		return nil, fmt.Errorf("%w: no external authenticator pool for the configuration", auth.ErrUnavailable)
	}
	stopped := onSignals(srv, log, func() { a.reloadTLS(tlsSrv, log) }, kids.shutdown)
	var lns []*spawnListener
	if addr != "" {
		addr = cfg.ListenAddr(addr)
	}
	if tlsAddr != "" {
		tlsAddr = cfg.ListenAddr(tlsAddr)
	}
	limits := server.NewLimiter(log, cfg.ImapdMaxConnections, cfg.ImapdMaxConnectionsPerIP)
	for _, l := range []struct {
		addr string
		tls  *server.TLS
	}{{addr, nil}, {tlsAddr, tlsSrv}} {
		if l.addr == "" {
			continue
		}
		tcp, err := net.Listen("tcp", l.addr)
		if err != nil {
			fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
			for _, ln := range lns {
				ln.Close()
			}
			return 1
		}
		ln := &spawnListener{Listener: tcp, a: a, log: log, kids: kids, tls: l.tls, limits: limits}
		lns = append(lns, ln)
		what := "listening on"
		if l.tls != nil {
			what = "listening with TLS on"
		}
		log.Infof("imapd %s %s %s", version, what, ln.Addr())
		fmt.Fprintf(os.Stderr, "imapd: %s %s\n", what, ln.Addr())
	}
	served := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { served <- srv.Serve(ln) }()
	}
	for range lns {
		select {
		case err := <-served:
			if err != nil && !errors.Is(err, server.ErrServerClosed) {
				log.Errorf("serve: %v", err)
				fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
				ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
				defer cancel()
				srv.Shutdown(ctx)
				kids.shutdown(ctx)
				return 1
			}
		case code := <-stopped:
			return code
		}
	}
	return <-stopped
}

// loadTLS reads the certificate for a server: nil when TLS is not
// configured or the certificate cannot be used (logged).
func loadTLS(cfg *config.Config, log *logging.Logger) *server.TLS {
	cert, problems := cfg.TLSCertificate(time.Now())
	for _, p := range problems {
		if p.Error {
			log.Errorf("TLS not offered: %s", p)
		} else {
			log.Errorf("TLS: %s", p)
		}
	}
	if cert == nil {
		return nil
	}
	return server.NewTLS(cert, cfg.TLSMinVersion())
}

// reloadTLS reads the certificate again (SIGHUP); one that cannot be used
// leaves the old one in place.
func (a *app) reloadTLS(t *server.TLS, log *logging.Logger) {
	cfg, problems, err := a.load()
	logProblems(log, problems)
	if err != nil {
		log.Errorf("SIGHUP: certificate not reloaded: %v", err)
		return
	}
	if t == nil {
		if cfg.TLSEnabled() {
			log.Errorf("SIGHUP: TLS was not on at start: restart imapd to turn it on")
		} else {
			log.Infof("SIGHUP: no TLS configured, nothing to reload")
		}
		return
	}
	if !cfg.TLSEnabled() {
		log.Errorf("SIGHUP: imapd_tls_cert is no longer set: restart imapd to turn TLS off; the certificate stays")
		return
	}
	cert, problems := cfg.TLSCertificate(time.Now())
	for _, p := range problems {
		log.Errorf("SIGHUP: %s", p)
	}
	if cert == nil {
		log.Errorf("SIGHUP: the new certificate cannot be used: keeping the old one")
		return
	}
	t.SetCertificate(cert)
	log.Infof("SIGHUP: certificate reloaded from %s (subject %s, expires %s)", cfg.ImapdTLSCert,
		cert.Leaf.Subject, cert.Leaf.NotAfter.UTC().Format(time.DateOnly))
}

// onSignals shuts srv down on SIGTERM or an interrupt (and SIGHUP when
// hangup is nil: the client is gone), together with the others (the session
// processes of a daemon); a second signal, or shutdownGrace, forces it. The
// exit code arrives on the channel. A daemon's SIGHUP calls hangup.
func onSignals(srv *server.Server, log *logging.Logger, hangup func(), others ...func(context.Context) error) <-chan int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt, syscall.SIGHUP)
	code := make(chan int, 1)
	go func() {
		var sig os.Signal
		for sig = range sigs {
			if sig != syscall.SIGHUP || hangup == nil {
				break
			}
			hangup()
		}
		log.Infof("%v: shutting down", sig)
		ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		go func() {
			select {
			case <-sigs:
				cancel()
			case <-ctx.Done():
			}
		}()
		errs := make(chan error, len(others))
		for _, stop := range others {
			go func() { errs <- stop(ctx) }()
		}
		err := srv.Shutdown(ctx)
		for range others {
			if e := <-errs; err == nil {
				err = e
			}
		}
		if err != nil {
			log.Errorf("shutdown forced (%v): connections closed", err)
			code <- 1
			return
		}
		code <- 0
	}()
	return code
}

func sameFile(a, b *os.File) bool {
	fa, err := a.Stat()
	if err != nil {
		return false
	}
	fb, err := b.Stat()
	return err == nil && os.SameFile(fa, fb)
}
