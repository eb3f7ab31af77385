package spawn

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"imapd/internal/imaptest"
	"imapd/internal/syncbuf"
)

// The test binary is also the child: with SPAWN_TEST_CHILD set it serves
// its stdin/stdout with a line protocol.
//
//	greeting       * HELLO pgid=<process group, or "none">
//	ECHO x         ECHO x
//	BIG n          one line of n 'x'
//	at end of input  writes "child: end of input" to stderr, exits 0
//	on SIGTERM     * BYE term, exits 0 ("echo") or goes on ("stubborn",
//	               which also ignores end of input)
func TestMain(m *testing.M) {
	if mode := os.Getenv("SPAWN_TEST_CHILD"); mode != "" {
		child(mode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(mode string) {
	w := bufio.NewWriter(os.Stdout)
	terms := make(chan os.Signal, 1)
	signal.Notify(terms, syscall.SIGTERM)
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGPIPE) // writing to the cut socket must not end it
	}
	lines := make(chan string)
	go func() {
		r := bufio.NewReader(os.Stdin)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- strings.TrimSuffix(l, "\r\n")
		}
	}()
	fmt.Fprintf(w, "* HELLO pgid=%s\r\n", pgid())
	w.Flush()
	for {
		select {
		case <-terms:
			fmt.Fprintf(w, "* BYE term\r\n")
			w.Flush()
			if mode == "echo" {
				return
			}
		case l, ok := <-lines:
			if !ok {
				fmt.Fprintln(os.Stderr, "child: end of input")
				if mode == "echo" {
					return
				}
				lines = nil
				continue
			}
			verb, arg, _ := strings.Cut(l, " ")
			switch verb {
			case "ECHO":
				fmt.Fprintf(w, "ECHO %s\r\n", arg)
			case "BIG":
				n, _ := strconv.Atoi(arg)
				fmt.Fprintf(w, "%s\r\n", strings.Repeat("x", n))
			}
			w.Flush()
		}
	}
}

// childCmd is this test binary as a child of the given mode.
func childCmd(t *testing.T, mode string) (*exec.Cmd, *syncbuf.Buffer) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "SPAWN_TEST_CHILD="+mode)
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	return cmd, stderr
}

// connPair is a TCP connection on 127.0.0.1: the client's end and the
// server's end (what a listener's Accept gives).
func connPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

func modes() []bool {
	if CanPassSocket {
		return []bool{false, true}
	}
	return []bool{true}
}

func name(relay bool) string {
	if relay {
		return "relay"
	}
	return "socket"
}

// start starts an "echo"/"stubborn" child on a fresh connection.
func start(t *testing.T, g *Group, mode string) (*imaptest.Conn, *Child, *syncbuf.Buffer) {
	t.Helper()
	cc, sc := connPair(t)
	cmd, stderr := childCmd(t, mode)
	ch, err := g.Start(sc, cmd)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ch.Cmd.Process.Kill()
		ch.Wait()
	})
	c := imaptest.New(t, cc)
	g1 := c.Greeting("* HELLO pgid=")
	if runtime.GOOS != "windows" && strings.TrimPrefix(g1, "* HELLO pgid=") == pgid() {
		t.Errorf("child in the parent's process group %s", pgid())
	}
	return c, ch, stderr
}

func TestSession(t *testing.T) {
	for _, relay := range modes() {
		t.Run(name(relay), func(t *testing.T) {
			g := &Group{Relay: relay}
			c, ch, stderr := start(t, g, "echo")
			c.Send("ECHO hello")
			c.Expect("ECHO hello")
			const n = 1 << 20 // more than a pipe or socket buffer holds
			c.Send("BIG " + strconv.Itoa(n))
			c.Expect(strings.Repeat("x", n))
			if g.Running() != 1 {
				t.Errorf("Running %d, want 1", g.Running())
			}
			if !relay {
				// The group's copy of a passed socket is out of the
				// network poller: the connection itself is closed.
				if _, err := ch.Conn.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
					t.Errorf("the group's connection after the child started: %v", err)
				}
			}
			// The client closes: the child sees end of input and exits.
			c.NetConn().(*net.TCPConn).CloseWrite()
			if err := ch.Wait(); err != nil {
				t.Errorf("child: %v", err)
			}
			c.ExpectEOF()
			if !strings.Contains(stderr.String(), "child: end of input") {
				t.Errorf("child stderr: %q", stderr.String())
			}
			if st := g.Shutdown(context.Background()); st != (Stats{}) {
				t.Errorf("shutdown with nothing running: %+v", st)
			}
		})
	}
}

// The child exits by itself: the client sees the end of the connection.
func TestChildExitClosesConnection(t *testing.T) {
	for _, relay := range modes() {
		t.Run(name(relay), func(t *testing.T) {
			g := &Group{Relay: relay}
			c, ch, _ := start(t, g, "echo")
			ch.Cmd.Process.Kill()
			c.ExpectEOF()
			if err := ch.Wait(); err == nil {
				t.Error("killed child: Wait gave no error")
			}
		})
	}
}

func TestShutdownTerm(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on windows")
	}
	for _, relay := range modes() {
		t.Run(name(relay), func(t *testing.T) {
			g := &Group{Relay: relay, Term: true}
			c, _, _ := start(t, g, "echo")
			st := g.Shutdown(context.Background()) // no deadline: SIGTERM must end it
			if st != (Stats{Ended: 1}) {
				t.Errorf("shutdown: %+v, want one ended", st)
			}
			c.Expect("* BYE term")
			c.ExpectEOF()
		})
	}
}

func TestShutdownCuts(t *testing.T) {
	for _, relay := range modes() {
		t.Run(name(relay), func(t *testing.T) {
			g := &Group{Relay: relay}
			c, _, stderr := start(t, g, "echo")
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // no grace
			if st := g.Shutdown(ctx); st != (Stats{Cut: 1}) {
				t.Errorf("shutdown: %+v, want one cut", st)
			}
			c.ExpectEOF()
			// Cut, not killed: the child saw end of input.
			if !strings.Contains(stderr.String(), "child: end of input") {
				t.Errorf("child stderr: %q", stderr.String())
			}
		})
	}
}

func TestShutdownKills(t *testing.T) {
	for _, relay := range modes() {
		t.Run(name(relay), func(t *testing.T) {
			log := &testLog{}
			g := &Group{Relay: relay, Term: true, CutWait: 10 * time.Millisecond, Log: log}
			c, ch, _ := start(t, g, "stubborn")
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if st := g.Shutdown(ctx); st != (Stats{Killed: 1}) {
				t.Errorf("shutdown: %+v, want one killed", st)
			}
			if err := ch.Wait(); err == nil {
				t.Error("killed child: Wait gave no error")
			}
			c.ReadToEOF()
			if got := log.String(); !strings.Contains(got, "cutting the connections of 1 sessions") || !strings.Contains(got, fmt.Sprintf("killing pid %d", ch.Cmd.Process.Pid)) {
				t.Errorf("log: %q", got)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	g := &Group{}
	cc, sc := connPair(t)
	cmd := exec.Command(filepath.Join(t.TempDir(), "no-such-program"))
	if _, err := g.Start(sc, cmd); err == nil {
		t.Fatal("Start of a missing program succeeded")
	}
	// The connection is still the caller's: it can answer on it.
	if _, err := sc.Write([]byte("* BYE unavailable\r\n")); err != nil {
		t.Errorf("connection closed by a failed Start: %v", err)
	}
	c := imaptest.New(t, cc)
	c.Expect("* BYE unavailable")

	g.Shutdown(context.Background())
	_, sc2 := connPair(t)
	cmd, _ = childCmd(t, "echo")
	if _, err := g.Start(sc2, cmd); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Shutdown: %v, want ErrClosed", err)
	}
	if cmd.Process != nil {
		t.Error("a child was started after Shutdown")
	}
}

type testLog struct{ syncbuf.Buffer }

func (l *testLog) Infof(format string, args ...any)  { fmt.Fprintf(&l.Buffer, format+"\n", args...) }
func (l *testLog) Errorf(format string, args ...any) { fmt.Fprintf(&l.Buffer, format+"\n", args...) }
