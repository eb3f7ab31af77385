package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"imapd/internal/spawn"
)

// Environment variables that tell imapd who the client is when its standard
// input is a pipe, not the socket.
const (
	envRemoteAddr = "IMAPD_REMOTE_ADDR"
	envLocalAddr  = "IMAPD_LOCAL_ADDR"
)

// server accepts connections and runs one imapd per connection (through
// internal/spawn).
type server struct {
	imapd  string // program
	config string // passed as -i
	max    int    // most concurrent sessions
	relay  bool   // pipes instead of passing the socket
	log    *logger

	mu       sync.Mutex
	lns      []net.Listener
	closing  bool
	sessions int // accepted and not yet ended
	wg       sync.WaitGroup
	kids     spawn.Group
	once     sync.Once
}

// ShutdownStats says how the sessions running at a shutdown ended.
type ShutdownStats = spawn.Stats

// group is the spawner, set up on first use.
func (s *server) group() *spawn.Group {
	s.once.Do(func() {
		s.kids.Relay = s.relay
		s.kids.Log = s.log
	})
	return &s.kids
}

// Running is the number of sessions running now.
func (s *server) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
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
	if s.closing {
		s.mu.Unlock()
		c.Close()
		return
	}
	if s.sessions >= s.max {
		s.mu.Unlock()
		s.log.Errorf("refused connection from %s: %d sessions running (-max %d)", c.RemoteAddr(), s.max, s.max)
		if !implicit {
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "* BYE Too many IMAP sessions, try again later\r\n")
		}
		c.Close()
		return
	}
	s.sessions++
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		s.run(c, implicit)
		s.mu.Lock()
		s.sessions--
		s.mu.Unlock()
	}()
}

// run starts imapd for the connection and waits until it has ended.
func (s *server) run(c net.Conn, implicit bool) {
	remote, local := c.RemoteAddr().String(), c.LocalAddr().String()
	args := []string{"-i", s.config}
	if implicit {
		args = append(args, "-tls")
	}
	cmd := exec.Command(s.imapd, args...)
	cmd.Env = append(withoutAddrEnv(os.Environ()), envRemoteAddr+"="+remote, envLocalAddr+"="+local)
	stderr := &lineLog{log: s.log}
	cmd.Stderr = stderr

	began := time.Now()
	ch, err := s.group().Start(c, cmd)
	if errors.Is(err, spawn.ErrClosed) {
		c.Close() // accepted just before a shutdown
		return
	}
	if err != nil {
		s.log.Errorf("connection from %s: start imapd %s: %v", remote, s.imapd, err)
		if !implicit {
			c.SetWriteDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, "* BYE IMAP server unavailable\r\n")
		}
		c.Close()
		return
	}
	pid := ch.Cmd.Process.Pid
	stderr.setPid(pid)
	s.log.Infof("connection from %s: imapd pid %d", remote, pid)
	err = ch.Wait()
	stderr.flush()
	if err != nil {
		s.log.Errorf("session from %s, imapd pid %d: ended after %s: %v", remote, pid, time.Since(began).Round(time.Millisecond), err)
		return
	}
	s.log.Infof("session from %s, imapd pid %d: ended after %s", remote, pid, time.Since(began).Round(time.Millisecond))
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
// cuts their connections, waits a little more and kills what is left (see
// spawn.Group.Shutdown). It returns when every session has ended.
func (s *server) Shutdown(grace time.Duration) ShutdownStats {
	s.mu.Lock()
	s.closing = true
	for _, ln := range s.lns {
		ln.Close()
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	st := s.group().Shutdown(ctx)
	s.wg.Wait()
	return st
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
