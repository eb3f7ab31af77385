//go:build linux

package e2e

// The unix platform for real: users made with useradd (removed after),
// passwords in /etc/shadow made with chpasswd -e from mkpasswd and openssl
// hashes, sessions that become their user, the set-uid binary started by an
// unprivileged spawner, and UW's kiss of death between processes and
// between goroutines. These tests need root; without it (or without the
// tools) they skip. Spools are temp directories, never /var/mail.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"imapd/demo"
	"imapd/internal/imaptest"
)

// uxNeedRoot skips unless the test can make real users.
func uxNeedRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: these tests create real users with useradd and run the set-uid server")
	}
	for _, tool := range []string{"useradd", "userdel", "chpasswd", "mkpasswd", "openssl", "systemd-socket-activate", "python3", "setpriv"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/test-deps.sh installs the tools)", tool)
		}
	}
}

// uxNeedTools skips unless the tools of the tests that need no root are there.
func uxNeedTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"systemd-socket-activate", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/test-deps.sh installs the tools)", tool)
		}
	}
}

// uxEnv is a DMail installation for unix_user accounts in a temp dir the
// test users can enter.
type uxEnv struct {
	Base, Spool, Log, Home, Conf string
}

func uxNewEnv(t *testing.T, conf ...string) *uxEnv {
	t.Helper()
	base, err := os.MkdirTemp("", "imapd-unix-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	e := &uxEnv{
		Base:  base,
		Spool: filepath.Join(base, "spool"),
		Log:   filepath.Join(base, "log"),
		Home:  filepath.Join(base, "home"),
		Conf:  filepath.Join(base, "dmail.conf"),
	}
	must(t, os.Chmod(base, 0o755))
	for _, d := range []string{e.Spool, e.Log, e.Home} {
		must(t, os.Mkdir(d, 0o755))
	}
	must(t, os.Chmod(e.Spool, 0o1777))
	e.writeConf(t, conf...)
	return e
}

// writeConf rewrites dmail.conf (read afresh for every connection).
func (e *uxEnv) writeConf(t *testing.T, extra ...string) {
	t.Helper()
	lines := append([]string{
		"drop_path " + e.Spool,
		"log_path " + e.Log,
		"log_level debug",
		"authent_method unix_user",
	}, extra...)
	must(t, os.WriteFile(e.Conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
}

func (e *uxEnv) logText() string {
	b, _ := os.ReadFile(filepath.Join(e.Log, "imapd.log"))
	return string(b)
}

func (e *uxEnv) drop(u *uxUser) string { return filepath.Join(e.Spool, u.Name) }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func uxRun(t *testing.T, stdin string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func uxRandName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

type uxUser struct {
	Name     string
	UID, GID int
	Home     string
}

// uxAddUser makes a real user whose password hash (in /etc/shadow) is hash,
// with a home directory in the environment, member of groups; removed when
// the test ends.
func uxAddUser(t *testing.T, e *uxEnv, hash string, groups ...string) *uxUser {
	t.Helper()
	name := uxRandName("imt")
	home := filepath.Join(e.Home, name)
	args := []string{"-M", "-d", home, "-s", "/usr/sbin/nologin"}
	if len(groups) > 0 {
		args = append(args, "-G", strings.Join(groups, ","))
	}
	uxRun(t, "", "useradd", append(args, name)...)
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	uxRun(t, name+":"+hash+"\n", "chpasswd", "-e")
	pw, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	u := &uxUser{Name: name, Home: home}
	u.UID, _ = strconv.Atoi(pw.Uid)
	u.GID, _ = strconv.Atoi(pw.Gid)
	must(t, os.Mkdir(home, 0o755))
	must(t, os.Chown(home, u.UID, u.GID))
	return u
}

func uxAddGroup(t *testing.T) (string, int) {
	t.Helper()
	name := uxRandName("imtg")
	uxRun(t, "", "groupadd", name)
	t.Cleanup(func() { exec.Command("groupdel", name).Run() })
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	return name, gid
}

// uxWriteOwned writes a file owned by u, mode 0600.
func uxWriteOwned(t *testing.T, path, content string, u *uxUser) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(content), 0o600))
	must(t, os.Chown(path, u.UID, u.GID))
}

func uxSampleMail() string { return demo.SampleMail(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) }

func uxStartInetd(t *testing.T, conf string) *server {
	t.Helper()
	addr := freePort(t)
	return startCommand(t, addr, "systemd-socket-activate", "--inetd", "-a", "-l", addr, bin("imapd"), "-i", conf)
}

func uxStartListen(t *testing.T, conf string) *server {
	t.Helper()
	addr := freePort(t)
	return startCommand(t, addr, bin("imapd"), "-i", conf, "-listen", addr)
}

// uxDial connects and reads the greeting. The client (internal/imaptest)
// sees every untagged line, and the unsolicited BYE of a session that lost
// its mailbox.
func uxDial(t *testing.T, addr string) *imaptest.Conn {
	t.Helper()
	c := imaptest.Dial(t, addr)
	c.TagPrefix = "u"
	c.Greeting("* OK")
	return c
}

// uxLogin logs a user in.
func uxLogin(c *imaptest.Conn, name, pass string) { c.OK("LOGIN %s %s", name, pass) }

// uxAppend is an APPEND command with a non-synchronizing literal.
func uxAppend(mailbox, msg string) string {
	return fmt.Sprintf("APPEND %s {%d+}\r\n%s", mailbox, len(msg), msg)
}

// uxExpectBye reads the unsolicited "* BYE text" and then the end.
func uxExpectBye(c *imaptest.Conn, text string) {
	c.Expect("* BYE " + text)
	c.ExpectEOF()
}

// uxDo sends a command and returns the untagged responses and the tagged
// reply without its tag.
func uxDo(c *imaptest.Conn, format string, args ...any) ([]string, string) {
	r := c.Command(format, args...)
	return r.Untagged, r.Tagged
}

// uxMessages drops UW's pseudo-message from an mbox summary.
func uxMessages(summary []string) []string {
	var msgs []string
	for _, l := range summary {
		if !strings.HasPrefix(l, "PSEUDO|") {
			msgs = append(msgs, l)
		}
	}
	return msgs
}

// uxListNames returns the mailbox names of LIST replies.
func uxListNames(lines []string) []string {
	var names []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "* LIST ") {
			continue
		}
		i := strings.LastIndex(l, ") ")
		if i < 0 {
			continue
		}
		_, name, _ := strings.Cut(l[i+2:], " ") // after the delimiter
		if uq, err := strconv.Unquote(name); err == nil {
			name = uq
		}
		names = append(names, name)
	}
	return names
}

// uxLockName is UW's session lock of a mailbox file.
func uxLockName(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	must(t, syscall.Stat(path, &st))
	return fmt.Sprintf("/tmp/.%x.%x", uint64(st.Dev), st.Ino)
}

// uxLockPID reads the PID in a mailbox's session lock.
func uxLockPID(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(uxLockName(t, path))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatalf("lock content %q: %v", b, err)
	}
	return pid
}

// uxStatus returns the Uid, Gid, Groups and PPid lines of /proc/<pid>/status,
// fields joined by single spaces.
func uxStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m
}

func uxOwner(t *testing.T, path string) (int, int) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

func four(id int) string { return strings.TrimSpace(strings.Repeat(strconv.Itoa(id)+" ", 4)) }

// uxCheckRunsAs checks that process pid runs as uid/gid: real, effective,
// saved and file system ids.
func uxCheckRunsAs(t *testing.T, pid, uid, gid int) map[string]string {
	t.Helper()
	st := uxStatus(t, pid)
	if st["Uid"] != four(uid) || st["Gid"] != four(gid) {
		t.Errorf("session process %d runs as Uid %q Gid %q, want %d and %d everywhere", pid, st["Uid"], st["Gid"], uid, gid)
	}
	return st
}

// TestUnixSessionBecomesUser: after LOGIN the inetd session process is the
// user (ids and supplementary groups); what it creates (folders in
// ~/mail, appended mail, the subscription file, the drop file, the /tmp
// session lock) is the user's.
func TestUnixSessionBecomesUser(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t, "imapd_mailbox_name mail")
	group, groupID := uxAddGroup(t)
	u := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "yescrypt", "pw-one"), group)
	uxWriteOwned(t, e.drop(u), uxSampleMail(), u)
	srv := uxStartInetd(t, e.Conf)

	c := uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-one")
	c.OK("CREATE Work")
	c.OK("%s", uxAppend("Work", "From: a@example.com\r\nSubject: appended\r\n\r\nhello\r\n"))
	c.OK("SUBSCRIBE Work")
	c.OK("SELECT INBOX")
	pid := uxLockPID(t, e.drop(u))
	st := uxCheckRunsAs(t, pid, u.UID, u.GID)
	groups := " " + st["Groups"] + " "
	if !strings.Contains(groups, fmt.Sprintf(" %d ", groupID)) || !strings.Contains(groups, fmt.Sprintf(" %d ", u.GID)) {
		t.Errorf("session groups %q, want %d and %d", st["Groups"], u.GID, groupID)
	}
	lock := uxLockName(t, e.drop(u))
	b, _ := os.ReadFile(lock)
	if string(b) != strconv.Itoa(pid) {
		t.Errorf("lock content %q", b)
	}
	if fi, err := os.Lstat(lock); err != nil || fi.Mode() != 0o666 {
		t.Errorf("lock mode %v %v, want -rw-rw-rw-", fi.Mode(), err)
	}
	if uid, _ := uxOwner(t, lock); uid != u.UID {
		t.Errorf("lock owned by %d, want the user %d", uid, u.UID)
	}
	if list := strings.Join(uxListNames(c.OK(`LIST "" "*"`).Untagged), " "); list != "Work INBOX" {
		t.Errorf("LIST: %s, want Work INBOX (.mailboxlist hidden)", list)
	}
	c.OK("LOGOUT")
	if _, err := c.TryResponse(); err == nil {
		t.Error("connection open after LOGOUT")
	}
	if _, err := os.Lstat(lock); err == nil {
		t.Error("session lock left after LOGOUT")
	}
	for _, p := range []string{
		filepath.Join(u.Home, "mail"),
		filepath.Join(u.Home, "mail", "Work"),
		filepath.Join(u.Home, "mail", ".mailboxlist"),
		e.drop(u),
	} {
		if uid, gid := uxOwner(t, p); uid != u.UID || gid != u.GID {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, uid, gid, u.UID, u.GID)
		}
	}
	if got := uxMessages(mboxSummary(t, filepath.Join(u.Home, "mail", "Work"))); len(got) != 1 || !strings.HasPrefix(got[0], "appended|") {
		t.Errorf("Work holds %q", got)
	}

	// A user without a drop file: the session creates it, as the user.
	u2 := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "pw-two"))
	c2 := uxDial(t, srv.Addr)
	uxLogin(c2, u2.Name, "pw-two")
	c2.OK("SELECT INBOX")
	c2.OK("LOGOUT")
	if uid, gid := uxOwner(t, e.drop(u2)); uid != u2.UID || gid != u2.GID {
		t.Errorf("drop file made by the session owned by %d:%d, want %d:%d", uid, gid, u2.UID, u2.GID)
	}
}

// TestUnixMailboxNameDot: "imapd_mailbox_name ." keeps folders in the
// home directory itself, the subscription file there hidden from LIST.
func TestUnixMailboxNameDot(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t, "imapd_mailbox_name .")
	u := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "pw-dot"))
	srv := uxStartInetd(t, e.Conf)
	c := uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-dot")
	c.OK("CREATE Work")
	c.OK("SUBSCRIBE Work")
	if list := strings.Join(uxListNames(c.OK(`LIST "" "*"`).Untagged), " "); list != "Work INBOX" {
		t.Errorf("LIST: %s, want Work INBOX", list)
	}
	c.OK("LOGOUT")
	for _, p := range []string{filepath.Join(u.Home, "Work"), filepath.Join(u.Home, ".mailboxlist")} {
		if uid, _ := uxOwner(t, p); uid != u.UID {
			t.Errorf("%s owned by %d, want %d", p, uid, u.UID)
		}
	}
}

// TestUnixBecomeUserFalse: with imapd_become_user false the session stays
// root, as the manual says.
func TestUnixBecomeUserFalse(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t, "imapd_mailbox_name mail", "imapd_become_user false")
	u := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "pw-root"))
	uxWriteOwned(t, e.drop(u), uxSampleMail(), u)
	srv := uxStartInetd(t, e.Conf)
	c := uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-root")
	c.OK("CREATE Work")
	c.OK("SELECT INBOX")
	uxCheckRunsAs(t, uxLockPID(t, e.drop(u)), 0, 0)
	c.OK("LOGOUT")
	if uid, _ := uxOwner(t, filepath.Join(u.Home, "mail", "Work")); uid != 0 {
		t.Errorf("folder made by a root session owned by %d", uid)
	}
}

// TestUnixListenForksPerConnection: a -listen daemon running as root
// serves unix_user sessions in child processes that become the user; its
// SIGTERM reaches them: they save and say BYE.
func TestUnixListenForksPerConnection(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t)
	u := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "yescrypt", "pw-listen"))
	uxWriteOwned(t, e.drop(u), uxSampleMail(), u)
	srv := uxStartListen(t, e.Conf)
	c := uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-listen")
	c.OK("SELECT INBOX")
	c.OK(`STORE 1 +FLAGS (\Flagged)`)
	pid := uxLockPID(t, e.drop(u))
	if pid == srv.cmd.Process.Pid {
		t.Fatal("the session runs in the daemon process")
	}
	st := uxCheckRunsAs(t, pid, u.UID, u.GID)
	if st["PPid"] != strconv.Itoa(srv.cmd.Process.Pid) {
		t.Errorf("session process's parent %s, want the daemon %d", st["PPid"], srv.cmd.Process.Pid)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	l, err := c.TryResponse()
	if !strings.HasPrefix(l, "* BYE") || !strings.Contains(l, "shutting down") {
		t.Errorf("on SIGTERM the client got %q %v", l, err)
	}
	<-srv.exited
	if code := srv.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("daemon exit code %d\n%s", code, srv.stderr)
	}
	got := uxMessages(mboxSummary(t, e.drop(u)))
	if len(got) != 3 || !strings.Contains(strings.Split(got[0], "|")[3], "F") {
		t.Errorf("drop file after SIGTERM: %q (want 3 messages, the first flagged)", got)
	}
}

// TestUnixOthersMailUnreachable: a user who cannot read another's drop
// file cannot reach it, nor /etc/shadow, through any IMAP name: planted
// symbolic links, a hard link, relative and absolute names, a drop file
// replaced by a link. With imapd_become_user false too (the server is root
// then, and only imapd's own checks stand in the way).
func TestUnixOthersMailUnreachable(t *testing.T) {
	uxNeedRoot(t)
	for _, become := range []bool{true, false} {
		t.Run(fmt.Sprintf("become_user=%v", become), func(t *testing.T) {
			e := uxNewEnv(t, "imapd_mailbox_name mail", fmt.Sprintf("imapd_become_user %v", become))
			bob := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "pw-bob"))
			eve := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "pw-eve"))
			secret := strings.Replace(uxSampleMail(), "Welcome to imapd", "Bob's secret", 1)
			uxWriteOwned(t, e.drop(bob), secret, bob)
			uxWriteOwned(t, e.drop(eve), uxSampleMail(), eve)
			mail := filepath.Join(eve.Home, "mail")
			must(t, os.Mkdir(mail, 0o700))
			must(t, os.Chown(mail, eve.UID, eve.GID))
			plant := func(target, name string) {
				p := filepath.Join(mail, name)
				must(t, os.Symlink(target, p))
				must(t, os.Lchown(p, eve.UID, eve.GID))
			}
			plant(e.drop(bob), "link")
			plant("/etc/shadow", "shadow")
			plant(e.Spool, "spool")
			// A hard link to bob's drop file (fs.protected_hardlinks would
			// stop eve making it herself; root plants it for her).
			must(t, os.Link(e.drop(bob), filepath.Join(mail, "hard")))
			shadowBefore, _ := os.ReadFile("/etc/shadow")

			srv := uxStartInetd(t, e.Conf)
			c := uxDial(t, srv.Addr)
			uxLogin(c, eve.Name, "pw-eve")
			names := []string{
				"link", "shadow", "hard", "spool/" + bob.Name,
				"../../spool/" + bob.Name, "../../../../../../etc/shadow",
				e.drop(bob), "/etc/shadow", "~" + bob.Name, "~" + bob.Name + "/mail",
				"#news/" + bob.Name, "INBOX/../../../spool/" + bob.Name,
			}
			check := func(what string, untagged []string, tagged string) {
				t.Helper()
				if strings.HasPrefix(tagged, "OK") {
					t.Errorf("%s: %s", what, tagged)
				}
				for _, l := range untagged {
					if strings.Contains(l, "secret") || strings.Contains(l, "root:") {
						t.Errorf("%s leaked: %q", what, l)
					}
				}
			}
			for _, n := range names {
				q := strconv.Quote(n)
				for _, cmd := range []string{"SELECT " + q, "EXAMINE " + q, "STATUS " + q + " (MESSAGES UIDNEXT)"} {
					u, tagged := uxDo(c, "%s", cmd)
					check(cmd, u, tagged)
				}
				u, tagged := uxDo(c, "%s", uxAppend(q, "Subject: planted\r\n\r\nx\r\n"))
				check("APPEND "+q, u, tagged)
			}
			c.OK("SELECT INBOX")
			for _, n := range names {
				u, tagged := uxDo(c, "COPY 1 %s", strconv.Quote(n))
				check("COPY to "+n, u, tagged)
			}
			for _, n := range uxListNames(c.OK(`LIST "" "*"`).Untagged) {
				if n == "link" || n == "shadow" || strings.HasPrefix(n, "spool") {
					t.Errorf("LIST shows the planted link %q", n)
				}
			}
			c.OK("LOGOUT")
			if b, _ := os.ReadFile(e.drop(bob)); string(b) != secret {
				t.Error("bob's drop file changed")
			}
			if b, _ := os.ReadFile("/etc/shadow"); !bytes.Equal(b, shadowBefore) {
				t.Error("/etc/shadow changed")
			}

			// Eve's own drop file replaced by a link to bob's: LOGIN fails.
			for _, how := range []string{"symlink", "hard link"} {
				os.Remove(e.drop(eve))
				if how == "symlink" {
					must(t, os.Symlink(e.drop(bob), e.drop(eve)))
					must(t, os.Lchown(e.drop(eve), eve.UID, eve.GID))
				} else {
					must(t, os.Link(e.drop(bob), e.drop(eve)))
				}
				c := uxDial(t, srv.Addr)
				u, tagged := uxDo(c, "LOGIN %s pw-eve", eve.Name)
				check("LOGIN with a drop file that is a "+how, u, tagged)
				if strings.HasPrefix(tagged, "OK") {
					u, tagged := uxDo(c, "SELECT INBOX")
					check("SELECT INBOX through a "+how, u, tagged)
				}
			}
			if b, _ := os.ReadFile(e.drop(bob)); string(b) != secret {
				t.Error("bob's drop file changed")
			}
		})
	}
}

// noSuidDir makes a directory, root-owned 0755, on a file system that
// honours set-uid bits.
func noSuidDir(t *testing.T) string {
	t.Helper()
	wd, _ := os.Getwd()
	for _, parent := range []string{os.TempDir(), "/var/tmp", wd} {
		var fs unix.Statfs_t
		if unix.Statfs(parent, &fs) != nil || fs.Flags&unix.ST_NOSUID != 0 {
			continue
		}
		dir, err := os.MkdirTemp(parent, "imapd-suid-")
		if err != nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		must(t, os.Chmod(dir, 0o755))
		return dir
	}
	t.Skip("no file system here honours set-uid bits")
	return ""
}

// TestUnixSetuidBinary: the installed binary (root, 6755) started by an
// inetd-style spawner running as nobody still becomes the logged-in user;
// started so, it refuses a configuration root did not write, and -listen.
func TestUnixSetuidBinary(t *testing.T) {
	uxNeedRoot(t)
	dir := noSuidDir(t)
	exe := filepath.Join(dir, "imapd")
	b, err := os.ReadFile(bin("imapd"))
	must(t, err)
	must(t, os.WriteFile(exe, b, 0o755))
	must(t, os.Chown(exe, 0, 0))
	must(t, os.Chmod(exe, 0o755|os.ModeSetuid|os.ModeSetgid))

	e := uxNewEnv(t)
	u := uxAddUser(t, e, uxRun(t, "", "openssl", "passwd", "-6", "pw-suid"))
	uxWriteOwned(t, e.drop(u), uxSampleMail(), u)
	asNobody := []string{"--reuid=65534", "--regid=65534", "--clear-groups"}
	addr := freePort(t)
	srv := startCommand(t, addr, "setpriv", append(asNobody, "systemd-socket-activate", "--inetd", "-a", "-l", addr, exe, "-i", e.Conf)...)
	if st := uxStatus(t, srv.cmd.Process.Pid); st["Uid"] != four(65534) {
		t.Fatalf("spawner runs as %q, want nobody", st["Uid"])
	}
	c := uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-suid")
	c.OK("SELECT INBOX")
	uxCheckRunsAs(t, uxLockPID(t, e.drop(u)), u.UID, u.GID)
	c.OK("LOGOUT")

	// A configuration nobody wrote (with an authent_process of theirs,
	// which would run as root) is refused.
	evil := filepath.Join(dir, "evil")
	must(t, os.Mkdir(evil, 0o755))
	must(t, os.Chown(evil, 65534, 65534))
	evilConf := filepath.Join(evil, "dmail.conf")
	must(t, os.WriteFile(evilConf, []byte("drop_path "+e.Spool+"\nauthent_method external\nauthent_process /bin/sh -c id\n"), 0o644))
	must(t, os.Chown(evilConf, 65534, 65534))
	cmd := exec.Command("setpriv", append(asNobody, exe, "-i", evilConf)...)
	cmd.Stdin = strings.NewReader("a LOGIN x y\r\n")
	out, err := cmd.Output()
	if err == nil || !strings.HasPrefix(string(out), "* BYE") || !strings.Contains(string(out), "not owned by root") {
		t.Errorf("set-uid start with nobody's configuration: %v\n%s", err, out)
	}
	out, err = exec.Command("setpriv", append(asNobody, exe, "-i", e.Conf, "-listen", "127.0.0.1:0")...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "must be started by root") {
		t.Errorf("set-uid -listen: %v\n%s", err, out)
	}
}

// uxSelectTakesOver: b SELECTs the mailbox a holds; b's reply ends with
// the notice want, then READ-WRITE; a gets the unsolicited BYE.
func uxSelectTakesOver(t *testing.T, a, b *imaptest.Conn, notice string) {
	t.Helper()
	untagged, tagged := uxDo(b, "SELECT INBOX")
	if !strings.HasPrefix(tagged, "OK [READ-WRITE]") {
		t.Fatalf("second SELECT: %s (untagged %q)", tagged, untagged)
	}
	if n := len(untagged); n == 0 || untagged[n-1] != notice {
		t.Errorf("second SELECT's untagged lines %q, want %q last", untagged, notice)
	}
	if !strings.Contains(strings.Join(untagged, "\n"), "* 3 EXISTS") {
		t.Errorf("second SELECT's data: %q", untagged)
	}
	uxExpectBye(a, "Killed (lost mailbox lock)")
}

// uxCheckBothFlags: b sets \Seen on message 2, sees a's \Flagged on 1,
// logs out; the drop file holds all three messages with both flags.
func uxCheckBothFlags(t *testing.T, b *imaptest.Conn, drop string) {
	t.Helper()
	b.OK(`STORE 2 +FLAGS (\Seen)`)
	fetch := b.OK("FETCH 1:* (UID FLAGS)").Untagged
	if len(fetch) < 2 || !strings.HasPrefix(fetch[0], "* 1 FETCH") || !strings.Contains(fetch[0], `\Flagged`) ||
		!strings.HasPrefix(fetch[1], "* 2 FETCH") || !strings.Contains(fetch[1], `\Seen`) {
		t.Errorf("flags seen by the new session:\n%s", strings.Join(fetch, "\n"))
	}
	b.OK("LOGOUT")
	got := uxMessages(storeSummary(t, drop))
	if len(got) != 3 {
		t.Fatalf("drop file holds %q, want 3 messages", got)
	}
	f1, f2 := strings.Split(got[0], "|"), strings.Split(got[1], "|")
	if f1[1] != "1" || !strings.Contains(f1[3], "F") || f2[1] != "2" || !strings.Contains(f2[2], "R") {
		t.Errorf("drop file %q: want UID 1 flagged, UID 2 seen", got)
	}
}

// TestUnixKissOfDeathProcesses: inetd sessions of one user; a second
// SELECT kills the first through the /tmp lock and SIGUSR2 (UW's kiss of
// death); EXAMINE and STATUS kill nobody; DELETE of a folder another
// process has selected is refused.
func TestUnixKissOfDeathProcesses(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t)
	u := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "yescrypt", "pw-kod"))
	uxWriteOwned(t, e.drop(u), uxSampleMail(), u)
	srv := uxStartInetd(t, e.Conf)

	a := uxDial(t, srv.Addr)
	uxLogin(a, u.Name, "pw-kod")
	a.OK("SELECT INBOX")
	a.OK(`STORE 1 +FLAGS.SILENT (\Flagged)`)
	pidA := uxLockPID(t, e.drop(u))

	b := uxDial(t, srv.Addr)
	uxLogin(b, u.Name, "pw-kod")
	if untagged, tagged := uxDo(b, "EXAMINE INBOX"); !strings.HasPrefix(tagged, "OK [READ-ONLY]") || strings.Contains(strings.Join(untagged, "\n"), "Trying") {
		t.Errorf("EXAMINE: %s %q", tagged, untagged)
	}
	b.OK("STATUS INBOX (MESSAGES)")
	a.OK("NOOP") // still alive
	uxSelectTakesOver(t, a, b, fmt.Sprintf("* NO Trying to get mailbox lock from process %d", pidA))
	if pidB := uxLockPID(t, e.drop(u)); pidB == pidA {
		t.Error("the lock still names the first process")
	}

	// DELETE of a folder selected by another process.
	b.OK("CREATE Work")
	c := uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-kod")
	c.OK("SELECT Work")
	if _, tagged := uxDo(b, "DELETE Work"); !strings.HasPrefix(tagged, "NO [INUSE]") {
		t.Errorf("DELETE of a folder another process has selected: %s", tagged)
	}
	c.OK("UNSELECT") // the folder is released before the reply
	b.OK("DELETE Work")
	c.OK("LOGOUT")
	uxCheckBothFlags(t, b, e.drop(u))
}

// TestUnixKissOfDeathGoroutines: the same in one -listen process
// (imapd_become_user false: sessions are goroutines), which takes the /tmp
// lock too.
func TestUnixKissOfDeathGoroutines(t *testing.T) {
	uxNeedTools(t)
	site := newSite(t, "imapd_become_user false")
	srv := startListen(t, site)
	a := uxDial(t, srv.Addr)
	uxLogin(a, "alice", "alice-secret")
	a.OK("SELECT INBOX")
	a.OK(`STORE 1 +FLAGS.SILENT (\Flagged)`)
	if pid := uxLockPID(t, inboxOf(site, "alice")); pid != srv.cmd.Process.Pid {
		t.Errorf("lock names process %d, want the daemon %d", pid, srv.cmd.Process.Pid)
	}
	b := uxDial(t, srv.Addr)
	uxLogin(b, "alice", "alice-secret")
	uxSelectTakesOver(t, a, b, "* NO Trying to get mailbox lock from another session")
	uxCheckBothFlags(t, b, inboxOf(site, "alice"))
}

// TestUnixKissOfDeathDaemonAndInetd: an inetd session takes a mailbox from
// a -listen daemon holding two; only the wanted one lets go.
func TestUnixKissOfDeathDaemonAndInetd(t *testing.T) {
	uxNeedTools(t)
	site := newSite(t, "imapd_become_user false")
	must(t, os.WriteFile(site.DropFile("bob"), []byte(uxSampleMail()), 0o600))
	if format == fmtMaildir {
		must(t, site.MaildirInbox("bob", inboxOf(site, "bob")))
	}
	daemon := startListen(t, site)
	inetd := startInetd(t, site)

	a := uxDial(t, daemon.Addr)
	uxLogin(a, "alice", "alice-secret")
	a.OK("SELECT INBOX")
	a.OK(`STORE 1 +FLAGS.SILENT (\Flagged)`)
	d := uxDial(t, daemon.Addr)
	uxLogin(d, "bob", "bob-secret")
	d.OK("SELECT INBOX")

	b := uxDial(t, inetd.Addr)
	uxLogin(b, "alice", "alice-secret")
	uxSelectTakesOver(t, a, b, fmt.Sprintf("* NO Trying to get mailbox lock from process %d", daemon.cmd.Process.Pid))
	d.OK("NOOP") // bob's session in the daemon was not disturbed
	if pid := uxLockPID(t, inboxOf(site, "bob")); pid != daemon.cmd.Process.Pid {
		t.Errorf("bob's lock names %d", pid)
	}
	uxCheckBothFlags(t, b, inboxOf(site, "alice"))
	d.OK("LOGOUT")
}

// TestUnixCryptSchemes: unix_user logins against /etc/shadow entries made
// with chpasswd -e from hashes of every scheme in use, made by mkpasswd
// (whois) and openssl; locked and expired accounts are refused.
func TestUnixCryptSchemes(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t, "imapd_login_delay 0") // wrong passwords on purpose: no need to wait after them
	type account struct {
		scheme, pass string
		hash         []string // command making the hash (the password is appended)
		prefix       string
		u            *uxUser
	}
	accounts := []*account{
		{scheme: "yescrypt", pass: "Yes-crypt1", hash: []string{"mkpasswd", "-m", "yescrypt"}, prefix: "$y$"},
		{scheme: "sha512crypt", pass: "Sha-512x", hash: []string{"mkpasswd", "-m", "sha512crypt"}, prefix: "$6$"},
		{scheme: "sha256crypt", pass: "Sha-256x", hash: []string{"mkpasswd", "-m", "sha256crypt"}, prefix: "$5$"},
		{scheme: "md5crypt", pass: "Md5-pass", hash: []string{"mkpasswd", "-m", "md5crypt"}, prefix: "$1$"},
		{scheme: "bcrypt", pass: "Bcrypt-2b", hash: []string{"mkpasswd", "-m", "bcrypt"}, prefix: "$2b$"},
		{scheme: "descrypt", pass: "Des-56x", hash: []string{"mkpasswd", "-m", "descrypt"}},
		{scheme: "openssl -6", pass: "Ossl-six", hash: []string{"openssl", "passwd", "-6"}, prefix: "$6$"},
		{scheme: "openssl -5", pass: "Ossl-five", hash: []string{"openssl", "passwd", "-5"}, prefix: "$5$"},
		{scheme: "openssl -1", pass: "Ossl-one", hash: []string{"openssl", "passwd", "-1"}, prefix: "$1$"},
	}
	for _, a := range accounts {
		h := uxRun(t, "", a.hash[0], append(a.hash[1:], a.pass)...)
		if !strings.HasPrefix(h, a.prefix) || (a.prefix == "" && len(h) != 13) {
			t.Fatalf("%s made %q", a.scheme, h)
		}
		a.u = uxAddUser(t, e, h)
	}
	locked := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "Locked-1"))
	uxRun(t, "", "usermod", "-L", locked.Name)
	expired := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "Expired-1"))
	uxRun(t, "", "chage", "-E", "0", expired.Name)

	srv := uxStartInetd(t, e.Conf)
	login := func(name, pass string) string {
		c := uxDial(t, srv.Addr)
		_, tagged := uxDo(c, "LOGIN %s %s", name, pass)
		uxDo(c, "LOGOUT")
		return tagged
	}
	for _, a := range accounts {
		if r := login(a.u.Name, a.pass+"x"); !strings.HasPrefix(r, "NO") {
			t.Errorf("%s: wrong password answered %q", a.scheme, r)
		}
		if r := login(a.u.Name, a.pass); !strings.HasPrefix(r, "OK") {
			t.Errorf("%s: right password answered %q", a.scheme, r)
		}
	}
	if r := login(locked.Name, "Locked-1"); !strings.HasPrefix(r, "NO") {
		t.Errorf("locked account: %q", r)
	}
	if r := login(expired.Name, "Expired-1"); !strings.HasPrefix(r, "NO") {
		t.Errorf("expired account: %q", r)
	}
}

// TestUnixAccessProblem: a user who cannot enter the spool directory
// cannot log in (the manual's "Problems with unix-user Authentication");
// the log says why. With imapd_become_user false the login works.
func TestUnixAccessProblem(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t)
	u := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "pw-access"))
	must(t, os.Chmod(e.Spool, 0o700))
	srv := uxStartInetd(t, e.Conf)
	c := uxDial(t, srv.Addr)
	if _, tagged := uxDo(c, "LOGIN %s pw-access", u.Name); !strings.HasPrefix(tagged, "NO") {
		t.Errorf("LOGIN without access to the spool: %s", tagged)
	}
	uxDo(c, "LOGOUT")
	if log := e.logText(); !strings.Contains(log, "problems with unix-user authentication") || !strings.Contains(log, "cannot enter the directory of the drop file") {
		t.Errorf("log does not say why:\n%s", log)
	}
	e.writeConf(t, "imapd_become_user false")
	c = uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-access")
	c.OK("SELECT INBOX")
	c.OK("LOGOUT")
}

// TestUnixDropFileNotWritable: a user who may read but not write their
// drop file gets it read-only, and SELECT says so ([READ-ONLY], as for a
// mailbox another session holds): session/select.go decides both.
func TestUnixDropFileNotWritable(t *testing.T) {
	uxNeedRoot(t)
	e := uxNewEnv(t)
	u := uxAddUser(t, e, uxRun(t, "", "mkpasswd", "-m", "sha512crypt", "pw-ro"))
	uxWriteOwned(t, e.drop(u), uxSampleMail(), u)
	must(t, os.Chmod(e.drop(u), 0o400))
	srv := uxStartInetd(t, e.Conf)
	c := uxDial(t, srv.Addr)
	uxLogin(c, u.Name, "pw-ro")
	r := c.OK("SELECT INBOX")
	r.TaggedHas(t, "OK [READ-ONLY]")
	r.Has(t, "* 3 EXISTS")
	if r := c.Command(`STORE 1 +FLAGS (\Flagged)`); r.Status == "OK" {
		t.Errorf("STORE in a read-only drop file: %s", r.Tagged)
	}
	c.OK("LOGOUT")
}
