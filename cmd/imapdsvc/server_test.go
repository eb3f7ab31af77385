package main

import (
	"bufio"
	"bytes"
	"fmt"
	"imapd/internal/syncbuf"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"imapd/internal/imaptest"
	"imapd/internal/spawn"
	"imapd/logging"
)

// The test binary doubles as a stand-in imapd, and as imapdsvc itself for
// the service test (service_windows_test.go): started as `imapd -i FILE` by
// the spawner it is the stand-in, started with -service by the service
// manager it is imapdsvc. The stand-in speaks a tiny line protocol on
// stdin/stdout, enough to drive the spawner before and besides the real
// imapd:
//
//	greeting   * OK stand-in remote=<IMAPD_REMOTE_ADDR> local=<IMAPD_LOCAL_ADDR> args=<args>
//	t ECHO x   * ECHO x / t OK
//	t BIG n    * BIG n, n bytes of 'x', CRLF / t OK
//	t UPLOAD n reads n bytes / t OK got n
//	t STDERR x writes "stand-in says x" to stderr / t OK
//	t EXIT     exits at once, without a word
//	t LOGOUT   * BYE / t OK, exits
//
// At end of input it writes "stand-in: end of input" to stderr and exits 0.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "-i":
			standIn()
			os.Exit(0)
		case "-service":
			os.Exit(run(os.Args[1:], os.Stderr))
		}
	}
	os.Exit(m.Run())
}

func standIn() {
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "* OK stand-in remote=%s local=%s args=%s\r\n", os.Getenv(envRemoteAddr), os.Getenv(envLocalAddr), strings.Join(os.Args[1:], " "))
	w.Flush()
	r := bufio.NewReader(os.Stdin)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			fmt.Fprintln(os.Stderr, "stand-in: end of input")
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			fmt.Fprintf(w, "* BAD %q\r\n", line)
			w.Flush()
			continue
		}
		tag, cmd, arg := f[0], f[1], strings.Join(f[2:], " ")
		n, _ := strconv.Atoi(arg)
		switch cmd {
		case "ECHO":
			fmt.Fprintf(w, "* ECHO %s\r\n%s OK\r\n", arg, tag)
		case "BIG":
			fmt.Fprintf(w, "* BIG %d\r\n%s\r\n%s OK\r\n", n, strings.Repeat("x", n), tag)
		case "UPLOAD":
			got, _ := io.CopyN(io.Discard, r, int64(n))
			fmt.Fprintf(w, "%s OK got %d\r\n", tag, got)
		case "STDERR":
			fmt.Fprintf(os.Stderr, "stand-in says %s\n", arg)
			fmt.Fprintf(w, "%s OK\r\n", tag)
		case "EXIT":
			os.Exit(0)
		case "LOGOUT":
			fmt.Fprintf(w, "* BYE stand-in\r\n%s OK LOGOUT\r\n", tag)
			w.Flush()
			return
		default:
			fmt.Fprintf(w, "%s BAD unknown\r\n", tag)
		}
		w.Flush()
	}
}

// syncBuffer collects output written from several goroutines.
type syncBuffer = syncbuf.Buffer

// testServer runs a spawner with the stand-in imapd on a loopback port.
type testServer struct {
	*server
	addr string
	log  *syncBuffer
}

func newTestServer(t *testing.T, relay bool, max int) *testServer {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return newTestServerFor(t, exe, relay, max)
}

// newTestServerFor runs a spawner of the program imapd.
func newTestServerFor(t *testing.T, imapd string, relay bool, max int) *testServer {
	t.Helper()
	buf := &syncBuffer{}
	s := &server{
		imapd:  imapd,
		config: filepath.Join("conf", "dmail.conf"),
		max:    max,
		relay:  relay,
		log:    &logger{file: logging.New(buf, logging.LevelDebug), level: logging.LevelDebug},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Shutdown(0)
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{server: s, addr: ln.Addr().String(), log: buf}
}

// client is a connection to the spawner: the stand-in's lines are read as
// IMAP responses (none has a literal).
type client = imaptest.Conn

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c := imaptest.Dial(t, addr)
	c.Timeout = 2 * time.Minute
	return c
}

func modes() []bool {
	if spawn.CanPassSocket {
		return []bool{true, false}
	}
	return []bool{true}
}

func modeName(relay bool) string {
	if relay {
		return "relay"
	}
	return "socket"
}

func TestSession(t *testing.T) {
	for _, relay := range modes() {
		t.Run(modeName(relay), func(t *testing.T) {
			ts := newTestServer(t, relay, 10)
			c := dial(t, ts.addr)
			want := fmt.Sprintf("* OK stand-in remote=%s local=%s args=-i %s", c.NetConn().LocalAddr(), ts.addr, ts.config)
			c.Expect(want)
			c.Send("a ECHO hello")
			c.Expect("* ECHO hello", "a OK")

			const n = 1 << 20 // more than any pipe or socket buffer holds
			c.Send("b BIG " + strconv.Itoa(n))
			c.Expect("* BIG "+strconv.Itoa(n), strings.Repeat("x", n), "b OK")
			c.Send("c UPLOAD " + strconv.Itoa(n))
			if _, err := c.NetConn().Write(bytes.Repeat([]byte("y"), n)); err != nil {
				t.Fatal(err)
			}
			c.Expect("c OK got " + strconv.Itoa(n))

			c.Send("d STDERR hi there")
			c.Expect("d OK")
			c.Send("e LOGOUT")
			c.Expect("* BYE stand-in", "e OK LOGOUT")
			c.ExpectEOF()

			st := ts.Shutdown(time.Minute)
			if st.Cut != 0 || st.Killed != 0 {
				t.Errorf("shutdown after the session ended: %+v", st)
			}
			log := ts.log.String()
			for _, w := range []string{"connection from " + c.NetConn().LocalAddr().String() + ": imapd pid", "stderr: stand-in says hi there", ": ended after"} {
				if !strings.Contains(log, w) {
					t.Errorf("log lacks %q:\n%s", w, log)
				}
			}
		})
	}
}

func TestClientCloseEndsImapd(t *testing.T) {
	for _, relay := range modes() {
		t.Run(modeName(relay), func(t *testing.T) {
			ts := newTestServer(t, relay, 10)
			c := dial(t, ts.addr)
			c.Response()
			c.NetConn().Close()
			// imapd sees end of file and ends by itself: nothing to cut.
			if st := ts.Shutdown(time.Minute); st.Cut != 0 || st.Killed != 0 {
				t.Errorf("shutdown: %+v, want the session to have ended by itself", st)
			}
			if log := ts.log.String(); !strings.Contains(log, "stand-in: end of input") {
				t.Errorf("imapd did not see end of input:\n%s", log)
			}
		})
	}
}

func TestImapdExitClosesConnection(t *testing.T) {
	for _, relay := range modes() {
		t.Run(modeName(relay), func(t *testing.T) {
			ts := newTestServer(t, relay, 10)
			c := dial(t, ts.addr)
			c.Response()
			c.Send("a EXIT")
			c.ExpectEOF()
		})
	}
}

func TestMaxSessions(t *testing.T) {
	ts := newTestServer(t, true, 1)
	c1 := dial(t, ts.addr)
	c1.Response() // the one session is running
	c2 := dial(t, ts.addr)
	c2.Expect("* BYE Too many IMAP sessions, try again later")
	c2.ExpectEOF()
	if log := ts.log.String(); !strings.Contains(log, "refused connection from "+c2.NetConn().LocalAddr().String()+": 1 sessions running (-max 1)") {
		t.Errorf("refusal not logged:\n%s", log)
	}
	c1.Send("a LOGOUT")
	c1.Expect("* BYE stand-in", "a OK LOGOUT")
}

func TestShutdownCutsSessions(t *testing.T) {
	for _, relay := range modes() {
		t.Run(modeName(relay), func(t *testing.T) {
			ts := newTestServer(t, relay, 10)
			c := dial(t, ts.addr)
			c.Response() // imapd runs and waits for a command
			st := ts.Shutdown(0)
			if st != (ShutdownStats{Cut: 1}) {
				t.Errorf("shutdown: %+v, want one session cut", st)
			}
			c.ExpectEOF()
			// Cut, not killed: imapd saw end of input and ended cleanly.
			if log := ts.log.String(); !strings.Contains(log, "stand-in: end of input") {
				t.Errorf("imapd did not see end of input:\n%s", log)
			}
			if conn, err := net.Dial("tcp", ts.addr); err == nil {
				conn.Close()
				t.Errorf("still accepting after shutdown")
			}
		})
	}
}

func TestStartFailure(t *testing.T) {
	ts := newTestServerFor(t, filepath.Join(tempDir(t), "no-such-imapd"), true, 10)
	c := dial(t, ts.addr)
	c.Expect("* BYE IMAP server unavailable")
	c.ExpectEOF()
	if log := ts.log.String(); !strings.Contains(log, "start imapd "+ts.imapd) {
		t.Errorf("start failure not logged:\n%s", log)
	}
}

func TestParseArgs(t *testing.T) {
	t.Setenv("DMAIL_CONF", filepath.Join(tempDir(t), "env.conf"))
	var out bytes.Buffer
	o, verb, err := parseArgs(nil, &out)
	if err != nil || verb != "" {
		t.Fatalf("parseArgs(): %q, %v", verb, err)
	}
	exe, _ := os.Executable()
	if o.listen != ":143" || o.max != 100 || o.config != os.Getenv("DMAIL_CONF") || o.relay != !spawn.CanPassSocket ||
		filepath.Dir(o.imapd) != filepath.Dir(exe) || strings.TrimSuffix(filepath.Base(o.imapd), ".exe") != "imapd" {
		t.Errorf("defaults: %+v", o)
	}
	if got := o.serviceArgs(); !slices.Equal(got, []string{"-service", "-i", o.config, "-listen", ":143"}) {
		t.Errorf("service args: %q", got)
	}

	o, verb, err = parseArgs([]string{"-i", "x.conf", "-listen", "127.0.0.1:1143", "-max", "5", "install"}, &out)
	if err != nil || verb != "install" {
		t.Fatalf("parseArgs: %q, %v", verb, err)
	}
	if !filepath.IsAbs(o.config) || filepath.Base(o.config) != "x.conf" {
		t.Errorf("-i not made absolute: %q", o.config)
	}
	if got := o.serviceArgs(); !slices.Equal(got, []string{"-service", "-i", o.config, "-listen", "127.0.0.1:1143", "-max", "5"}) {
		t.Errorf("service args: %q", got)
	}

	// Flags after the verb, or on both sides of it, as administrators
	// type them.
	for _, args := range [][]string{
		{"debug", "-i", "x.conf", "-max", "5"},
		{"-i", "x.conf", "debug", "-max", "5"},
		{"-max=5", "debug", "-i=x.conf"},
	} {
		o, verb, err = parseArgs(args, &out)
		if err != nil || verb != "debug" {
			t.Errorf("parseArgs(%q): %q, %v", args, verb, err)
			continue
		}
		if filepath.Base(o.config) != "x.conf" || o.max != 5 {
			t.Errorf("parseArgs(%q): -i %q -max %d", args, o.config, o.max)
		}
	}

	for _, bad := range [][]string{{"-max", "0"}, {"start", "stop"}, {"-nosuch"}, {"debug", "-nosuch"}, {"debug", "-i", "x.conf", "stop"}, {"debug", "-max"}} {
		if _, _, err := parseArgs(bad, &out); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
	if runtime.GOOS != "windows" {
		// The verb is reached (and refused off Windows), not a usage error.
		out.Reset()
		if code := run([]string{"remove", "-i", "x.conf"}, &out); code != 1 || !strings.Contains(out.String(), "Windows services exist on Windows only") {
			t.Errorf("remove -i x.conf: exit %d, %q", code, out.String())
		}
	}
	if code := run([]string{"frobnicate"}, &out); code != 2 {
		t.Errorf("unknown verb: exit %d", code)
	}
}
