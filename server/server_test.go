package server

import (
	"context"
	"errors"
	"fmt"
	"imapd/internal/syncbuf"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"imapd/internal/imaptest"

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
type client = imaptest.Conn

func login(t *testing.T, c *client) {
	t.Helper()
	r := c.Tagged("a1", "LOGIN alice pw")
	if r.Status != "OK" || !strings.HasSuffix(r.Tagged, "] LOGIN completed") {
		t.Fatalf("login: %q (want the legacy text: OK [CAPABILITY ...] LOGIN completed)", r.Lines())
	}
}

const greeting = "* OK " + host + " IMAP4rev1 v1.2.3 server ready"

// conversation is the session every transport must serve identically.
func conversation(t *testing.T, e *env, c *client) {
	c.Expect(greeting)
	login(t, c)

	resps := c.Tagged("a2", "SELECT INBOX").Lines()
	if last := resps[len(resps)-1]; last != "a2 OK [READ-WRITE] SELECT completed" {
		t.Errorf("SELECT INBOX ended with %q", last)
	}

	resps = c.Tagged("a3", "FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])").Lines()
	wantFetch := fmt.Sprintf("* 1 FETCH (UID 1 BODY[HEADER] {19}\r\nSubject: tricky\r\n\r\n BODY[TEXT] {%d}\r\n%s)",
		len(trickyText), trickyText)
	want := []string{wantFetch, "* OK [ALERT] fetched", "a3 OK FETCH completed"}
	if !equal(resps, want) {
		t.Errorf("FETCH:\n got %q\nwant %q", resps, want)
	}

	resps = c.Tagged("a4", "SELECT Locked").Lines()
	n := len(resps)
	if n < 3 || resps[n-2] != "* NO Trying to get mailbox lock from process 42" ||
		resps[n-1] != "a4 OK [READ-ONLY] SELECT completed" {
		t.Errorf("SELECT Locked: %q", resps)
	}
	if strings.Count(strings.Join(resps, ""), "Trying to get") != 1 {
		t.Errorf("notice not sent exactly once: %q", resps)
	}

	resps = c.Tagged("a5", "SELECT INBOX").Lines()
	if last := resps[len(resps)-1]; last != "a5 OK [READ-WRITE] SELECT completed" {
		t.Errorf("second SELECT INBOX ended with %q", last)
	}

	c.Send("a6 LOGOUT")
	c.Expect("* BYE " + host + " IMAP4rev1 server terminating connection")
	c.Expect("a6 OK LOGOUT completed")
	c.ExpectEOF()
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
	return imaptest.New(t, c)
}

// connect serves opts over transport, "tcp" (a listener, then a dial) or
// "pipe" (ServeConn on os.Pipe pairs, as inetd mode); served is ServeConn's
// result (nil over TCP).
func connect(t *testing.T, transport string, opts Options) (c *client, served <-chan error) {
	t.Helper()
	if transport == "tcp" {
		_, addr, _ := serveTCP(t, opts)
		return dial(t, addr), nil
	}
	return servePipe(t, NewServer(opts))
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
	return imaptest.Pipes(t, toClient, fromClient), served
}

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
			c, served := connect(t, transport, opts)
			c.Expect(greeting)
			c.Expect("* BYE Autologout; idle for too long")
			c.ExpectEOF()
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
// The SELECT after the login must not meet the limit: it is sent with the
// LOGIN (no round trip of the client's between them), and the limit is a
// second, not a tenth, which a loaded machine could exceed between the two.
func TestIdleTimeoutAfterLogin(t *testing.T) {
	for _, transport := range []string{"tcp", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			e := newEnv(t)
			e.deps.Config = &config.Config{ImapdTimeout: time.Second}
			opts := e.options()
			opts.PreAuthTimeout = time.Hour
			c, _ := connect(t, transport, opts)
			c.Expect(greeting)
			c.SendRaw("a1 LOGIN alice pw\r\na2 SELECT INBOX\r\n")
			for _, tag := range []string{"a1", "a2"} {
				if r := c.Collect(tag); r.Status != "OK" {
					t.Fatalf("%s: %q", tag, r.Lines())
				}
			}
			c.Expect("* BYE Autologout; idle for too long")
			c.ExpectEOF()
			e.waitClosed(t)
		})
	}
}

func TestShutdownSaysByeToAll(t *testing.T) {
	e := newEnv(t)
	srv, addr, served := serveTCP(t, e.options())
	busy := dial(t, addr)
	busy.Expect(greeting)
	login(t, busy)
	busy.Tagged("a2", "SELECT INBOX")
	fresh := dial(t, addr)
	fresh.Expect(greeting)
	piped, pipeServed := servePipe(t, srv)
	piped.Expect(greeting)
	login(t, piped)

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
		c.Expect("* BYE " + host + " IMAP4rev1 server shutting down")
		c.ExpectEOF()
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
	c.Expect(greeting)
	login(t, c)
	c.Tagged("a2", "SELECT INBOX")
	conn := <-e.conns
	go conn.Bye("Killed (lost mailbox lock)")
	c.Expect("* BYE Killed (lost mailbox lock)")
	c.ExpectEOF()
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
	c.Expect("* BYE read /etc/dmail.conf: permission denied")
	c.ExpectEOF()
	if err := waitServed(t, served); err == nil || !strings.Contains(err.Error(), "dmail.conf") {
		t.Errorf("ServeConn: %v, want the NewDeps error", err)
	}
}

func TestAppendLimit(t *testing.T) {
	e := newEnv(t)
	c, _ := servePipe(t, NewServer(e.options()))
	c.Expect(greeting)
	login(t, c)
	resps := c.Tagged("a2", fmt.Sprintf("APPEND INBOX {%d}", DefaultAppendLimit+1)).Lines()
	if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a2 NO [TOOBIG]") {
		t.Errorf("oversized APPEND: %q", resps)
	}
}
