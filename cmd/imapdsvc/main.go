// Command imapdsvc is the connection spawner that runs imapd on Windows, as
// the legacy imapdsvc.exe did: it listens on the IMAP port and, for every
// connection, starts imapd (imapd.exe from its own directory) with the
// connection as its standard input and output. On Windows it runs as a
// service, under DWatch, or in a console; on unix the same spawner runs in
// the foreground (tests use it; in production inetd or `imapd -listen` are
// the unix ways). It does not speak IMAP.
//
//	imapdsvc [flags]                  foreground, or service when started by the SCM
//	imapdsvc [flags] debug            foreground, through the service handler (Ctrl-C = stop)
//	imapdsvc [flags] install          register the service "imapdsvc" with these flags
//	imapdsvc remove | start | stop    the registered service
//
// Flags: -i FILE (dmail.conf; default $DMAIL_CONF, else
// %SystemRoot%\system32\dmail.conf or /etc/dmail.conf), -listen ADDR
// (default :143), -listen-tls ADDR (also listen there for implicit TLS, e.g.
// :993; default none), -imapd PATH (default imapd[.exe] next to imapdsvc), -max N
// concurrent sessions (default 100), -grace D (how long a stop waits for
// sessions, default 10s). Flags go before or after the verb. install records
// -service in the service's command line: the service then does not depend
// on svc.IsWindowsService's guess (which fails under Wine's service
// manager); without it, that guess decides.
//
// # Connections
//
// Each connection gets `imapd -i FILE` with IMAPD_REMOTE_ADDR and
// IMAPD_LOCAL_ADDR (host:port) in its environment. On Windows a socket
// cannot be a child's standard input through os/exec (TCPConn.File is not
// supported there), so imapdsvc relays: bytes from the socket go to imapd's
// stdin pipe and imapd's stdout pipe goes to the socket; when the client
// closes, imapd's stdin is closed (imapd sees end of file, saves and exits);
// when imapd exits, the socket is closed. imapd cannot ask a pipe who the
// client is, hence the two variables. On unix the socket itself is imapd's
// stdin and stdout (a dup, as inetd does: no copying, and imapd can ask the
// socket); the variables are set there too. -relay forces relaying on unix
// (the tests use it to run the Windows code path on Linux). Both modes are
// internal/spawn's, which imapd -listen uses too. imapd's standard
// error goes to imapdsvc.log, one line per line, tagged with imapd's pid.
// Children start in their own process group (Windows: and without a
// console window), so a Ctrl-C in imapdsvc's console stops imapdsvc
// gracefully instead of killing the sessions.
//
// # TLS
//
// imapdsvc does not speak TLS: a connection on -listen-tls gets `imapd -i
// FILE -tls`, which reads the certificate (imapd_tls_cert) and runs TLS on
// its standard input and output; imapdsvc passes the encrypted bytes
// through, relayed or as the socket. STARTTLS on the -listen port is
// imapd's own business too. See docs/tls.md.
//
// When -max sessions are running, a new connection gets
// "* BYE Too many IMAP sessions, try again later" and is closed; the
// refusal is logged as an error. A connection whose imapd cannot be started
// gets "* BYE IMAP server unavailable" and the reason goes to the log.
//
// # Stopping
//
// Service Stop or Shutdown, Ctrl-C or SIGTERM: the listener is closed at
// once, running sessions get -grace to end on their own; then their
// connections are cut (socket closed, imapd's stdin closed or, on unix, the
// socket shut down: imapd sees end of file and closes its mailbox cleanly)
// and they get 5 more seconds; what still runs then is killed.
//
// # Logs, config and DWatch
//
// dmail.conf is read once, at start, for log_path (default work_path, else
// the config file's directory), log_level, max_log_size and dwatch_path;
// imapd reads it again for every session. Events go to
// <log_path>/imapdsvc.log; in the foreground also to standard error, and as
// a service, start, stop and errors also to the Windows event log (source
// "imapdsvc", registered by install). The foreground always prints
// "imapdsvc: listening on ADDR" to standard error (the actual address, so
// -listen 127.0.0.1:0 can be used).
//
// When dwatch_path is set, <dwatch_path>/imapdsvc.pid holds the process id
// (decimal, then a newline) while imapdsvc runs; it is removed on a clean
// stop. That is the file DWatch's "pidf" line checks. The manual's
// installation copies dwatch\dpop.wat to dwatch\imapdsvc.wat and changes
// DPOP to imapdsvc in it, giving (paths as installed):
//
//	exec C:\dmail\imapdsvc.exe
//	time 20
//	rest 5
//	logfile C:\dmail\log\imapdsvc.log
//	pidf C:\dmail\dwatch\imapdsvc.pid
//
// DWatch starts imapdsvc as a normal process (DWatch itself is the
// service), so imapdsvc then runs in the foreground. Use either DWatch or
// `imapdsvc install`, not both: both would listen on port 143.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"imapd/config"
	"imapd/internal/spawn"
	"imapd/logging"
	"imapd/platform"
)

// Service identity.
const (
	serviceName        = "imapdsvc"
	serviceDisplayName = "DMail IMAP server (imapdsvc)"
	serviceDescription = "Starts imapd for every IMAP connection (DMail IMAPD)."
)

// options are the command line settings.
type options struct {
	config string        // -i, resolved
	listen string        // -listen
	tls    string        // -listen-tls; "" = none
	imapd  string        // -imapd, resolved
	max    int           // -max
	grace  time.Duration // -grace
	relay  bool          // -relay
	svc    bool          // -service
	set    []string      // the flags given explicitly, as "-name=value", for install
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run parses the command line and does what it says; the result is the exit
// code.
func run(args []string, stderr io.Writer) int {
	o, verb, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "imapdsvc: %v\n", err)
		return 2
	}
	switch verb {
	case "":
		err = runDefault(o, stderr)
	case "debug":
		err = runDebug(o, stderr)
	case "install":
		err = install(o)
	case "remove":
		err = remove()
	case "start":
		err = startService()
	case "stop":
		err = stopService()
	default:
		fmt.Fprintf(stderr, "imapdsvc: unknown verb %q (install, remove, start, stop or debug)\n", verb)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "imapdsvc: %v\n", err)
		return 1
	}
	if verb != "" && verb != "debug" {
		fmt.Fprintf(stderr, "imapdsvc: %s: done\n", verb)
	}
	return 0
}

func parseArgs(args []string, stderr io.Writer) (options, string, error) {
	var o options
	fs := flag.NewFlagSet("imapdsvc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "i", "", "dmail.conf `file` (default $DMAIL_CONF, else "+platform.DefaultConfigPath()+")")
	fs.StringVar(&o.listen, "listen", ":143", "`address` to listen on")
	fs.StringVar(&o.tls, "listen-tls", "", "`address` to listen on for implicit TLS (e.g. :993; imapd -tls does the TLS)")
	fs.StringVar(&o.imapd, "imapd", "", "imapd `program` (default imapd next to imapdsvc)")
	fs.IntVar(&o.max, "max", 100, "most concurrent sessions")
	fs.DurationVar(&o.grace, "grace", 10*time.Second, "how long a stop waits for running sessions")
	fs.BoolVar(&o.relay, "relay", !spawn.CanPassSocket, "relay bytes through pipes instead of giving imapd the socket")
	fs.BoolVar(&o.svc, "service", false, "run as a Windows service (install puts it in the service's command line)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: imapdsvc [flags] [install|remove|start|stop|debug] [flags]")
		fs.PrintDefaults()
	}
	// Flags may come before and after the verb, as administrators type
	// them: parse up to a word that is not a flag, take it as a verb, go on.
	var verbs []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return o, "", err
		}
		if fs.NArg() == 0 {
			break
		}
		verbs = append(verbs, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	var verb string
	switch len(verbs) {
	case 0:
	case 1:
		verb = verbs[0]
	default:
		return o, "", fmt.Errorf("one verb at most, got %q", verbs)
	}
	if o.max < 1 {
		return o, "", fmt.Errorf("-max %d: must be at least 1", o.max)
	}
	if !o.relay && !spawn.CanPassSocket {
		return o, "", fmt.Errorf("-relay=false: on %s a socket cannot be passed to imapd", runtime.GOOS)
	}
	fs.Visit(func(f *flag.Flag) { o.set = append(o.set, f.Name) })

	if o.config == "" {
		o.config = os.Getenv("DMAIL_CONF")
	}
	if o.config == "" {
		o.config = platform.DefaultConfigPath()
	}
	if abs, err := filepath.Abs(o.config); err == nil {
		o.config = abs
	}
	if o.imapd == "" {
		exe, err := os.Executable()
		if err != nil {
			return o, "", fmt.Errorf("find imapd next to imapdsvc: %w", err)
		}
		name := "imapd"
		if runtime.GOOS == "windows" {
			name += ".exe"
		}
		o.imapd = filepath.Join(filepath.Dir(exe), name)
	} else if abs, err := filepath.Abs(o.imapd); err == nil {
		o.imapd = abs
	}
	return o, verb, nil
}

// serviceArgs are the flags install records in the service's command line.
func (o options) serviceArgs() []string {
	args := []string{"-service", "-i", o.config, "-listen", o.listen}
	for _, name := range o.set {
		switch name {
		case "imapd":
			args = append(args, "-imapd", o.imapd)
		case "max":
			args = append(args, "-max", strconv.Itoa(o.max))
		case "grace":
			args = append(args, "-grace", o.grace.String())
		case "relay":
			args = append(args, "-relay="+strconv.FormatBool(o.relay))
		case "listen-tls":
			args = append(args, "-listen-tls", o.tls)
		}
	}
	return args
}

// app is a running imapdsvc: config read, log open, listening, pid file
// written.
type app struct {
	o       options
	log     *logger
	srv     *server
	ln      net.Listener
	lnTLS   net.Listener // -listen-tls; nil = none
	pidFile string
	done    chan error // Serve's results (one per listener)
}

// start reads the config, opens the log (with extra as a second sink),
// checks imapd, listens and writes the pid file.
func start(o options, extra sink) (*app, error) {
	cfg, problems, err := config.Load(o.config)
	if err != nil {
		return nil, err
	}
	level, _ := logging.ParseLevel(cfg.LogLevel)
	file, logErr := logging.Open(cfg.LogPath, serviceName, level, cfg.MaxLogSize)
	a := &app{o: o, log: &logger{file: file, extra: extra, level: level}, done: make(chan error, 2)}
	if logErr != nil {
		a.log.Errorf("log file %s: %v", filepath.Join(cfg.LogPath, serviceName+".log"), logErr)
	}
	for _, p := range problems {
		if p.Error {
			a.log.Errorf("config: %s (imapd -check shows every setting)", p)
		}
	}
	if fi, err := os.Stat(o.imapd); err != nil || fi.IsDir() {
		if err == nil {
			err = errors.New("is a directory")
		}
		a.log.Close()
		return nil, fmt.Errorf("imapd program %s: %w", o.imapd, err)
	}
	addr := cfg.ListenAddr(o.listen) // -listen :143 binds to dpop_host when set
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		a.log.Close()
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	a.ln = ln
	if o.tls != "" {
		if a.lnTLS, err = net.Listen("tcp", o.tls); err != nil {
			ln.Close()
			a.log.Close()
			return nil, fmt.Errorf("listen on %s: %w", o.tls, err)
		}
	}
	a.srv = &server{imapd: o.imapd, config: o.config, max: o.max, relay: o.relay, log: a.log}
	if cfg.DwatchPath != "" {
		a.pidFile = filepath.Join(cfg.DwatchPath, serviceName+".pid")
		if err := os.WriteFile(a.pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			a.log.Errorf("write pid file for DWatch: %v", err)
			a.pidFile = ""
		}
	}
	mode := "socket as imapd's stdin/stdout"
	if o.relay {
		mode = "relaying through pipes"
	}
	a.log.Noticef("imapdsvc listening on %s, imapd %s -i %s, at most %d sessions, %s", ln.Addr(), o.imapd, o.config, o.max, mode)
	go func() { a.done <- a.srv.Serve(ln) }()
	if a.lnTLS != nil {
		a.log.Noticef("imapdsvc listening for implicit TLS on %s (imapd -tls)", a.lnTLS.Addr())
		go func() { a.done <- a.srv.ServeTLS(a.lnTLS) }()
	}
	return a, nil
}

// stop closes the listener, lets the sessions end (see server.Shutdown),
// removes the pid file and closes the log.
func (a *app) stop(why string) {
	a.log.Noticef("imapdsvc stopping (%s): waiting up to %s for %d sessions", why, a.o.grace, a.srv.Running())
	st := a.srv.Shutdown(a.o.grace)
	if err := <-a.done; err != nil {
		a.log.Errorf("accept: %v", err)
	}
	a.removePidFile()
	a.log.Noticef("imapdsvc stopped: %d sessions ended by themselves, %d cut, %d killed", st.Ended, st.Cut, st.Killed)
	a.log.Close()
}

func (a *app) removePidFile() {
	if a.pidFile == "" {
		return
	}
	if data, err := os.ReadFile(a.pidFile); err == nil && strings.TrimSpace(string(data)) == strconv.Itoa(os.Getpid()) {
		os.Remove(a.pidFile)
	}
}

// runForeground serves until SIGINT/SIGTERM (Ctrl-C, Ctrl-Break, console
// close on Windows) or until the listener fails.
func runForeground(o options, stderr io.Writer) error {
	a, err := start(o, logging.New(stderr, logging.LevelDebug))
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "imapdsvc: listening on %s\n", a.ln.Addr())
	if a.lnTLS != nil {
		fmt.Fprintf(stderr, "imapdsvc: listening with TLS on %s\n", a.lnTLS.Addr())
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	select {
	case s := <-sig:
		a.stop("signal " + s.String())
		return nil
	case err := <-a.done:
		a.done <- err
		a.stop("listener failed")
		return fmt.Errorf("accept on %s: %w", o.listen, err)
	}
}
