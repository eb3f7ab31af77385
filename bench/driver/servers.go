package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"imapd/demo"
)

const (
	benchUser     = "alice"
	benchPassword = "alice-secret"
)

// server is one started server process and how to reach it.
type server struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  string // its log file (stdout, stderr)
	logs []string
	done chan struct{}
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// kill ends the server and every process below it (dovecot's or imapd's
// session processes), deepest first.
func (s *server) kill() {
	pids := tree(s.pid())
	for i := len(pids) - 1; i >= 0; i-- {
		if p, err := os.FindProcess(pids[i]); err == nil {
			p.Kill()
		}
	}
}

// stop asks the server to shut down (SIGTERM: both stop their children)
// and kills it when it has not ended after 15 s.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// logTail is the end of the server's logs, for error messages.
func (s *server) logTail() string {
	var parts []string
	for _, p := range append([]string{s.log}, s.logs...) {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if len(b) > 1500 {
			b = b[len(b)-1500:]
		}
		parts = append(parts, p+": "+strings.TrimSpace(string(b)))
	}
	return strings.Join(parts, " | ")
}

func startServer(o *options, name, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var cmd *exec.Cmd
	var logs []string
	switch name {
	case "imapd", "imapd-inproc":
		var extra []string
		if name == "imapd-inproc" {
			extra = append(extra, "imapd_become_user false")
		}
		site, err := demo.Setup(dir, o.cryptauth, extra...)
		if err != nil {
			return nil, fmt.Errorf("set up imapd site in %s: %w", dir, err)
		}
		if o.mbox != "" {
			if err := copyFile(o.mbox, site.DropFile(benchUser), 0o600); err != nil {
				return nil, err
			}
		}
		if err := addCryptauthUsers(o, site.Password, site.Spool); err != nil {
			return nil, err
		}
		cmd = exec.Command(o.imapd, "-i", site.Config, "-listen", addr)
		logs = append(logs, filepath.Join(site.Log, "imapd.log"))
	case "imapd-inetd":
		conf, err := setupInetd(o, dir)
		if err != nil {
			return nil, err
		}
		// One imapd per connection, the connection as its stdin and
		// stdout, as inetd starts it (the manual's deployment).
		// GOMAXPROCS=1 as deploy/imapd@.service and xinetd.imap set it.
		cmd = exec.Command("systemd-socket-activate", "--inetd", "-a", "-E", "GOMAXPROCS=1", "-l", addr, o.imapd, "-i", conf)
		logs = append(logs, filepath.Join(dir, "log", "imapd.log"))
	case "dovecot", "dovecot-unix":
		conf, err := setupDovecot(o, dir, port, name == "dovecot-unix")
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(o.dovecot, "-F", "-c", conf)
		logs = append(logs, filepath.Join(dir, "dovecot.log"))
	}
	logPath := filepath.Join(dir, "server.out")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	s := &server{name: name, addr: addr, cmd: cmd, log: logPath, logs: logs, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		lf.Close()
		close(s.done)
	}()
	if err := s.waitGreeting(10 * time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s on %s: %w (log: %s)", name, addr, err, s.logTail())
	}
	return s, nil
}

// waitGreeting polls until the server answers with an untagged OK.
func (s *server) waitGreeting(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("server exited")
		default:
		}
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, rerr := bufio.NewReader(c).ReadString('\n')
			io.WriteString(c, "x LOGOUT\r\n")
			c.Close()
			if rerr == nil && strings.HasPrefix(line, "* OK") {
				return nil
			}
			err = fmt.Errorf("greeting %q: %v", line, rerr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no greeting after %v: %w", limit, err)
		}
		time.Sleep(50 * time.Millisecond) // polling for a server to come up; not a test
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return out.Close()
}

// setupDovecot writes a minimal Dovecot 2.3 installation in dir: mbox
// storage with the copied drop file as INBOX, folders and indexes of its
// own, a passwd-file holding the same SHA-512 crypt hash cryptauth uses
// for imapd, plaintext LOGIN without TLS on 127.0.0.1 only. Mail processes
// run as "nobody" (Dovecot refuses uid 0).
//
// With unix true (dovecot-unix) the users are the real unix users of the
// inetd comparison instead: passdb shadow (their yescrypt hashes), userdb
// passwd, each mail process running as its user.
func setupDovecot(o *options, dir string, port int, unix bool) (string, error) {
	uid, gid, err := nobody()
	if err != nil {
		return "", err
	}
	if err := walkable(dir); err != nil {
		return "", err
	}
	spool := filepath.Join(dir, "spool")
	home := filepath.Join(dir, "home")
	index := filepath.Join(dir, "index")
	for _, d := range []string{spool, home, index} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
		if err := os.Chown(d, uid, gid); err != nil {
			return "", fmt.Errorf("chown %s: %w", d, err)
		}
	}
	if unix {
		// every user's mail process makes its dot-locks and index here
		for _, d := range []string{spool, index} {
			if err := os.Chmod(d, 0o1777); err != nil {
				return "", err
			}
		}
		if err := freshHomes(o.users); err != nil {
			return "", err
		}
	}
	var entries strings.Builder
	if o.mbox != "" {
		hash, err := cryptHash(o.cryptauth, dir)
		if err != nil {
			return "", err
		}
		h := filepath.Join(home, benchUser)
		if err := userFiles(o.mbox, filepath.Join(spool, benchUser), h, uid, gid); err != nil {
			return "", err
		}
		fmt.Fprintf(&entries, "%s:{CRYPT}%s:%d:%d::%s::\n", benchUser, hash, uid, gid, h)
	}
	for _, u := range o.users {
		h, uu, ug := filepath.Join(home, u.Name), uid, gid
		if unix {
			h, uu, ug = "", u.UID, u.GID
		}
		if err := userFiles(o.mixedMbox, filepath.Join(spool, u.Name), h, uu, ug); err != nil {
			return "", err
		}
		fmt.Fprintf(&entries, "%s:{CRYPT}%s:%d:%d::%s::\n", u.Name, u.Hash, uid, gid, filepath.Join(home, u.Name))
	}
	passwd := filepath.Join(dir, "passwd")
	if err := os.WriteFile(passwd, []byte(entries.String()), 0o644); err != nil {
		return "", err
	}
	dbs := fmt.Sprintf(`passdb {
  driver = passwd-file
  args = %[1]s
}
userdb {
  driver = passwd-file
  args = %[1]s
}`, passwd)
	if unix {
		dbs = `passdb {
  driver = shadow
}
userdb {
  driver = passwd
}`
	}
	conf := filepath.Join(dir, "dovecot.conf")
	text := fmt.Sprintf(`# written by bench/driver: Dovecot on 127.0.0.1 only, mbox storage
base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = imapd-bench-%[2]d
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = %[1]s/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
mail_location = mbox:~/mail:INBOX=%[3]s/%%u:INDEX=%[4]s/%%u
%[5]s
# The steps suite opens 20 connections of one user at once, and a session
# that has just logged out may still be counted: Dovecot's default of 10
# refused the eleventh now and then.
protocol imap {
  mail_max_userip_connections = 1000
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
`, dir, port, spool, index, dbs)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", err
	}
	return conf, nil
}

// userFiles gives one user an INBOX (a copy of mbox at inbox) and, unless
// home is "", a home with an empty mail directory, all owned by uid:gid.
func userFiles(mbox, inbox, home string, uid, gid int) error {
	if err := copyFile(mbox, inbox, 0o600); err != nil {
		return err
	}
	if err := os.Chown(inbox, uid, gid); err != nil {
		return fmt.Errorf("chown %s: %w", inbox, err)
	}
	if home == "" {
		return nil
	}
	for _, d := range []string{home, filepath.Join(home, "mail")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.Chown(d, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", d, err)
		}
	}
	return nil
}

// addCryptauthUsers adds the many-user suites' users to cryptauth's
// password file (the same SHA-512 crypt hashes Dovecot's passwd-file gets)
// and gives each an INBOX in spool.
func addCryptauthUsers(o *options, passwd, spool string) error {
	if len(o.users) == 0 {
		return nil
	}
	f, err := os.OpenFile(passwd, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("add users to %s: %w", passwd, err)
	}
	for _, u := range o.users {
		fmt.Fprintf(f, "%s:%s\n", u.Name, u.Hash)
		if err := copyFile(o.mixedMbox, filepath.Join(spool, u.Name), 0o600); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// setupInetd writes the site of imapd-inetd: dmail.conf with
// authent_method unix_user (the real users' yescrypt hashes in
// /etc/shadow), a spool like /var/mail (mode 1777: the session process,
// once it is the user, makes its dot-locks there) holding each user's
// INBOX, owned by the user.
func setupInetd(o *options, dir string) (string, error) {
	spool := filepath.Join(dir, "spool")
	logDir := filepath.Join(dir, "log")
	for _, d := range []string{spool, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(spool, 0o1777); err != nil {
		return "", err
	}
	if err := freshHomes(o.users); err != nil {
		return "", err
	}
	for _, u := range o.users {
		if err := userFiles(o.mixedMbox, filepath.Join(spool, u.Name), "", u.UID, u.GID); err != nil {
			return "", err
		}
	}
	conf := filepath.Join(dir, "dmail.conf")
	text := strings.Join([]string{
		"# written by bench/driver: imapd under systemd-socket-activate --inetd, unix_user",
		"host_domain bench.example",
		"drop_path " + spool,
		"log_path " + logDir,
		"log_level info",
		"authent_method unix_user",
	}, "\n") + "\n"
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", err
	}
	return conf, nil
}

// cryptHash makes the SHA-512 crypt hash of the bench password the way the
// imapd side gets it: cryptauth -add.
func cryptHash(cryptauth, dir string) (string, error) {
	f := filepath.Join(dir, "cryptauth.passwd")
	if out, err := exec.Command(cryptauth, "-add", f, benchUser, benchPassword).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cryptauth -add: %v: %s", err, out)
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if u, rest, ok := strings.Cut(line, ":"); ok && u == benchUser {
			h, _, _ := strings.Cut(rest, ":")
			return h, nil
		}
	}
	return "", fmt.Errorf("no entry for %s in %s", benchUser, f)
}

func nobody() (uid, gid int, err error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return 0, 0, fmt.Errorf("look up user nobody (dovecot's mail processes run as it): %w", err)
	}
	uid, err = strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("uid of nobody %q: %w", u.Uid, err)
	}
	gid, err = strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("gid of nobody %q: %w", u.Gid, err)
	}
	return uid, gid, nil
}

// walkable checks that every directory above dir lets others through:
// Dovecot's auth process (user dovecot) and mail processes (nobody) must
// reach their files.
func walkable(dir string) error {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("directory %s (mode %v) does not let dovecot's unprivileged processes through: use a -workdir below directories with o+x", d, fi.Mode().Perm())
		}
		if filepath.Dir(d) == d {
			return nil
		}
	}
}
