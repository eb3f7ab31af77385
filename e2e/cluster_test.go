//go:build linux

package e2e

// lock_id for real: two imapd "hosts" over one spool (docs/cluster.md).
// Each host is `imapd -listen` in its own mount and PID namespace
// (unshare(1)): its own /tmp (a tmpfs, so UW's /tmp session lock could not
// be seen by the other host) and its own process numbers (both daemons are
// PID 1, their session processes collide too), seeing the spool through a
// bind mount of one "exported" directory at the same path (the kernel here
// has no NFS, so the tests prove the bind mount case, with use_flock false:
// the locks the hosts rely on are the dot-locks and the cluster session
// lock, never flock). A delivery agent (dot-lock by link(2), then flock)
// and an IMAP client appending on host B run meanwhile, while sessions of
// the same user on both hosts take the mailbox from each other, expunge
// and flag. Nothing may be lost or duplicated, no message torn.

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"imapd/demo"
	"imapd/internal/imaptest"
	"imapd/internal/syncbuf"
)

// clusterNeed skips unless this machine can make the two hosts.
func clusterNeed(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: each server host runs in its own mount and PID namespace (unshare) with the spool bind-mounted")
	}
	for _, tool := range []string{"unshare", "mount", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (scripts/test-deps.sh installs it)", tool)
		}
	}
	out, err := exec.Command("unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
		"--", "sh", "-c", "mount -t tmpfs tmpfs /tmp").CombinedOutput()
	if err != nil {
		t.Skipf("unshare cannot make mount and PID namespaces here (a container without CAP_SYS_ADMIN?): %v: %s", err, out)
	}
}

// clusterSite is the spool "exported" to the hosts and one dmail.conf per
// host, the same but for lock_id (and the log directory).
type clusterSite struct {
	Export string            // the spool as the file server has it
	Spool  string            // drop_path: the mount point on every host
	Conf   map[string]string // lock_id -> dmail.conf
	Log    map[string]string // lock_id -> log file
	Imapd  string
}

func (cs *clusterSite) drop() string { return filepath.Join(cs.Export, "alice") }

func newClusterSite(t *testing.T, ids ...string) *clusterSite {
	t.Helper()
	onlyMbox(t) // lock_id's session lock over drop files on a shared spool
	// Not under /tmp: every host mounts its own /tmp.
	base, err := os.MkdirTemp("/var/tmp", "imapd-cluster-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	must(t, os.Chmod(base, 0o755))
	bdir := filepath.Join(base, "bin")
	must(t, os.Mkdir(bdir, 0o755))
	for _, b := range []string{"imapd", "cryptauth"} {
		clusterCopy(t, bin(b), filepath.Join(bdir, b))
	}
	site, err := demo.Setup(filepath.Join(base, "site"), filepath.Join(bdir, "cryptauth"))
	must(t, err)
	cs := &clusterSite{
		Export: filepath.Join(base, "export", "spool"),
		Spool:  site.Spool,
		Conf:   map[string]string{},
		Log:    map[string]string{},
		Imapd:  filepath.Join(bdir, "imapd"),
	}
	must(t, os.MkdirAll(cs.Export, 0o755))
	must(t, os.Chmod(cs.Export, 0o1777))
	must(t, os.Rename(site.DropFile("alice"), cs.drop()))
	conf, err := os.ReadFile(site.Config)
	must(t, err)
	for _, id := range ids {
		logDir := filepath.Join(site.Log, id)
		must(t, os.Mkdir(logDir, 0o755))
		c := strings.Replace(string(conf), "log_path "+site.Log+"\n", "log_path "+logDir+"\n", 1)
		c += "lock_id " + id + "\nuse_flock false\nlog_level debug\n"
		cs.Conf[id] = filepath.Join(base, "site", id+".conf")
		cs.Log[id] = filepath.Join(logDir, "imapd.log")
		must(t, os.WriteFile(cs.Conf[id], []byte(c), 0o644))
	}
	return cs
}

func clusterCopy(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	must(t, err)
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	must(t, out.Close())
}

func (cs *clusterSite) logText(id string) string {
	b, _ := os.ReadFile(cs.Log[id])
	return string(b)
}

// lockLine reads the cluster session lock of alice's drop file: the
// holder's PID (in its host's PID namespace) and lock_id.
func (cs *clusterSite) lockLine(t *testing.T) (pid int, host string) {
	t.Helper()
	b, err := os.ReadFile(cs.lockName(t))
	if err != nil {
		t.Fatalf("session lock: %v", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	p, h, _ := strings.Cut(line, " ")
	pid, err = strconv.Atoi(p)
	if err != nil {
		t.Fatalf("session lock holds %q", b)
	}
	return pid, h
}

func (cs *clusterSite) lockName(t *testing.T) string {
	t.Helper()
	var st syscall.Stat_t
	must(t, syscall.Stat(cs.drop(), &st))
	return filepath.Join(cs.Export, ".imapd-session."+strconv.FormatUint(st.Ino, 16))
}

// plantLock writes a session lock as a server "hostc" that is not running
// left it, aged by age.
func (cs *clusterSite) plantLock(t *testing.T, age time.Duration) {
	t.Helper()
	name := cs.lockName(t)
	must(t, os.WriteFile(name, []byte("4242 hostc\n"), 0o666))
	old := time.Now().Add(-age)
	must(t, os.Chtimes(name, old, old))
}

// clusterHost is one server host: unshare(1) running `imapd -listen`
// as PID 1 of its namespaces.
type clusterHost struct {
	ID, Addr string
	PID      int // the daemon, as this (the parent) namespace numbers it
	cmd      *exec.Cmd
	exited   chan struct{}
	out      *syncbuf.Buffer
}

func startClusterHost(t *testing.T, cs *clusterSite, id string) *clusterHost {
	t.Helper()
	h := &clusterHost{ID: id, Addr: freePort(t), exited: make(chan struct{}), out: &syncbuf.Buffer{}}
	script := `mount --bind "$1" "$2" && mount -t tmpfs tmpfs /tmp && exec "$3" -i "$4" -listen "$5"`
	h.cmd = exec.Command("unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--mount-proc",
		"--kill-child=SIGTERM", "--", "sh", "-c", script, "sh", cs.Export, cs.Spool, cs.Imapd, cs.Conf[id], h.Addr)
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
	must(t, h.cmd.Start())
	go func() { h.cmd.Wait(); close(h.exited) }()
	t.Cleanup(func() { h.stop(t) })
	waitPort(t, h.Addr, h.exited)
	u := h.cmd.Process.Pid
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", u, u))
	must(t, err)
	if h.PID, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
		t.Fatalf("children of unshare %d: %q", u, b)
	}
	return h
}

// stop: SIGTERM to the daemon (it saves and says BYE), which ends unshare.
func (h *clusterHost) stop(t *testing.T) {
	select {
	case <-h.exited:
		return
	default:
	}
	syscall.Kill(h.PID, syscall.SIGTERM)
	select {
	case <-h.exited:
	case <-time.After(20 * time.Second):
		syscall.Kill(h.PID, syscall.SIGKILL)
		<-h.exited
		t.Errorf("host %s did not stop on SIGTERM; output:\n%s", h.ID, h.out.String())
	}
}

// hostPID maps a PID of the host's namespace (as lock files hold it) to
// this namespace's.
func (h *clusterHost) hostPID(t *testing.T, nspid int) int {
	t.Helper()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", h.PID))
	must(t, err)
	ents, err := os.ReadDir("/proc")
	must(t, err)
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", p)); err != nil || l != ns {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(st), "\n") {
			if rest, ok := strings.CutPrefix(line, "NSpid:"); ok {
				f := strings.Fields(rest)
				if len(f) > 0 && f[len(f)-1] == strconv.Itoa(nspid) {
					return p
				}
			}
		}
	}
	t.Fatalf("no process %d in host %s", nspid, h.ID)
	return 0
}

// clusterMsg is a message in the soak format mbox_ids.py checks for
// tearing, Message-ID <id@test>.
func clusterMsg(id string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: alice@demo.example\r\nTo: alice@demo.example\r\nSubject: %s\r\nMessage-ID: <%s@test>\r\nX-Soak-Lines: 5\r\n\r\n", id, id)
	for k := range 5 {
		fmt.Fprintf(&b, "%s@test line %d\r\n", id, k)
	}
	return b.String()
}

// searchOne is the sequence number of the message with Message-ID <id@test>.
func searchOne(t *testing.T, c *imaptest.Conn, id string) int {
	t.Helper()
	r := c.OK(`SEARCH HEADER Message-ID "<%s@test>"`, id)
	for _, l := range r.Untagged {
		if f := strings.Fields(l); len(f) == 3 && f[1] == "SEARCH" {
			n, err := strconv.Atoi(f[2])
			if err == nil {
				return n
			}
		}
	}
	t.Fatalf("SEARCH for <%s@test>: %q", id, r.Untagged)
	return 0
}

var uwLockName = regexp.MustCompile(`^\.[0-9a-f]+\.[0-9a-f]+$`)

func TestClusterTwoHostsOneSpool(t *testing.T) {
	clusterNeed(t)
	cs := newClusterSite(t, "hosta", "hostb")
	a := startClusterHost(t, cs, "hosta")
	b := startClusterHost(t, cs, "hostb")
	hosts := []*clusterHost{a, b}

	// Each round, meanwhile: deliveries (as an MTA on the file server
	// does them) and an IMAP client appending through the other host.
	const deliveries, imapAppends = 6, 4
	background := func(r int, other *clusterHost) (wait func()) {
		var delivOut, appendOut syncbuf.Buffer
		deliv := exec.Command("python3", filepath.Join("testdata", "appender.py"), "--link", "--id", fmt.Sprintf("smtp%d", r), cs.drop(), strconv.Itoa(deliveries), "smtp@example.com", fmt.Sprintf("smtp%d", r))
		deliv.Stdout, deliv.Stderr = &delivOut, &delivOut
		oh, op := hostPort(other.Addr)
		app := exec.Command("python3", filepath.Join("testdata", "cluster_imap_append.py"), oh, op, "alice", "alice-secret", strconv.Itoa(imapAppends), fmt.Sprintf("imap%d", r))
		app.Stdout, app.Stderr = &appendOut, &appendOut
		must(t, deliv.Start())
		must(t, app.Start())
		return func() {
			if err := deliv.Wait(); err != nil {
				t.Fatalf("round %d: deliveries: %v\n%s", r, err, delivOut.String())
			}
			if err := app.Wait(); err != nil {
				t.Fatalf("round %d: IMAP appends through host %s: %v\n%s", r, other.ID, err, appendOut.String())
			}
		}
	}

	// The same user's sessions on both hosts take the mailbox from each
	// other: each round appends two messages, takes the mailbox, expunges
	// one and flags the other (the flag is saved when the next round's
	// session, on the other host, takes the mailbox away).
	const rounds = 4
	var prev *imaptest.Conn
	var prevHost *clusterHost
	for r := range rounds {
		h := hosts[r%2]
		wait := background(r, hosts[(r+1)%2])
		c := uxDial(t, h.Addr)
		uxLogin(c, "alice", "alice-secret")
		doomed, kept := fmt.Sprintf("doomed.%d", r), fmt.Sprintf("kept.%d", r)
		c.OK("%s", uxAppend("INBOX", clusterMsg(doomed)))
		c.OK("%s", uxAppend("INBOX", clusterMsg(kept)))
		var notice string
		if prev != nil {
			pid, host := cs.lockLine(t)
			if host != prevHost.ID {
				t.Fatalf("round %d: the lock names %s, want %s", r, host, prevHost.ID)
			}
			notice = fmt.Sprintf("* NO Trying to get mailbox lock from process %d on %s", pid, host)
		}
		untagged, tagged := uxDo(c, "SELECT INBOX")
		if !strings.HasPrefix(tagged, "OK [READ-WRITE]") {
			t.Fatalf("round %d on %s: SELECT %s (untagged %q)\nlog:\n%s", r, h.ID, tagged, untagged, cs.logText(h.ID))
		}
		if prev != nil {
			if !slices.Contains(untagged, notice) {
				t.Errorf("round %d: SELECT's untagged lines %q lack %q", r, untagged, notice)
			}
			uxExpectBye(prev, "Killed (lost mailbox lock)")
		}
		if _, host := cs.lockLine(t); host != h.ID {
			t.Fatalf("round %d: the lock names %s, want %s", r, host, h.ID)
		}
		if r == 0 {
			// No UW lock in the host's own /tmp: it would not be seen.
			ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/root/tmp", h.PID))
			must(t, err)
			for _, e := range ents {
				if uwLockName.MatchString(e.Name()) {
					t.Errorf("host %s made UW's /tmp/%s with lock_id set", h.ID, e.Name())
				}
			}
		}
		n := searchOne(t, c, doomed)
		c.OK(`STORE %d +FLAGS.SILENT (\Deleted)`, n)
		c.OK("EXPUNGE").Has(t, fmt.Sprintf("* %d EXPUNGE", n))
		c.OK(`STORE %d +FLAGS.SILENT (\Flagged)`, searchOne(t, c, kept))
		wait()
		prev, prevHost = c, h
	}

	// A session killed (kill -9) while it holds the mailbox: the next
	// session on its host breaks its lock at once (same lock_id, no such
	// process there), whatever the other host's PIDs are.
	prev.OK("CHECK") // its flag is saved first
	pid, host := cs.lockLine(t)
	if host != prevHost.ID {
		t.Fatalf("the lock names %s, want %s", host, prevHost.ID)
	}
	must(t, syscall.Kill(prevHost.hostPID(t, pid), syscall.SIGKILL))
	prev.ExpectEOF()
	k := uxDial(t, prevHost.Addr)
	uxLogin(k, "alice", "alice-secret")
	if _, tagged := uxDo(k, "SELECT INBOX"); !strings.HasPrefix(tagged, "OK [READ-WRITE]") {
		t.Fatalf("SELECT after the holder was killed: %s\nlog:\n%s", tagged, cs.logText(prevHost.ID))
	}
	if log := cs.logText(prevHost.ID); !strings.Contains(log, fmt.Sprintf("its holder, process %d on this host, is gone", pid)) {
		t.Errorf("host %s did not log breaking the dead session's lock:\n%s", prevHost.ID, log)
	}

	k.OK("LOGOUT")
	cs.waitUnlocked(t, k)

	// Nothing lost, nothing twice, nothing torn.
	want := map[string]bool{"<m1@example.com>": true, "<m2@example.com>": true, "<m3@example.com>": true}
	for r := range rounds {
		want[fmt.Sprintf("<kept.%d@test>", r)] = true
		for n := 1; n <= deliveries; n++ {
			want[fmt.Sprintf("<smtp%d.%d@appender>", r, n)] = true
		}
		for n := 1; n <= imapAppends; n++ {
			want[fmt.Sprintf("<imap%d.%d@imap>", r, n)] = true
		}
	}
	out := runPython(t, "mbox_ids.py", cs.drop())
	seen := map[string]bool{}
	uids := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if strings.HasPrefix(l, "UIDVALIDITY ") {
			continue
		}
		f := strings.Split(l, "|")
		if len(f) != 3 {
			t.Errorf("mbox_ids: %q", l)
			continue
		}
		switch {
		case f[2] != "ok":
			t.Errorf("torn message %s", l)
		case seen[f[0]]:
			t.Errorf("message %s twice", f[0])
		case !want[f[0]]:
			t.Errorf("unexpected message %s (an expunged one back?)", f[0])
		case f[1] == "" || uids[f[1]]:
			t.Errorf("message %s: UID %q missing or not unique", f[0], f[1])
		}
		seen[f[0]], uids[f[1]] = true, true
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("message %s lost", id)
		}
	}
	// Every round's flag was saved when the other host took over.
	flagged := 0
	for _, l := range uxMessages(mboxSummary(t, cs.drop())) {
		f := strings.Split(l, "|")
		if strings.HasPrefix(f[0], "kept.") && strings.Contains(f[3], "F") {
			flagged++
		}
	}
	if flagged != rounds {
		t.Errorf("%d of the %d flagged messages kept their flag", flagged, rounds)
	}
	if t.Failed() {
		t.Logf("mbox_ids:\n%s\nlog hosta:\n%s\nlog hostb:\n%s", out, cs.logText("hosta"), cs.logText("hostb"))
	}
	clusterNoLeftovers(t, cs)

	// A lock left by a host that is gone (not refreshed for longer than
	// the stale time, by the file server's clock) is broken at once.
	cs.plantLock(t, 5*time.Minute)
	c := uxDial(t, a.Addr)
	uxLogin(c, "alice", "alice-secret")
	if _, tagged := uxDo(c, "SELECT INBOX"); !strings.HasPrefix(tagged, "OK [READ-WRITE]") {
		t.Fatalf("SELECT over a stale lock of another host: %s", tagged)
	}
	if log := cs.logText("hosta"); !strings.Contains(log, "process 4242 on hostc did not refresh it for") {
		t.Errorf("host a did not log breaking the stale lock:\n%s", log)
	}
	c.OK("LOGOUT")
	cs.waitUnlocked(t, c)

	// A fresh lock of a host that does not answer (it never lets go): the
	// later session asks, waits LetGoTimeout (15 s), and gets the mailbox
	// read-only.
	cs.plantLock(t, 0)
	c = uxDial(t, b.Addr)
	uxLogin(c, "alice", "alice-secret")
	untagged, tagged := uxDo(c, "SELECT INBOX")
	if !strings.HasPrefix(tagged, "OK [READ-ONLY]") ||
		!slices.Contains(untagged, "* NO Trying to get mailbox lock from process 4242 on hostc") ||
		!slices.Contains(untagged, "* NO Mailbox is open by another process, access is readonly") {
		t.Errorf("SELECT under a live lock of another host: %s %q", tagged, untagged)
	}
	if b, _ := os.ReadFile(cs.lockName(t)); !strings.HasPrefix(string(b), "4242 hostc\n") || !strings.Contains(string(b), " hostb wants\n") {
		t.Errorf("the lock of the live holder after the request: %q", b)
	}
	c.OK("LOGOUT")
	c.ExpectEOF()
	must(t, os.Remove(cs.lockName(t)))
	clusterNoLeftovers(t, cs)
}

// waitUnlocked waits until the session of c, logged out, has let go of
// the mailbox (its process removes the session lock after the LOGOUT
// reply): readiness polling, bounded to 20 s.
func (cs *clusterSite) waitUnlocked(t *testing.T, c *imaptest.Conn) {
	t.Helper()
	c.ExpectEOF()
	name := cs.lockName(t)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Lstat(name); os.IsNotExist(err) {
			return
		}
	}
	t.Fatalf("session lock %s still there after LOGOUT", name)
}

// clusterNoLeftovers: no session lock, hitching post or dot-lock is left
// in the spool once every session logged out.
func clusterNoLeftovers(t *testing.T, cs *clusterSite) {
	t.Helper()
	ents, err := os.ReadDir(cs.Export)
	must(t, err)
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, ".imapd-session.") || strings.Contains(n, ".lock") {
			t.Errorf("left in the spool: %s", n)
		}
	}
}

// onlyMbox skips a test of drop-file specifics when the suite runs on
// maildir.
func onlyMbox(t *testing.T) {
	t.Helper()
	if format != fmtMbox {
		t.Skip("drop files only")
	}
}
