package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"imapd/internal/imaptest"
	"imapd/logging"
)

// The schedule is a pure function: no clock involved.
func TestLoginDelaySchedule(t *testing.T) {
	s := time.Second
	for _, c := range []struct {
		failures   int
		first, max time.Duration
		want       time.Duration
	}{
		{0, 2 * s, 30 * s, 0},
		{1, 2 * s, 30 * s, 2 * s},
		{2, 2 * s, 30 * s, 4 * s},
		{3, 2 * s, 30 * s, 8 * s},
		{4, 2 * s, 30 * s, 16 * s},
		{5, 2 * s, 30 * s, 30 * s},
		{1000, 2 * s, 30 * s, 30 * s},
		{1 << 30, 2 * s, 30 * s, 30 * s},
		{3, 0, 30 * s, 0},           // imapd_login_delay 0: none
		{200, s, 0, 1 << 62},        // no max: grows, never overflows
		{2, 40 * s, 30 * s, 30 * s}, // first over max: max
	} {
		if got := LoginDelay(c.failures, c.first, c.max); got != c.want {
			t.Errorf("LoginDelay(%d, %v, %v) = %v, want %v", c.failures, c.first, c.max, got, c.want)
		}
	}
}

// The per-address table, with an explicit clock: shared counts, the wait
// an address owes, forgetting, and its bound.
func TestLoginTable(t *testing.T) {
	sched := func(n int) time.Duration { return LoginDelay(n, time.Second, 10*time.Second) }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tab := newLoginTable()
	tab.size = 3

	if w := tab.wait("a", t0); w != 0 {
		t.Errorf("wait of an unknown address: %v", w)
	}
	n, d := tab.fail("a", t0, 1, sched)
	if n != 1 || d != time.Second {
		t.Errorf("first failure: %d, %v", n, d)
	}
	n, d = tab.fail("a", t0, 1, sched) // another connection of the same address
	if n != 2 || d != 2*time.Second {
		t.Errorf("second failure from the address: %d, %v", n, d)
	}
	if w := tab.wait("a", t0.Add(500*time.Millisecond)); w != 1500*time.Millisecond {
		t.Errorf("wait: %v, want 1.5s", w)
	}
	if n, w := tab.owed("a", t0.Add(500*time.Millisecond)); n != 2 || w != 1500*time.Millisecond {
		t.Errorf("owed: %d, %v", n, w)
	}

	// A connection with more failures than its address (the address was
	// forgotten meanwhile) pays for its own.
	if _, d := tab.fail("b", t0, 4, sched); d != 8*time.Second {
		t.Errorf("connection count: %v", d)
	}
	// What a daemon tells a session process is taken when it is more.
	tab.seed("s", t0, 5, 4*time.Second)
	if n, w := tab.owed("s", t0); n != 5 || w != 4*time.Second {
		t.Errorf("owed after seed: %d, %v", n, w)
	}
	tab.seed("s", t0, 1, 0)
	if n, w := tab.owed("s", t0); n != 5 || w != 4*time.Second {
		t.Errorf("a smaller seed changed it: %d, %v", n, w)
	}
	delete(tab.entries, "s")
	// Forgotten after loginForget without a failure.
	later := t0.Add(loginForget)
	if w := tab.wait("a", later); w != 0 {
		t.Errorf("wait after forgetting: %v", w)
	}
	if n, _ := tab.fail("a", later, 1, sched); n != 1 {
		t.Errorf("count after forgetting: %d", n)
	}
	// Bounded: the oldest goes.
	tab.fail("c", later.Add(time.Second), 1, sched)
	tab.fail("d", later.Add(2*time.Second), 1, sched)
	tab.fail("e", later.Add(3*time.Second), 1, sched)
	if len(tab.entries) > tab.size {
		t.Errorf("%d entries, bound %d", len(tab.entries), tab.size)
	}
	if tab.entries["e"] == nil || tab.entries["a"] != nil {
		t.Errorf("eviction kept %v", tab.entries)
	}
}

func TestClientKey(t *testing.T) {
	for addr, want := range map[net.Addr]string{
		&net.TCPAddr{IP: net.ParseIP("192.0.2.7"), Port: 4000}:            "192.0.2.7",
		&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.7"), Port: 4000}:     "192.0.2.7",
		&net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 4000}: "2001:db8:1:2::/64",
		&net.UnixAddr{Name: "stdin"}:                                      "stdin",
	} {
		if got := ClientKey(addr); got != want {
			t.Errorf("ClientKey(%v) = %q, want %q", addr, got, want)
		}
	}
	v6 := &net.TCPAddr{IP: net.ParseIP("2001:db8:1:2:3:4:5:6"), Port: 4000}
	if got := ClientIP(v6); got != "2001:db8:1:2:3:4:5:6" {
		t.Errorf("ClientIP(%v) = %q", v6, got)
	}
}

// Refusals are logged at most refusalLogBurst times a period; the next
// line says how many were not.
func TestRefusalLogRateLimited(t *testing.T) {
	buf := &syncBuffer{}
	l := NewLimiter(logging.New(buf, logging.LevelInfo), 1, 0)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.mu.Lock()
	for range 1000 {
		l.refusedLocked("192.0.2.7", "flood", t0)
	}
	l.refusedLocked("192.0.2.7", "flood", t0.Add(refusalLogEvery))
	l.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != refusalLogBurst+1 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.String())
	}
	want := fmt.Sprintf("connection refused: client=192.0.2.7 too many connections: flood; %d more refused, not logged", 1000-refusalLogBurst)
	if !strings.HasSuffix(lines[len(lines)-1], " INFO "+want) {
		t.Errorf("last line %q, want it to end with %q", lines[len(lines)-1], want)
	}
}

// limitedListener admits connections as the -listen daemon does;
// released gets a value whenever one gives its place back.
type limitedListener struct {
	net.Listener
	l        *Limiter
	released chan struct{}
}

func (ln *limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, ok := ln.l.Admit(c)
		if !ok {
			continue
		}
		return ReleaseOnClose(c, func() { release(); ln.released <- struct{}{} }), nil
	}
}

func serveLimited(t *testing.T, e *env, max, perIP int) (string, *limitedListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := &limitedListener{Listener: ln, l: NewLimiter(e.log, max, perIP), released: make(chan struct{}, 16)}
	srv := NewServer(e.options())
	go srv.Serve(lim)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), clientLimit)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return ln.Addr().String(), lim
}

// dialFrom connects from the loopback address src (127.0.0.2 ...); the
// test is skipped where the system has no such address.
func dialFrom(t *testing.T, src, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from %s: %v", src, err)
	}
	return imaptest.New(t, c)
}

func TestMaxConnections(t *testing.T) {
	e := newEnv(t)
	addr, lim := serveLimited(t, e, 2, 0)
	a := dial(t, addr)
	a.Expect(greeting)
	b := dial(t, addr)
	b.Expect(greeting)

	over := dial(t, addr)
	over.Expect("* BYE Too many connections")
	over.ExpectEOF()
	if want := " INFO connection refused: client=127.0.0.1 too many connections: the server has 2 (imapd_max_connections 2)\n"; !strings.Contains(e.logBuf.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, e.logBuf.String())
	}

	// A place freed is taken again.
	a.Send("a1 LOGOUT")
	a.Expect("* BYE " + host + " IMAP4rev1 server terminating connection")
	select {
	case <-lim.released:
	case <-time.After(clientLimit):
		t.Fatal("the closed connection did not give its place back")
	}
	c := dial(t, addr)
	c.Expect(greeting)
}

func TestMaxConnectionsPerIP(t *testing.T) {
	e := newEnv(t)
	addr, _ := serveLimited(t, e, 0, 1)
	a := dialFrom(t, "127.0.0.1", addr)
	a.Expect(greeting)
	same := dialFrom(t, "127.0.0.1", addr)
	same.Expect("* BYE Too many connections")
	same.ExpectEOF()
	other := dialFrom(t, "127.0.0.2", addr)
	other.Expect(greeting)
	login(t, other)
	if want := " INFO connection refused: client=127.0.0.1 too many connections: the address has 1 (imapd_max_connections_per_ip 1)\n"; !strings.Contains(e.logBuf.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, e.logBuf.String())
	}
}

// The 3 minutes before login count from connect: a client that keeps
// talking (here: a NOOP, then a command it never finishes) is still cut.
// The idle limit is an hour, so only the deadline can end this test. The
// NOOP's answer must come before the deadline: the client sends before
// the greeting, so that no round trip of the client's lies inside it, and
// the deadline is a second, which a loaded machine still meets.
func TestPreAuthDeadline(t *testing.T) {
	for _, transport := range []string{"tcp", "pipe"} {
		t.Run(transport, func(t *testing.T) {
			e := newEnv(t)
			opts := e.options()
			opts.PreAuthTimeout = time.Hour
			opts.PreAuthDeadline = time.Second
			c, _ := connect(t, transport, opts)
			c.SendRaw("a1 NOOP\r\na2 NOO")
			c.Expect(greeting)
			if r := c.Collect("a1"); r.Status != "OK" {
				t.Fatalf("NOOP: %q", r.Lines())
			}
			c.Expect("* BYE Autologout; no login in time")
			c.ExpectEOF()
			e.waitClosed(t)
			if !strings.Contains(e.logBuf.String(), " INFO autologout: no login within 1s, client ") {
				t.Errorf("log:\n%s", e.logBuf.String())
			}
		})
	}
}

func plain(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + pass))
}

// LOGIN and AUTHENTICATE PLAIN failures count alike; after
// MaxLoginFailures the connection is cut; each failure is logged.
func TestLoginFailuresCut(t *testing.T) {
	e := newEnv(t)
	opts := e.options()
	opts.LoginDelay = time.Millisecond
	opts.LoginDelayMax = time.Millisecond
	opts.MaxLoginFailures = 3
	_, addr, _ := serveTCP(t, opts)
	c := dial(t, addr)
	c.Expect(greeting)
	for i, cmd := range []string{"LOGIN alice wrong", "AUTHENTICATE PLAIN " + plain("alice", "bad"), "LOGIN alice worse"} {
		tag := fmt.Sprintf("a%d", i+1)
		resps := c.Tagged(tag, cmd).Lines()
		if last := resps[len(resps)-1]; !strings.HasPrefix(last, tag+" NO ") {
			t.Fatalf("%s: %q", cmd, resps)
		}
	}
	c.Expect(ByeLoginFailures + "")
	c.ExpectEOF()
	e.waitClosed(t)
	log := e.logBuf.String()
	for _, want := range []string{
		` INFO login failure: client=127.0.0.1 user="alice" failures=1 address_failures=1` + "\n",
		` INFO login failure: client=127.0.0.1 user="alice" failures=2 address_failures=2` + "\n",
		` INFO login failure: client=127.0.0.1 user="alice" failures=3 address_failures=3` + "\n",
		` INFO login failures: client=127.0.0.1 user="alice" too many (3), disconnecting` + "\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// In one process the failures of an address count across its
// connections, and only its own.
func TestLoginFailuresSharedPerAddress(t *testing.T) {
	e := newEnv(t)
	opts := e.options()
	opts.LoginDelay = time.Millisecond
	opts.LoginDelayMax = time.Millisecond
	opts.MaxLoginFailures = -1
	_, addr, _ := serveTCP(t, opts)
	a := dialFrom(t, "127.0.0.1", addr)
	a.Expect(greeting)
	b := dialFrom(t, "127.0.0.1", addr)
	b.Expect(greeting)
	other := dialFrom(t, "127.0.0.2", addr)
	other.Expect(greeting)
	a.Tagged("a1", "LOGIN alice x").Lines()
	a.Tagged("a2", "LOGIN alice y").Lines()
	b.Tagged("b1", "AUTHENTICATE PLAIN "+plain("bob", "z")).Lines()
	other.Tagged("c1", "LOGIN carol w").Lines()
	other.Tagged("c2", "LOGIN "+strings.Repeat("x", 1000)+" w").Lines()
	login(t, b) // a success still works after the failures
	log := e.logBuf.String()
	for _, want := range []string{
		` login failure: client=127.0.0.1 user="bob" failures=1 address_failures=3` + "\n",
		` login failure: client=127.0.0.2 user="carol" failures=1 address_failures=1` + "\n",
		// A long name is cut.
		` login failure: client=127.0.0.2 user="` + strings.Repeat("x", maxLoggedUser) + `..." failures=2 address_failures=2` + "\n",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// signalLog is a log writer that reports the first line containing want.
type signalLog struct {
	w    io.Writer
	want string
	once sync.Once
	seen chan struct{}
}

func (s *signalLog) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if strings.Contains(string(p), s.want) {
		s.once.Do(func() { close(s.seen) })
	}
	return n, err
}

// The delay after a failure holds only that connection (another address
// logs in meanwhile), and ends on shutdown, for LOGIN and for AUTHENTICATE
// (which holds go-imap's writer while it waits): the shutdown stays
// graceful.
func TestLoginDelayHoldsOnlyItsConnection(t *testing.T) {
	for _, cmd := range []string{"LOGIN alice wrong", "AUTHENTICATE PLAIN " + plain("alice", "wrong")} {
		t.Run(strings.Fields(cmd)[0], func(t *testing.T) {
			e := newEnv(t)
			sig := &signalLog{w: e.logBuf, want: "login failure:", seen: make(chan struct{})}
			e.log = logging.New(sig, logging.LevelDebug)
			e.deps.Log = e.log
			opts := e.options()
			opts.LoginDelay = time.Hour
			srv, addr, _ := serveTCP(t, opts)
			slow := dialFrom(t, "127.0.0.1", addr)
			slow.Expect(greeting)
			slow.Send("a1 " + cmd)
			select {
			case <-sig.seen:
			case <-time.After(clientLimit):
				t.Fatal("the failure was not logged")
			}
			other := dialFrom(t, "127.0.0.2", addr)
			other.Expect(greeting)
			login(t, other)
			other.Tagged("a2", "SELECT INBOX").Lines()

			ctx, cancel := context.WithTimeout(context.Background(), clientLimit)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v (the delay kept the session)", err)
			}
			// The delayed NO may get out before the BYE, after it (the
			// session's answer races go-imap's Bye between its write and
			// its close of the connection), or not at all.
			bye := 0
			for _, r := range slow.ReadToEOF() {
				switch {
				case r == "* BYE "+host+" IMAP4rev1 server shutting down":
					bye++
				case strings.HasPrefix(r, "a1 NO "):
				default:
					t.Errorf("got %q, want the shutdown BYE and perhaps the NO", r)
				}
			}
			if bye != 1 {
				t.Errorf("%d shutdown BYEs, want 1", bye)
			}
		})
	}
}

// A delay does not outlast the pre-login deadline. The LOGIN must be read
// before the deadline: it is sent before the greeting (no round trip of
// the client's inside the deadline), and the deadline is a second.
func TestLoginDelayEndsAtDeadline(t *testing.T) {
	e := newEnv(t)
	opts := e.options()
	opts.LoginDelay = time.Hour
	opts.PreAuthTimeout = time.Hour
	opts.PreAuthDeadline = time.Second
	c, _ := servePipe(t, NewServer(opts))
	c.Send("a1 LOGIN alice wrong")
	c.Expect(greeting)
	resps := c.Collect("a1").Lines()
	if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a1 NO ") {
		t.Fatalf("LOGIN: %q", resps)
	}
	c.Expect("* BYE Autologout; no login in time")
	c.ExpectEOF()
	e.waitClosed(t)
}
