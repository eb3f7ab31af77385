package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"imapd/internal/syncbuf"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"imapd/config"
	"imapd/logging"
	"imapd/session"
)

const (
	host = "testhost"
	// trickyText is a message body full of lines a naive rewriter would
	// touch; it must reach the client byte for byte.
	trickyText = "* OK [CAPABILITY IMAP4rev1] IMAP server ready\r\n" +
		"* BYE Logging out\r\n" +
		"a4 OK [READ-WRITE] SELECT completed\r\n" +
		"x {3}\r\n"
	trickyMsg = "Subject: tricky\r\n\r\n" + trickyText
)

// clientLimit only bounds a broken test; no assertion depends on time.
const clientLimit = 20 * time.Second

// syncBuffer collects output written from several goroutines.
type syncBuffer = syncbuf.Buffer

type literal struct{ *strings.Reader }

func (l literal) Size() int64 { return l.Reader.Size() }

// env is a go-imap in-memory backend (imapmemserver) wrapped by a session
// that uses the session.Conn extras the way ours will.
type env struct {
	mem    *imapmemserver.Server
	log    *logging.Logger
	logBuf *syncBuffer
	closed chan struct{}     // one value per closed session
	conns  chan session.Conn // the Conn of every session made
	deps   session.Deps
}

func newEnv(t *testing.T) *env {
	t.Helper()
	user := imapmemserver.NewUser("alice", "pw")
	for _, name := range []string{"INBOX", "Locked"} {
		if err := user.Create(name, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := user.Append("INBOX", literal{strings.NewReader(trickyMsg)}, &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	mem := imapmemserver.New()
	mem.AddUser(user)
	e := &env{
		mem:    mem,
		logBuf: &syncBuffer{},
		closed: make(chan struct{}, 16),
		conns:  make(chan session.Conn, 16),
	}
	e.log = logging.New(e.logBuf, logging.LevelDebug)
	e.deps = session.Deps{Hostname: host, Version: "v1.2.3", Log: e.log}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", e.logBuf.String())
		}
	})
	return e
}

func (e *env) options() Options {
	return Options{
		NewDeps: func(net.Conn) (session.Deps, error) { return e.deps, nil },
		NewSession: func(d session.Deps, c session.Conn) (imapserver.Session, error) {
			e.conns <- c
			return &testSession{Session: e.mem.NewSession(), conn: c, env: e}, nil
		},
		Log: e.log,
	}
}

func (e *env) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-e.closed:
	case <-time.After(clientLimit):
		t.Fatal("session was not closed")
	}
}

type testSession struct {
	imapserver.Session
	conn session.Conn
	env  *env
}

// Select of "Locked" behaves as when another process holds the mailbox on
// windows: a notice, then READ-ONLY.
func (s *testSession) Select(name string, opts *imap.SelectOptions) (*imap.SelectData, error) {
	if name == "Locked" {
		s.conn.Notice("* NO Trying to get mailbox lock from process 42")
		s.conn.SelectReadOnly()
	}
	return s.Session.Select(name, opts)
}

// Fetch queues a notice and asks for READ-ONLY while literals full of
// look-alike lines are written: neither may show up inside them.
func (s *testSession) Fetch(w *imapserver.FetchWriter, numSet imap.NumSet, opts *imap.FetchOptions) error {
	s.conn.Notice("* OK [ALERT] fetched")
	s.conn.SelectReadOnly()
	return s.Session.Fetch(w, numSet, opts)
}

func (s *testSession) Close() error {
	err := s.Session.Close()
	s.env.closed <- struct{}{}
	return err
}

// client speaks raw IMAP so that exact bytes can be checked.
type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func newClient(t *testing.T, c net.Conn) *client {
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", s, err)
	}
}

var literalRE = regexp.MustCompile(`~?\{(\d+)\}\r\n$`)

// response reads one response, literals included.
func (c *client) response() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(clientLimit))
	var b strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			c.t.Fatalf("read: %v (after %q)", err, b.String())
		}
		m := literalRE.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "+") {
			return b.String()
		}
		n, _ := strconv.Atoi(m[1])
		lit := make([]byte, n)
		if _, err := io.ReadFull(c.r, lit); err != nil {
			c.t.Fatalf("read literal: %v", err)
		}
		b.Write(lit)
	}
}

// command sends "tag cmd" and returns the responses up to the tagged one.
func (c *client) command(tag, cmd string) []string {
	c.t.Helper()
	c.send(tag + " " + cmd)
	var resps []string
	for {
		r := c.response()
		resps = append(resps, r)
		if strings.HasPrefix(r, tag+" ") {
			return resps
		}
	}
}

func (c *client) expect(want string) {
	c.t.Helper()
	if got := c.response(); got != want {
		c.t.Fatalf("got %q, want %q", got, want)
	}
}

func (c *client) expectEOF() {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(clientLimit))
	if rest, err := io.ReadAll(c.r); err != nil || len(rest) > 0 {
		c.t.Fatalf("want EOF, got %q, %v", rest, err)
	}
}

func (c *client) login() {
	c.t.Helper()
	resps := c.command("a1", "LOGIN alice pw")
	if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a1 OK ") || !strings.HasSuffix(last, "] LOGIN completed\r\n") {
		c.t.Fatalf("login: %q (want the legacy text: OK [CAPABILITY ...] LOGIN completed)", resps)
	}
}

const greeting = "* OK " + host + " IMAP4rev1 v1.2.3 server ready\r\n"

// conversation is the session every transport must serve identically.
func conversation(t *testing.T, e *env, c *client) {
	c.expect(greeting)
	c.login()

	resps := c.command("a2", "SELECT INBOX")
	if last := resps[len(resps)-1]; last != "a2 OK [READ-WRITE] SELECT completed\r\n" {
		t.Errorf("SELECT INBOX ended with %q", last)
	}

	resps = c.command("a3", "FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])")
	wantFetch := fmt.Sprintf("* 1 FETCH (UID 1 BODY[HEADER] {19}\r\nSubject: tricky\r\n\r\n BODY[TEXT] {%d}\r\n%s)\r\n",
		len(trickyText), trickyText)
	want := []string{wantFetch, "* OK [ALERT] fetched\r\n", "a3 OK FETCH completed\r\n"}
	if !equal(resps, want) {
		t.Errorf("FETCH:\n got %q\nwant %q", resps, want)
	}

	resps = c.command("a4", "SELECT Locked")
	n := len(resps)
	if n < 3 || resps[n-2] != "* NO Trying to get mailbox lock from process 42\r\n" ||
		resps[n-1] != "a4 OK [READ-ONLY] SELECT completed\r\n" {
		t.Errorf("SELECT Locked: %q", resps)
	}
	if strings.Count(strings.Join(resps, ""), "Trying to get") != 1 {
		t.Errorf("notice not sent exactly once: %q", resps)
	}

	resps = c.command("a5", "SELECT INBOX")
	if last := resps[len(resps)-1]; last != "a5 OK [READ-WRITE] SELECT completed\r\n" {
		t.Errorf("second SELECT INBOX ended with %q", last)
	}

	c.send("a6 LOGOUT")
	c.expect("* BYE " + host + " IMAP4rev1 server terminating connection\r\n")
	c.expect("a6 OK LOGOUT completed\r\n")
	c.expectEOF()
	e.waitClosed(t)
}

func equal(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

// serveTCP runs a Server on 127.0.0.1:0; Serve's result arrives on the
// returned channel.
func serveTCP(t *testing.T, opts Options) (*Server, string, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(opts)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), clientLimit)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv, ln.Addr().String(), served
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return newClient(t, c)
}

// servePipe serves one connection made of two os.Pipe pairs with
// ServeConn, as inetd mode does on stdin/stdout pipes.
func servePipe(t *testing.T, srv *Server) (*client, <-chan error) {
	t.Helper()
	toServer, fromClient, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	toClient, fromServer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() {
		served <- srv.ServeConn(newPipeConn(toServer, fromServer, nil, nil))
	}()
	return newClient(t, &fileConn{pipeConn: newPipeConn(toClient, fromClient, nil, nil), r: toClient}), served
}

// fileConn gives the test client read deadlines on its pipe.
type fileConn struct {
	*pipeConn
	r *os.File
}

func (f *fileConn) SetReadDeadline(t time.Time) error { return f.r.SetReadDeadline(t) }

func waitServed(t *testing.T, served <-chan error) error {
	t.Helper()
	select {
	case err := <-served:
		return err
	case <-time.After(clientLimit):
		t.Fatal("ServeConn did not return")
		return nil
	}
}

func TestConversationTCP(t *testing.T) {
	e := newEnv(t)
	_, addr, _ := serveTCP(t, e.options())
	conversation(t, e, dial(t, addr))
}

func TestConversationPipe(t *testing.T) {
	e := newEnv(t)
	c, served := servePipe(t, NewServer(e.options()))
	conversation(t, e, c)
	if err := waitServed(t, served); err != nil {
		t.Errorf("ServeConn: %v", err)
	}
}

func TestPreAuthTimeout(t *testing.T) {
	for _, transport := range []string{"tcp", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			e := newEnv(t)
			opts := e.options()
			opts.PreAuthTimeout = 100 * time.Millisecond
			opts.IdleTimeout = time.Hour
			var c *client
			var served <-chan error
			if transport == "tcp" {
				_, addr, _ := serveTCP(t, opts)
				c = dial(t, addr)
			} else {
				c, served = servePipe(t, NewServer(opts))
			}
			c.expect(greeting)
			c.expect("* BYE Autologout; idle for too long\r\n")
			c.expectEOF()
			e.waitClosed(t)
			if served != nil {
				if err := waitServed(t, served); err != nil {
					t.Errorf("ServeConn: %v", err)
				}
			}
		})
	}
}

// After login the limit is imapd_timeout from the session's config; the
// pre-login limit is long enough that only the switch can end this test.
func TestIdleTimeoutAfterLogin(t *testing.T) {
	for _, transport := range []string{"tcp", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			e := newEnv(t)
			e.deps.Config = &config.Config{ImapdTimeout: 100 * time.Millisecond}
			opts := e.options()
			opts.PreAuthTimeout = time.Hour
			var c *client
			if transport == "tcp" {
				_, addr, _ := serveTCP(t, opts)
				c = dial(t, addr)
			} else {
				c, _ = servePipe(t, NewServer(opts))
			}
			c.expect(greeting)
			c.login()
			c.command("a2", "SELECT INBOX")
			c.expect("* BYE Autologout; idle for too long\r\n")
			c.expectEOF()
			e.waitClosed(t)
		})
	}
}

func TestShutdownSaysByeToAll(t *testing.T) {
	e := newEnv(t)
	srv, addr, served := serveTCP(t, e.options())
	busy := dial(t, addr)
	busy.expect(greeting)
	busy.login()
	busy.command("a2", "SELECT INBOX")
	fresh := dial(t, addr)
	fresh.expect(greeting)
	piped, pipeServed := servePipe(t, srv)
	piped.expect(greeting)
	piped.login()

	ctx, cancel := context.WithTimeout(context.Background(), clientLimit)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// Shutdown returned: every session is closed already.
	for range 3 {
		select {
		case <-e.closed:
		default:
			t.Fatal("Shutdown returned before every session was closed")
		}
	}
	for _, c := range []*client{busy, fresh, piped} {
		c.expect("* BYE " + host + " IMAP4rev1 server shutting down\r\n")
		c.expectEOF()
	}
	if err := waitServed(t, served); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if err := waitServed(t, pipeServed); err != nil {
		t.Errorf("ServeConn: %v", err)
	}
	if err := srv.ServeConn(&net.TCPConn{}); !errors.Is(err, ErrServerClosed) {
		t.Errorf("ServeConn after Shutdown: %v", err)
	}
}

// A session's Bye from another goroutine (the kiss of death) ends the
// connection between two responses, and the session is closed.
func TestSessionBye(t *testing.T) {
	e := newEnv(t)
	c, served := servePipe(t, NewServer(e.options()))
	c.expect(greeting)
	c.login()
	c.command("a2", "SELECT INBOX")
	conn := <-e.conns
	go conn.Bye("Killed (lost mailbox lock)")
	c.expect("* BYE Killed (lost mailbox lock)\r\n")
	c.expectEOF()
	e.waitClosed(t)
	if err := waitServed(t, served); err != nil {
		t.Errorf("ServeConn: %v", err)
	}
}

func TestNewDepsErrorIsBye(t *testing.T) {
	e := newEnv(t)
	opts := e.options()
	opts.NewDeps = func(net.Conn) (session.Deps, error) {
		return session.Deps{}, errors.New("read /etc/dmail.conf: permission\r\ndenied")
	}
	c, served := servePipe(t, NewServer(opts))
	c.expect("* BYE read /etc/dmail.conf: permission denied\r\n")
	c.expectEOF()
	if err := waitServed(t, served); err == nil || !strings.Contains(err.Error(), "dmail.conf") {
		t.Errorf("ServeConn: %v, want the NewDeps error", err)
	}
}

func TestAppendLimit(t *testing.T) {
	e := newEnv(t)
	c, _ := servePipe(t, NewServer(e.options()))
	c.expect(greeting)
	c.login()
	resps := c.command("a2", fmt.Sprintf("APPEND INBOX {%d}", DefaultAppendLimit+1))
	if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a2 NO [TOOBIG]") {
		t.Errorf("oversized APPEND: %q", resps)
	}
}
