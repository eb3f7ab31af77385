package deploycheck

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"imapd/demo"
	"imapd/internal/imaptest"
)

// root is the module root, two levels above this package.
var root = filepath.Join("..", "..")

// legacyImapd is where every recipe expects the binary (the legacy layout).
const legacyImapd = "/usr/local/dmail/imapd"

// testVersion is stamped into the imapd built for these tests.
const testVersion = "0.0.0-deploycheck"

func readDeploy(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "deploy", name))
	if err != nil {
		t.Fatalf("read deploy/%s: %v", name, err)
	}
	return string(b)
}

// ---- binaries ----

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

// binaries builds imapd and cryptauth once per test binary run, into a
// directory removed by TestMain.
func binaries(t *testing.T) (imapd, cryptauth string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "deploycheck-bin-")
		if buildErr != nil {
			return
		}
		for _, pkg := range []string{"imapd", "cryptauth"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, pkg),
				"-ldflags", "-X main.version="+testVersion, "./cmd/"+pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build ./cmd/%s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "imapd"), filepath.Join(buildDir, "cryptauth")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// ---- inetd.conf ----

// inetdLine is one service line of an inetd.conf.
type inetdLine struct {
	fields []string // service socktype proto wait user server argv...
}

// recipeLines returns the imap lines of deploy/inetd.conf, the commented-out
// alternatives included ("#imap ..."), keyed by their server program.
func recipeLines(t *testing.T) map[string]inetdLine {
	t.Helper()
	lines := map[string]inetdLine{}
	for _, l := range strings.Split(readDeploy(t, "inetd.conf"), "\n") {
		f := strings.Fields(strings.TrimPrefix(l, "#"))
		if len(f) < 7 || f[0] != "imap" {
			continue
		}
		lines[f[5]] = inetdLine{fields: f}
	}
	return lines
}

// TestInetdRecipeMatchesManual pins the two lines to the legacy manual's
// Unix installation: Linux through tcpd, Solaris straight to imapd, both
// nowait.100 as root.
func TestInetdRecipeMatchesManual(t *testing.T) {
	lines := recipeLines(t)
	want := map[string]string{
		"/usr/sbin/tcpd": "imap stream tcp nowait.100 root /usr/sbin/tcpd /usr/local/dmail/imapd",
		legacyImapd:      "imap stream tcp nowait.100 root /usr/local/dmail/imapd IMAPD",
	}
	for server, w := range want {
		got, ok := lines[server]
		if !ok {
			t.Errorf("deploy/inetd.conf has no imap line running %s", server)
			continue
		}
		if g := strings.Join(got.fields, " "); g != w {
			t.Errorf("deploy/inetd.conf line for %s:\n got %s\nwant %s", server, g, w)
		}
	}
	// Exactly one line is active: two imap lines make inetd misbehave.
	active := 0
	for _, l := range strings.Split(readDeploy(t, "inetd.conf"), "\n") {
		if strings.HasPrefix(l, "imap") {
			active++
		}
	}
	if active != 1 {
		t.Errorf("deploy/inetd.conf has %d active imap lines, want 1", active)
	}
}

// TestInetdServesSession runs each recipe line under the real inetd, on a
// loopback port instead of "imap" and with "-i <test dmail.conf>" added,
// and does LOGIN, SELECT INBOX and LOGOUT through it.
func TestInetdServesSession(t *testing.T) {
	inetd, err := exec.LookPath("inetd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/inetd"); serr != nil {
			t.Skip("inetd is not installed (Debian package openbsd-inetd; scripts/test-deps.sh installs it)")
		}
		inetd = "/usr/sbin/inetd"
	}
	imapd, cryptauth := binaries(t)
	site, err := demo.Setup(t.TempDir(), cryptauth)
	if err != nil {
		t.Fatal(err)
	}
	runAs := "root"
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		runAs = u.Username // inetd cannot switch users when not root
	}

	for server, line := range recipeLines(t) {
		t.Run(filepath.Base(server), func(t *testing.T) {
			if _, err := os.Stat(server); server != legacyImapd && err != nil {
				t.Skipf("%s is not installed (Debian package tcpd)", server)
			}
			port := freePort(t)
			f := append([]string(nil), line.fields...)
			f[0] = fmt.Sprintf("127.0.0.1:%d", port)
			f[4] = runAs
			for i := 5; i < len(f); i++ {
				if f[i] == legacyImapd {
					f[i] = imapd
				}
			}
			f = append(f, "-i", site.Config)
			conf := filepath.Join(t.TempDir(), "inetd.conf")
			if err := os.WriteFile(conf, []byte(strings.Join(f, "\t")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}

			var stderr strings.Builder
			cmd := exec.Command(inetd, "-d", conf) // -d: debug, stays in the foreground
			cmd.Stdout, cmd.Stderr = &stderr, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatalf("start %s: %v", inetd, err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			defer func() {
				cmd.Process.Kill()
				<-exited
				if t.Failed() {
					t.Logf("inetd.conf: %s\ninetd -d output:\n%s", strings.Join(f, " "), stderr.String())
				}
			}()

			conn := dialWhenReady(t, fmt.Sprintf("127.0.0.1:%d", port), exited)
			imapSession(t, conn)
		})
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// dialWhenReady connects to addr once inetd listens on it. Readiness
// polling, bounded: inetd prints nothing once its sockets are bound, so the
// connection is retried every 20ms for at most 10s (and given up at once
// if inetd exits). The first connection that succeeds is the session's.
func dialWhenReady(t *testing.T, addr string, exited <-chan error) net.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			return conn
		}
		if time.Now().After(deadline) {
			t.Fatalf("inetd did not listen on %s within 10s: %v", addr, err)
		}
		select {
		case err := <-exited:
			t.Fatalf("inetd exited before listening on %s: %v", addr, err)
		case <-tick.C:
		}
	}
}

// imapSession does LOGIN, SELECT INBOX and LOGOUT as the demo user alice
// (three messages in her drop file), checking the legacy greeting and BYE.
func imapSession(t *testing.T, conn net.Conn) {
	t.Helper()
	defer conn.Close()
	c := imaptest.New(t, conn)
	c.Timeout = 30 * time.Second // a hung server fails the test instead of hanging it
	greeting := c.Response()
	want := regexp.MustCompile(`^\* OK \S+ IMAP4rev1 v` + regexp.QuoteMeta(testVersion) + ` server ready$`)
	if !want.MatchString(greeting) {
		t.Fatalf("greeting %q does not match %s", greeting, want)
	}
	alice := demo.Users[0]
	c.OK("LOGIN %s %s", alice.Name, alice.Password)
	r := c.OK("SELECT INBOX")
	if !strings.HasPrefix(r.Tagged, "OK [READ-WRITE]") {
		t.Fatalf("SELECT INBOX: %q, want OK [READ-WRITE]; untagged %q", r.Tagged, r.Untagged)
	}
	r.Has(t, "* 3 EXISTS")
	r = c.OK("LOGOUT")
	bye := false
	for _, l := range r.Untagged {
		bye = bye || strings.HasPrefix(l, "* BYE ")
	}
	if !bye {
		t.Errorf("LOGOUT without BYE: %q", r.Untagged)
	}
	// imapd closes the connection after LOGOUT.
	c.ExpectEOF()
}

// ---- systemd ----

// TestSystemdUnitsVerify runs systemd-analyze verify on copies of the
// units whose ExecStart names an existing executable (verify insists on
// one; /usr/local/dmail/imapd is not installed here). Any message fails.
func TestSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed (Debian package systemd; scripts/test-deps.sh installs it)")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	units := []string{"imapd.socket", "imapd@.service", "imapd-listen.service", "imapd-tls.socket", "imapd-tls@.service"}
	var paths []string
	for _, u := range units {
		text := readDeploy(t, u)
		if !strings.Contains(text, "ExecStart="+legacyImapd) && strings.HasSuffix(u, ".service") {
			t.Errorf("deploy/%s: ExecStart does not run %s", u, legacyImapd)
		}
		p := filepath.Join(dir, u)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, legacyImapd, self)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}

	// What the recipes promise, beyond syntax.
	for _, c := range []struct{ unit, line string }{
		{"imapd.socket", "ListenStream=143"},
		{"imapd.socket", "Accept=yes"},
		{"imapd@.service", "StandardInput=socket"},
		{"imapd@.service", "StandardOutput=socket"},
		{"imapd@.service", "StandardError=journal"},
		{"imapd-listen.service", "ExecStart=" + legacyImapd + " -listen :143"},
		{"imapd-tls.socket", "ListenStream=993"},
		{"imapd-tls.socket", "Accept=yes"},
		{"imapd-tls@.service", "ExecStart=" + legacyImapd + " -tls"},
		{"imapd-tls@.service", "StandardInput=socket"},
	} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(c.line) + `$`).MatchString(readDeploy(t, c.unit)) {
			t.Errorf("deploy/%s lacks the line %s", c.unit, c.line)
		}
	}
}

// ---- xinetd and DWatch ----

// TestXinetdService checks the attributes of deploy/xinetd.imap (xinetd
// itself conflicts with openbsd-inetd in Debian, so it is not run here).
func TestXinetdService(t *testing.T) {
	text := readDeploy(t, "xinetd.imap")
	attrs := map[string]string{}
	inService, closed := false, false
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case l == "service imap":
			inService = true
		case l == "{" || l == "}":
			closed = l == "}"
		case inService:
			k, v, ok := strings.Cut(l, "=")
			if !ok {
				t.Errorf("deploy/xinetd.imap: not an attribute line: %q", l)
				continue
			}
			attrs[strings.TrimSpace(strings.TrimSuffix(k, "+"))] = strings.Join(strings.Fields(v), " ")
		}
	}
	if !inService || !closed {
		t.Fatalf("deploy/xinetd.imap: no complete \"service imap { ... }\" block")
	}
	for k, v := range map[string]string{
		"socket_type": "stream", "protocol": "tcp", "wait": "no", "user": "root",
		"server": legacyImapd, "disable": "no",
	} {
		if attrs[k] != v {
			t.Errorf("deploy/xinetd.imap: %s = %q, want %q", k, attrs[k], v)
		}
	}
}

// TestDWatchFile checks deploy/imapdsvc.wat against the manual: dpop.wat
// with its three occurrences of DPOP changed to imapdsvc, for C:\dmail.
func TestDWatchFile(t *testing.T) {
	text := readDeploy(t, "imapdsvc.wat")
	want := "exec C:\\dmail\\imapdsvc.exe\r\ntime 20\r\nrest 5\r\n" +
		"logfile C:\\dmail\\log\\imapdsvc.log\r\npidf C:\\dmail\\dwatch\\imapdsvc.pid\r\n"
	if text != want {
		t.Errorf("deploy/imapdsvc.wat:\n got %q\nwant %q", text, want)
	}
}
