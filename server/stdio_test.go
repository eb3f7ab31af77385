package server

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"

	"imapd/internal/imaptest"
	"imapd/logging"
	"imapd/session"
)

// TestHelperStdioServer is not a test: the stdio tests run the test binary
// with it as an inetd-started imapd, serving its stdin/stdout. The greeting
// host is the client address StdioConn found.
func TestHelperStdioServer(t *testing.T) {
	if os.Getenv("SERVER_STDIO_HELPER") == "" {
		t.Skip("helper process only")
	}
	c, err := StdioConn()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.log = logging.New(os.Stderr, logging.LevelDebug)
	e.deps.Log = e.log
	opts := e.options()
	opts.NewDeps = func(conn net.Conn) (session.Deps, error) {
		d := e.deps
		d.Hostname = conn.RemoteAddr().Network() + "/" + conn.RemoteAddr().String()
		return d, nil
	}
	if err := NewServer(opts).ServeConn(c); err != nil {
		t.Fatal(err)
	}
	os.Exit(0) // no test framework output on what is the client's stdout
}

func helperCmd(t *testing.T) (*exec.Cmd, *syncBuffer) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperStdioServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SERVER_STDIO_HELPER=1")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("helper stderr:\n%s", stderr.String())
		}
	})
	return cmd, stderr
}

func shortSession(t *testing.T, c *client, host string) {
	c.Expect("* OK " + host + " IMAP4rev1 v1.2.3 server ready")
	login(t, c)
	c.Send("a2 LOGOUT")
	c.Expect("* BYE " + host + " IMAP4rev1 server terminating connection")
	c.Expect("a2 OK LOGOUT completed")
	c.ExpectEOF()
}

func TestStdioPipe(t *testing.T) {
	cmd, _ := helperCmd(t)
	toServer, fromClient, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	toClient, fromServer, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout = toServer, fromServer
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toServer.Close()
	fromServer.Close()
	c := imaptest.Pipes(t, toClient, fromClient)
	shortSession(t, c, "pipe/stdin")
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
}

func TestStdioSocket(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a socket cannot be a child's stdin through os/exec on windows")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	f, err := sc.(*net.TCPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	cmd, _ := helperCmd(t)
	cmd.Stdin, cmd.Stdout = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	sc.Close()
	c := imaptest.New(t, nc)
	shortSession(t, c, "tcp/"+nc.LocalAddr().String())
	if err := cmd.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
}
