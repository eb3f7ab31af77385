package main

import (
	"errors"
	"imapd/internal/imaptest"
	"imapd/internal/syncbuf"
	"imapd/internal/testdir"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the tests run this binary as imapd itself (a real process,
// real pipes and sockets) without building it again.
func TestMain(m *testing.M) {
	if os.Getenv("IMAPD_TEST_MAIN") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// limit only bounds a broken test; no assertion depends on time.
const limit = 20 * time.Second

// syncBuffer collects output written from several goroutines.
type syncBuffer = syncbuf.Buffer

func imapd(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "IMAPD_TEST_MAIN=1")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("imapd stderr:\n%s", stderr.String())
		}
	})
	return cmd, stderr
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

// writeConfig writes a usable dmail.conf whose work_path (so the log) is
// dir; extra lines are appended.
func writeConfig(t *testing.T, dir string, extra ...string) string {
	t.Helper()
	path := filepath.Join(dir, "dmail.conf")
	lines := append([]string{"drop_path " + dir, "work_path " + dir, "log_level debug"}, extra...)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVersion(t *testing.T) {
	cmd, _ := imapd(t, "-version")
	out, err := cmd.Output()
	if code := exitCode(t, err); code != 0 || string(out) != "imapd dev\n" {
		t.Errorf("got %q, exit %d", out, code)
	}
}

func TestCheck(t *testing.T) {
	dir := tempDir(t)
	good := writeConfig(t, dir)
	cmd, _ := imapd(t, "-i", good, "-check")
	out, err := cmd.Output()
	if code := exitCode(t, err); code != 0 || !strings.Contains(string(out), "work_path "+dir) {
		t.Errorf("valid config: exit %d, output:\n%s", code, out)
	}

	bad := writeConfig(t, tempDir(t), "hash_spool 9")
	cmd, _ = imapd(t, "-check")
	cmd.Env = append(cmd.Env, "DMAIL_CONF="+bad)
	out, err = cmd.Output()
	if code := exitCode(t, err); code != 1 || !strings.Contains(string(out), "hash_spool") {
		t.Errorf("bad config: exit %d, output:\n%s", code, out)
	}

	cmd, _ = imapd(t, "-i", filepath.Join(dir, "missing.conf"), "-check")
	if code := exitCode(t, cmd.Run()); code != 1 {
		t.Errorf("missing config: exit %d", code)
	}
}

// inetd starts imapd in inetd mode on pipes and returns the client side.
func inetd(t *testing.T, env []string, args ...string) (*exec.Cmd, *imaptest.Conn) {
	t.Helper()
	cmd, _ := imapd(t, args...)
	cmd.Env = append(cmd.Env, env...)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	err = cmd.Start()
	inR.Close() // imapd has its own copies
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	c := imaptest.Pipes(t, outR, inW)
	c.Timeout = limit
	return cmd, c
}

func TestInetdSession(t *testing.T) {
	dir := tempDir(t)
	cmd, c := inetd(t, nil, "-i", writeConfig(t, dir))
	host := hostname()
	c.Expect("* OK " + host + " IMAP4rev1 vdev server ready")
	c.Send("a1 LOGOUT")
	c.Expect("* BYE "+host+" IMAP4rev1 server terminating connection", "a1 OK LOGOUT completed")
	c.ExpectEOF()
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Errorf("exit %d", code)
	}
	log, err := os.ReadFile(filepath.Join(dir, "imapd.log"))
	if err != nil || !strings.Contains(string(log), " DEBUG connection from stdin to stdout\n") {
		t.Errorf("imapd.log (%v):\n%s", err, log)
	}
}

func TestInetdUnreadableConfig(t *testing.T) {
	missing := filepath.Join(tempDir(t), "nothere", "dmail.conf")
	cmd, c := inetd(t, []string{"DMAIL_CONF=" + missing})
	if line := c.Response(); !strings.HasPrefix(line, "* BYE read config "+missing+": ") {
		t.Errorf("got %q", line)
	}
	c.ExpectEOF()
	if code := exitCode(t, cmd.Wait()); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
}

func TestInetdBadConfig(t *testing.T) {
	dir := tempDir(t)
	cmd, c := inetd(t, nil, "-i", writeConfig(t, dir, "hash_spool 9"))
	if line := c.Response(); !strings.HasPrefix(line, "* BYE configuration error (see imapd -check): ") || !strings.Contains(line, "hash_spool") {
		t.Errorf("got %q", line)
	}
	c.ExpectEOF()
	if code := exitCode(t, cmd.Wait()); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	log, err := os.ReadFile(filepath.Join(dir, "imapd.log"))
	if err != nil || !strings.Contains(string(log), " ERROR config: ") {
		t.Errorf("imapd.log (%v):\n%s", err, log)
	}
}

// SIGTERM in inetd mode: the client gets a BYE, imapd exits 0.
func TestInetdSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM to send on windows")
	}
	cmd, c := inetd(t, nil, "-i", writeConfig(t, tempDir(t)))
	host := hostname()
	c.Expect("* OK " + host + " IMAP4rev1 vdev server ready")
	cmd.Process.Signal(syscall.SIGTERM)
	c.Expect("* BYE " + host + " IMAP4rev1 server shutting down")
	c.ExpectEOF()
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// -listen serves several clients; SIGTERM says BYE to each and exits 0.
func TestListenSIGTERM(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM to send on windows")
	}
	dir := tempDir(t)
	cmd, addr := startListen(t, "-i", writeConfig(t, dir), "-listen", "127.0.0.1:0")
	host := hostname()
	var clients []*imaptest.Conn
	for range 2 {
		c := imaptest.Dial(t, addr)
		c.Timeout = limit
		c.Expect("* OK " + host + " IMAP4rev1 vdev server ready")
		clients = append(clients, c)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for _, c := range clients {
		c.Expect("* BYE " + host + " IMAP4rev1 server shutting down")
		c.ExpectEOF()
	}
	if code := exitCode(t, cmd.Wait()); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// tempDir is a temporary directory that is cleaned up under Wine too.
var tempDir = testdir.New
