// Package e2e drives the built imapd and cryptauth binaries with real IMAP
// clients (Python imaplib, mbsync, go-imap's client) over real sockets, in
// -listen mode and inetd mode (systemd-socket-activate --inetd), and checks
// the drop files afterwards with an independent mbox reader.
package e2e

import (
	"bufio"
	"fmt"
	"imapd/internal/storagetest"
	"imapd/internal/syncbuf"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"imapd/demo"
)

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imapd-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	for _, cmd := range []string{"imapd", "cryptauth"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, cmd), "imapd/cmd/"+cmd).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", cmd, err, out)
			os.Exit(1)
		}
	}
	code := runFormats(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// Storage formats: the suite runs once per format (use_maildir false, then
// true) on the same demo site; IMAPD_TEST_FORMAT=mbox or =maildir runs
// one only.
const (
	fmtMbox    = storagetest.Mbox
	fmtMaildir = storagetest.Maildir
)

// format is the storage format of the current run of the suite.
var format = fmtMbox

func runFormats(m *testing.M) int {
	return storagetest.Run(m, func(f string) { format = f })
}

// inboxOf is a demo user's INBOX: drop file or maildir.
func inboxOf(site *demo.Site, user string) string {
	if format == fmtMaildir {
		return filepath.Join(site.Dir, "maildir", user+".mdir")
	}
	return site.DropFile(user)
}

// folderOf is the file or maildir of a demo user's folder.
func folderOf(site *demo.Site, user, name string) string {
	if format == fmtMaildir {
		return filepath.Join(inboxOf(site, user), filepath.FromSlash(name))
	}
	return filepath.Join(site.DropFile(user)+".mbx", filepath.FromSlash(name))
}

// storeSummary reads a mailbox with an independent reader: one line per
// message, subject|UID|Status|X-Status|keywords (mbox_summary.py, or for a
// directory maildir_summary.py in the same form).
func storeSummary(t *testing.T, path string) []string {
	t.Helper()
	if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
		return mboxSummary(t, path) // also in maildir runs: sites of their own (unix users)
	}
	return summaryLines(runPython(t, "maildir_summary.py", path))
}

// snapshot is what a sync that changes nothing must leave as it was: the
// drop file's bytes, or a maildir's file names and uid list.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	if format == fmtMbox {
		b, _ := os.ReadFile(path)
		return string(b)
	}
	var b strings.Builder
	for _, sub := range []string{"cur", "new"} {
		ents, _ := os.ReadDir(filepath.Join(path, sub))
		for _, e := range ents {
			b.WriteString(sub + "/" + e.Name() + "\n")
		}
	}
	list, _ := os.ReadFile(filepath.Join(path, "imapd-uidlist"))
	b.Write(list)
	return b.String()
}

func bin(name string) string { return filepath.Join(binDir, name) }

// newSite sets up a demo DMail installation in a temp dir.
func newSite(t *testing.T, extraConf ...string) *demo.Site {
	t.Helper()
	t.Logf("storage format %s", format)
	dir := t.TempDir()
	if format == fmtMaildir {
		// At the end: errors in the other lines keep their line numbers.
		extraConf = append(extraConf[:len(extraConf):len(extraConf)], "use_maildir true", "maildir_home "+filepath.Join(dir, "maildir"))
	}
	site, err := demo.Setup(dir, bin("cryptauth"), extraConf...)
	if err != nil {
		t.Fatal(err)
	}
	if format == fmtMaildir {
		if err := site.MaildirInbox("alice", inboxOf(site, "alice")); err != nil {
			t.Fatal(err)
		}
	}
	return site
}

// freePort finds a loopback port nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// waitPort polls until addr accepts connections: readiness polling,
// bounded to 20 s, not a synchronisation sleep on a guess.
func waitPort(t *testing.T, addr string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("server exited before listening on %s", addr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("nothing listens on %s", addr)
}

// server is a running imapd (or a spawner around it).
type server struct {
	Addr   string
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *syncbuf.Buffer
}

// startCommand runs a server command that listens on addr.
func startCommand(t *testing.T, addr string, name string, args ...string) *server {
	t.Helper()
	s := &server{Addr: addr, exited: make(chan struct{}), stderr: &syncbuf.Buffer{}}
	s.cmd = exec.Command(name, args...)
	s.cmd.Stderr = s.stderr
	s.cmd.Stdout = s.cmd.Stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	t.Cleanup(func() { s.stop(t) })
	waitPort(t, addr, s.exited)
	return s
}

// startListen runs `imapd -i conf -listen addr`.
func startListen(t *testing.T, site *demo.Site) *server {
	t.Helper()
	addr := freePort(t)
	return startCommand(t, addr, bin("imapd"), "-i", site.Config, "-listen", addr)
}

// startInetd runs imapd in inetd mode behind systemd-socket-activate.
func startInetd(t *testing.T, site *demo.Site) *server {
	t.Helper()
	tool, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("systemd-socket-activate not installed (scripts/test-deps.sh installs it)")
	}
	addr := freePort(t)
	return startCommand(t, addr, tool, "--inetd", "-a", "-l", addr, bin("imapd"), "-i", site.Config)
}

func (s *server) stop(t *testing.T) {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("server did not stop on SIGTERM; output:\n%s", s.stderr.String())
	}
}

func hostPort(addr string) (string, string) {
	h, p, _ := net.SplitHostPort(addr)
	return h, p
}

// runPython runs a script from testdata with arguments.
func runPython(t *testing.T, script string, args ...string) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	cmd := exec.Command(py, append([]string{filepath.Join("testdata", script)}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// logTail returns the imapd.log of a site, for failure messages.
func logTail(site *demo.Site) string {
	b, err := os.ReadFile(filepath.Join(site.Log, "imapd.log"))
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// mboxSummary reads a drop file with Python's mailbox module (an
// independent reader) and returns one line per message: subject, X-UID,
// Status, X-Status.
func mboxSummary(t *testing.T, path string) []string {
	t.Helper()
	return summaryLines(runPython(t, "mbox_summary.py", path))
}

func summaryLines(out string) []string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// clientTool finds the real client program a test drives, or skips the
// test naming the Debian package that brings it.
func clientTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (scripts/test-deps.sh installs %s)", name, pkg)
	}
	return path
}

// demoServer sets up a demo site and serves it in -listen mode.
func demoServer(t *testing.T) (site *demo.Site, host, port string) {
	t.Helper()
	site = newSite(t)
	srv := startListen(t, site)
	host, port = hostPort(srv.Addr)
	return site, host, port
}
