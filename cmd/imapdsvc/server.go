package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Environment variables that tell imapd who the client is when its standard
// input is a pipe, not the socket.
const (
	envRemoteAddr = "IMAPD_REMOTE_ADDR"
	envLocalAddr  = "IMAPD_LOCAL_ADDR"
)

// Bounds of the shutdown after the grace period, and of the wait for a
// child's last output once it has exited.
const (
	cutWait   = 5 * time.Second
	flushWait = 5 * time.Second
)

// server accepts connections and runs one imapd per connection.
type server struct {
	imapd  string // program
	config string // passed as -i
	max    int    // most concurrent sessions
	relay  bool   // pipes instead of passing the socket
	log    *logger

	mu       sync.Mutex
	lns      []net.Listener
	closing  bool
	sessions map[*session]struct{}
	wg       sync.WaitGroup
	stats    ShutdownStats
}

// session is one connection and its imapd.
type session struct {
	conn   net.Conn
	tls    bool // implicit TLS: imapd -tls, the bytes passed through as they are
	cmd    *exec.Cmd
	cut    func()   // make imapd see end of file; the connection is gone
	cutd   bool     // cut was called (under server.mu)
	stderr *lineLog // imapd's standard error
}

// ShutdownStats says how the sessions running at a shutdown ended.
type ShutdownStats struct {
	Ended  int // by themselves within the grace period
	Cut    int // their connection was cut, then imapd ended
	Killed int // still running after the cut: killed
}

// Running is the number of sessions running now.
func (s *server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Serve accepts connections on ln until Shutdown closes it (then it returns
// nil) or accepting fails for good.
func (s *server) Serve(ln net.Listener) error { return s.serve(ln, false) }

// ServeTLS is Serve for a port of implicit TLS (993): imapd gets -tls and
// does the TLS itself; imapdsvc passes the encrypted bytes through.
func (s *server) ServeTLS(ln net.Listener) error { return s.serve(ln, true) }

func (s *server) serve(ln net.Listener, implicit bool) error {
	s.mu.Lock()
	s.lns = append(s.lns, ln)
	closing := s.closing
	s.mu.Unlock()
	if closing {
		ln.Close()
		return nil
	}
	var backoff time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				// Out of file descriptors and the like: back off and go on.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Errorf("accept: %v; trying again in %s", err, backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.accept(c, implicit)
	}
}

// isTemporary reports errors of Accept that are worth retrying.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// accept starts a session for c, or refuses c (with a BYE, unless the
// client speaks TLS: it could not read it).
func (s *server) accept(c net.Conn, implicit bool) {
	s.mu.Lock()
	if s.sessions == nil {
		s.sessions = map[*session]struct{}{}
	}
	if s.closing {
		s.mu.Unlock()
		c.Close()
		return
	}
	if len(s.sessions) >= s.max {
		s.mu.Unlock()
		s.log.Errorf("refused connection from %s: %d sessions running (-max %d)", c.RemoteAddr(), s.max, s.max)
		if !implicit {
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "* BYE Too many IMAP sessions, try again later\r\n")
		}
		c.Close()
		return
	}
	ss := &session{conn: c, tls: implicit}
	s.sessions[ss] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.run(ss)
		s.mu.Lock()
		delete(s.sessions, ss)
		s.mu.Unlock()
	}()
}

// run starts imapd for the session and waits until it has ended.
func (s *server) run(ss *session) {
	c := ss.conn
	defer c.Close()
	remote, local := c.RemoteAddr().String(), c.LocalAddr().String()
	args := []string{"-i", s.config}
	if ss.tls {
		args = append(args, "-tls")
	}
	cmd := exec.Command(s.imapd, args...)
	cmd.Env = append(withoutAddrEnv(os.Environ()), envRemoteAddr+"="+remote, envLocalAddr+"="+local)
	cmd.SysProcAttr = childAttr()
	stderr := &lineLog{log: s.log}
	cmd.Stderr = stderr
	cmd.WaitDelay = flushWait
	ss.cmd, ss.stderr = cmd, stderr

	var err error
	began := time.Now()
	if s.relay {
		err = s.runRelay(ss)
	} else {
		err = s.runSocket(ss)
	}
	stderr.flush()
	if errors.Is(err, errStart) {
		s.log.Errorf("connection from %s: %v", remote, err)
		if !ss.tls {
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "* BYE IMAP server unavailable\r\n")
		}
		return
	}
	pid := 0
	if cmd.Process != nil {
		pid = cmd.Process.Pid
	}
	if err != nil {
		s.log.Errorf("session from %s, imapd pid %d: ended after %s: %v", remote, pid, time.Since(began).Round(time.Millisecond), err)
		return
	}
	s.log.Infof("session from %s, imapd pid %d: ended after %s", remote, pid, time.Since(began).Round(time.Millisecond))
}

// errStart marks a failure to start imapd.
var errStart = errors.New("start imapd")

// start starts the command and registers the cut function (or calls it at
// once when a shutdown came first).
func (s *server) start(ss *session, cut func()) error {
	if err := ss.cmd.Start(); err != nil {
		return fmt.Errorf("%w %s: %w", errStart, ss.cmd.Path, err)
	}
	ss.stderr.setPid(ss.cmd.Process.Pid)
	s.log.Infof("connection from %s: imapd pid %d", ss.conn.RemoteAddr(), ss.cmd.Process.Pid)
	s.mu.Lock()
	ss.cut = cut
	cutNow := ss.cutd
	s.mu.Unlock()
	if cutNow {
		cut()
	}
	return nil
}

// runSocket gives imapd (a duplicate of) the socket as its standard input
// and output, as inetd does.
func (s *server) runSocket(ss *session) error {
	f, err := socketFile(ss.conn)
	if err != nil {
		return fmt.Errorf("%w: socket as standard input: %w", errStart, err)
	}
	ss.cmd.Stdin, ss.cmd.Stdout = f, f
	err = s.start(ss, func() { shutdownSocket(ss.conn) })
	f.Close() // imapd has its own copy now
	if err != nil {
		return err
	}
	return ss.cmd.Wait()
}

// runRelay copies between the socket and imapd's stdin and stdout pipes.
func (s *server) runRelay(ss *session) error {
	c := ss.conn
	inR, inW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%w: pipe: %w", errStart, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return fmt.Errorf("%w: pipe: %w", errStart, err)
	}
	ss.cmd.Stdin, ss.cmd.Stdout = inR, outW
	var closeIn sync.Once
	closeStdin := func() { closeIn.Do(func() { inW.Close() }) }
	err = s.start(ss, func() {
		c.Close()
		closeStdin()
	})
	inR.Close() // imapd has its own copies now
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return err
	}

	// client -> imapd; when the client closes, imapd gets end of file.
	upDone := make(chan struct{})
	go func() {
		defer close(upDone)
		io.Copy(inW, c)
		closeStdin()
	}()
	// imapd -> client; once the client is gone, keep draining so imapd
	// never blocks on a full pipe.
	downDone := make(chan struct{})
	go func() {
		defer close(downDone)
		io.Copy(c, outR)
		io.Copy(io.Discard, outR)
	}()

	waitErr := ss.cmd.Wait()
	// imapd has exited: what it wrote last is in the pipe; the copy ends at
	// end of file (bounded, in case something inherited imapd's stdout).
	select {
	case <-downDone:
	case <-time.After(flushWait):
	}
	c.Close()
	outR.Close()
	<-downDone
	<-upDone
	closeStdin()
	return waitErr
}

// withoutAddrEnv drops inherited client address variables.
func withoutAddrEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, envRemoteAddr+"=") || strings.HasPrefix(kv, envLocalAddr+"=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Shutdown stops accepting, gives the running sessions grace to end, then
// cuts their connections, waits up to cutWait more and kills what is left.
// It returns when every session has ended.
func (s *server) Shutdown(grace time.Duration) ShutdownStats {
	s.mu.Lock()
	s.closing = true
	for _, ln := range s.lns {
		ln.Close()
	}
	running := len(s.sessions)
	s.mu.Unlock()

	all := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(all)
	}()
	var st ShutdownStats
	if waitBounded(all, grace) {
		st.Ended = running
		return st
	}

	s.mu.Lock()
	var cut []*session
	for ss := range s.sessions {
		ss.cutd = true
		if ss.cut != nil {
			cut = append(cut, ss)
		}
	}
	st.Cut = len(s.sessions)
	st.Ended = running - st.Cut
	s.mu.Unlock()
	s.log.Infof("shutdown: cutting %d sessions still running after %s", len(cut), grace)
	for _, ss := range cut {
		ss.cut()
	}
	if waitBounded(all, cutWait) {
		return st
	}

	s.mu.Lock()
	for ss := range s.sessions {
		if ss.cut != nil { // set after Start: Process is there
			s.log.Errorf("shutdown: killing imapd pid %d (session from %s): still running %s after its connection was cut", ss.cmd.Process.Pid, ss.conn.RemoteAddr(), cutWait)
			ss.cmd.Process.Kill()
			st.Killed++
		}
	}
	st.Cut -= st.Killed
	s.mu.Unlock()
	<-all
	return st
}

// waitBounded waits for ch to close, at most d; it reports whether it did.
func waitBounded(ch <-chan struct{}, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// lineLog logs what imapd writes to its standard error, line by line.
type lineLog struct {
	log *logger
	mu  sync.Mutex
	pid int
	buf []byte
}

func (l *lineLog) setPid(pid int) {
	l.mu.Lock()
	l.pid = pid
	l.mu.Unlock()
}

const maxStderrLine = 4096

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			if len(l.buf) > maxStderrLine {
				l.emit(l.buf)
				l.buf = l.buf[:0]
			}
			return len(p), nil
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
}

func (l *lineLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(l.buf)
		l.buf = nil
	}
}

func (l *lineLog) emit(line []byte) {
	s := strings.TrimRight(string(line), "\r")
	if s != "" {
		l.log.Errorf("imapd pid %d stderr: %s", l.pid, s)
	}
}
