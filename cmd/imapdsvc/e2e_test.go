//go:build !windows

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"imapd/demo"
)

// End-to-end tests with the real programs, driven from Linux. They need
// built binaries, so they run only when scripts/windows-test.sh (or a
// developer) says where they are:
//
//	IMAPDSVC_E2E_BIN      a directory with Linux imapdsvc, imapd and cryptauth:
//	                      imapdsvc in the foreground, both connection modes
//	IMAPDSVC_E2E_WINBIN   a directory with imapdsvc.exe, imapd.exe and
//	IMAPDSVC_E2E_WINE     cryptauth.exe, and the wine-go.sh that runs them:
//	                      imapdsvc.exe in a console under Wine, a Linux client
//	IMAPDSVC_E2E_STANDIN  with IMAPDSVC_E2E_WINBIN and IMAPDSVC_E2E_WINE: the
//	                      Windows build of this test binary, used as a
//	                      stand-in imapd.exe (runs without cmd/imapd)

// site is a demo installation for one run.
type site struct {
	*demo.Site
	imapdsvc, imapd string   // programs, as the imapdsvc process names them
	wine            string   // "" for native programs
	conf            string   // dmail.conf, as imapdsvc is told
	extra           []string // more imapdsvc flags
}

// linuxSite sets up the demo for Linux binaries in bin.
func linuxSite(t *testing.T, bin string) *site {
	s, err := demo.Setup(tempDir(t), filepath.Join(bin, "cryptauth"))
	if err != nil {
		t.Fatal(err)
	}
	return &site{Site: s, imapdsvc: filepath.Join(bin, "imapdsvc"), imapd: filepath.Join(bin, "imapd"), conf: s.Config}
}

// winPath is a Linux path as Wine's Windows programs see it (drive Z: is /).
func winPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }

// wineSite sets up the demo for the Windows binaries in bin, with
// dmail.conf written with drive letters and backslashes, as on Windows.
// The passwords are hashed by the Linux cryptauth -add when
// IMAPDSVC_E2E_BIN has one (a Wine process start costs a second or more),
// else by cryptauth.exe -add under Wine; cryptauth.exe checks them.
func wineSite(t *testing.T, bin, wine string) *site {
	dir := tempDir(t)
	hasher := filepath.Join(os.Getenv("IMAPDSVC_E2E_BIN"), "cryptauth")
	if fi, err := os.Stat(hasher); os.Getenv("IMAPDSVC_E2E_BIN") == "" || err != nil || fi.IsDir() {
		hasher = filepath.Join(dir, "cryptauth-wine")
		script := fmt.Sprintf("#!/bin/sh\nexec %q %q \"$@\"\n", wine, filepath.Join(bin, "cryptauth.exe"))
		if err := os.WriteFile(hasher, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s, err := demo.Setup(dir, hasher)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		f := strings.Fields(l)
		for i, w := range f {
			switch {
			case w == hasher:
				f[i] = winPath(filepath.Join(bin, "cryptauth.exe"))
			case strings.HasPrefix(w, "/"):
				f[i] = winPath(w)
			}
		}
		if len(f) > 0 && !strings.HasPrefix(l, "#") {
			l = strings.Join(f, " ")
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(s.Config, []byte(strings.Join(lines, "\r\n")+"\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &site{Site: s, imapdsvc: filepath.Join(bin, "imapdsvc.exe"), imapd: winPath(filepath.Join(bin, "imapd.exe")), wine: wine, conf: winPath(s.Config)}
}

// running is an imapdsvc process.
type running struct {
	cmd    *exec.Cmd
	addr   string
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{} // stderr fully read
}

var listeningRE = regexp.MustCompile(`^imapdsvc: listening on (\S+)`)

// startImapdsvc runs imapdsvc on 127.0.0.1:0 and waits for the line that
// says where it listens (no port polling).
func startImapdsvc(t *testing.T, s *site) *running {
	t.Helper()
	args := append([]string{"-i", s.conf, "-listen", "127.0.0.1:0", "-imapd", s.imapd}, s.extra...)
	var cmd *exec.Cmd
	if s.wine != "" {
		cmd = exec.Command(s.wine, append([]string{s.imapdsvc}, args...)...)
	} else {
		cmd = exec.Command(s.imapdsvc, args...)
	}
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &running{cmd: cmd, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		defer close(r.done)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			r.mu.Lock()
			r.stderr.WriteString(sc.Text() + "\n")
			r.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		close(addr)
	}()
	t.Cleanup(func() { r.stop(t) })
	a, ok := <-addr
	if !ok {
		cmd.Wait()
		t.Fatalf("imapdsvc did not start:\n%s", r.output())
	}
	r.addr = a
	return r
}

func (r *running) output() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stderr.String()
}

// stop interrupts imapdsvc (Wine turns SIGINT into a console Ctrl-C) and
// waits for it; a minute later it is killed and the test fails.
func (r *running) stop(t *testing.T) {
	if r.cmd.ProcessState != nil {
		return
	}
	r.cmd.Process.Signal(os.Interrupt)
	killed := false
	timer := time.AfterFunc(time.Minute, func() { killed = true; r.cmd.Process.Kill() })
	<-r.done
	r.cmd.Wait()
	if !timer.Stop() && killed {
		t.Errorf("imapdsvc did not stop on an interrupt:\n%s", r.output())
	}
}

// imapSession logs in as alice, reads INBOX and logs out, with go-imap's
// client.
func imapSession(t *testing.T, addr string) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(demo.Users[0].Name, demo.Users[0].Password).Wait(); err != nil {
		t.Fatalf("LOGIN: %v", err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("SELECT: %v", err)
	}
	if sel.NumMessages != 3 {
		t.Errorf("SELECT INBOX: %d messages, want 3", sel.NumMessages)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("FETCH: %v", err)
	}
	if len(msgs) != 1 || msgs[0].Envelope == nil || msgs[0].Envelope.Subject != "Welcome to imapd" {
		t.Errorf("FETCH 1 ENVELOPE: %+v", msgs)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Fatalf("LOGOUT: %v", err)
	}
}

// dialRaw is a hand-driven IMAP connection, for replies go-imap's client
// does not show (response codes of tagged replies, untagged NO).
func dialRaw(t *testing.T, addr string) *client {
	t.Helper()
	c := dial(t, addr)
	c.Greeting("* OK")
	return c
}

func login(t *testing.T, addr string) *client {
	t.Helper()
	c := dialRaw(t, addr)
	c.OK("LOGIN %s %s", demo.Users[0].Name, demo.Users[0].Password)
	return c
}

func logFile(t *testing.T, s *site, name string) string {
	data, err := os.ReadFile(filepath.Join(s.Log, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestE2ELinux(t *testing.T) {
	bin := os.Getenv("IMAPDSVC_E2E_BIN")
	if bin == "" {
		t.Skip("IMAPDSVC_E2E_BIN not set (scripts/windows-test.sh sets it)")
	}
	for _, relay := range []bool{false, true} {
		t.Run(modeName(relay), func(t *testing.T) {
			s := linuxSite(t, bin)
			s.extra = []string{fmt.Sprintf("-relay=%v", relay)}
			r := startImapdsvc(t, s)
			imapSession(t, r.addr)
			r.stop(t)
			if log := logFile(t, s, "imapdsvc.log"); !strings.Contains(log, "imapdsvc stopped: ") {
				t.Errorf("imapdsvc.log:\n%s", log)
			}
			checkClientKnown(t, s)
		})
	}
}

// wineEnv returns the Windows binaries' directory and wine-go.sh, or skips.
func wineEnv(t *testing.T) (bin, wine string) {
	bin, wine = os.Getenv("IMAPDSVC_E2E_WINBIN"), os.Getenv("IMAPDSVC_E2E_WINE")
	if bin == "" || wine == "" {
		t.Skip("IMAPDSVC_E2E_WINBIN and IMAPDSVC_E2E_WINE not set (scripts/windows-test.sh sets them)")
	}
	return bin, wine
}

// TestE2EWineStandIn: a Linux client, imapdsvc.exe under Wine, and the
// Windows test binary as a stand-in imapd.exe: the spawner alone.
func TestE2EWineStandIn(t *testing.T) {
	bin, wine := wineEnv(t)
	standin := os.Getenv("IMAPDSVC_E2E_STANDIN")
	if standin == "" {
		t.Skip("IMAPDSVC_E2E_STANDIN not set")
	}
	dir := tempDir(t)
	conf, logDir, _ := writeConf(t, dir)
	data, _ := os.ReadFile(conf)
	os.WriteFile(conf, []byte(strings.ReplaceAll(string(data), dir, winPath(dir))), 0o644)
	s := &site{Site: &demo.Site{Dir: dir, Config: conf, Log: logDir}, imapdsvc: filepath.Join(bin, "imapdsvc.exe"),
		imapd: winPath(standin), wine: wine, conf: winPath(conf)}
	r := startImapdsvc(t, s)
	c := dial(t, r.addr)
	c.Expect(fmt.Sprintf("* OK stand-in remote=%s local=%s args=-i %s", c.NetConn().LocalAddr(), r.addr, s.conf))
	c.Send("a BIG 100000")
	c.Expect("* BIG 100000", strings.Repeat("x", 100000), "a OK")
	c.Send("b LOGOUT")
	c.Expect("* BYE stand-in", "b OK LOGOUT")
	c.ExpectEOF()
	r.stop(t)
	if log := logFile(t, s, "imapdsvc.log"); !strings.Contains(log, "imapdsvc stopped: ") {
		t.Errorf("imapdsvc.log:\n%s", log)
	}
}

// TestE2EWine: a Linux IMAP client, imapdsvc.exe in a console under Wine,
// a real imapd.exe per connection on the demo spool, cryptauth.exe checking
// passwords.
func TestE2EWine(t *testing.T) {
	bin, wine := wineEnv(t)
	s := wineSite(t, bin, wine)
	r := startImapdsvc(t, s)
	imapSession(t, r.addr)
	r.stop(t)
	log := logFile(t, s, "imapdsvc.log")
	for _, w := range []string{"relaying through pipes", "imapd pid", "ended after", "imapdsvc stopped: "} {
		if !strings.Contains(log, w) {
			t.Errorf("imapdsvc.log lacks %q:\n%s", w, log)
		}
	}
	checkClientKnown(t, s)
}

// checkClientKnown: imapd knew the client's address (from the socket, or
// from IMAPD_REMOTE_ADDR when it reads a pipe) and logged it with the login.
func checkClientKnown(t *testing.T, s *site) {
	t.Helper()
	if log := logFile(t, s, "imapd.log"); !strings.Contains(log, "user=alice host=127.0.0.1") {
		t.Errorf("imapd.log does not name the client 127.0.0.1 (IMAPD_REMOTE_ADDR not read?):\n%s", log)
	}
}

// TestE2EWineSecondSessionReadOnly: the manual's Windows rule through two
// imapd.exe processes: a second session that selects the INBOX the first
// holds gets it read-only and is told; its writes are refused; the first
// session is not disturbed.
func TestE2EWineSecondSessionReadOnly(t *testing.T) {
	bin, wine := wineEnv(t)
	s := wineSite(t, bin, wine)
	r := startImapdsvc(t, s)

	first := login(t, r.addr)
	if r := first.Command("SELECT INBOX"); !strings.Contains(r.Tagged, "[READ-WRITE]") {
		t.Fatalf("first SELECT: %s", r.Tagged)
	}
	second := login(t, r.addr)
	if r := second.Command("SELECT INBOX"); !strings.HasPrefix(r.Tagged, "OK [READ-ONLY]") {
		t.Errorf("second SELECT: %s (%q), want OK [READ-ONLY]", r.Tagged, r.Untagged)
	}
	if r := second.Command(`STORE 1 +FLAGS (\Flagged)`); r.Status == "OK" {
		t.Errorf("STORE in the read-only session: %s, want it refused", r.Tagged)
	}
	second.OK("LOGOUT")

	first.OK(`STORE 1 +FLAGS (\Flagged)`)
	first.OK("NOOP")
	first.OK("LOGOUT")
	r.stop(t)
}

// TestE2EWineNTUser: authent_method nt_user (the Windows default) through
// imapd.exe: the password goes to LogonUserW. Wine's LogonUserW is a stub
// that accepts every password (platform/windows's TestLogonUser pins that),
// so under Wine this proves the path from LOGIN to LogonUser and on to the
// user's drop file, not a rejection.
func TestE2EWineNTUser(t *testing.T) {
	bin, wine := wineEnv(t)
	s := wineSite(t, bin, wine)
	data, err := os.ReadFile(s.Site.Config)
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(data), "authent_method external", "authent_method nt_user", 1)
	if err := os.WriteFile(s.Site.Config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r := startImapdsvc(t, s)
	c := dialRaw(t, r.addr)
	c.OK("LOGIN alice any-password-wine-accepts")
	c.OK("SELECT INBOX").Has(t, "* 3 EXISTS")
	c.OK("LOGOUT")
	r.stop(t)
}
