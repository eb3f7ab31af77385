//go:build linux

package e2e

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"imapd/demo"
)

// TestSoak is the kill -9 soak (`make soak`, `make soak-ci`; skipped unless
// IMAPD_SOAK_TRIALS is set). Each trial starts the real imapd (-listen),
// lets a real client (go-imap's) APPEND, COPY, MOVE, STORE, EXPUNGE and
// RENAME in alice's INBOX and folders while a separate process delivers
// into the drop file under dot-lock + flock (testdata/appender.py --link), and
// kills the server with SIGKILL in the middle of a random command. Then,
// after a session has opened every mailbox again (journal recovery), an
// independent reader (testdata/mbox_ids.py) checks every message by
// Message-ID against the ledger of what the server acknowledged: nothing
// lost, duplicated or torn, the one command in flight done entirely or not
// at all (a MOVE may leave its copy), every delivery there once, UIDs and
// UIDVALIDITY as the client saw them before.
//
// Some trials also damage the crash journal the kill left (truncated, bytes
// flipped) when the file is whole without it, or plant a damaged journal
// next to a whole mailbox: recovery must then leave the mailbox as it is.
//
// Randomness comes from IMAPD_SOAK_SEED (default: the clock), printed in
// the log and on failure; the same seed replays the same choices (the
// moment of the kill is only as reproducible as the machine's timing).
func TestSoak(t *testing.T) {
	trials, _ := strconv.Atoi(os.Getenv("IMAPD_SOAK_TRIALS"))
	if trials <= 0 {
		t.Skip("set IMAPD_SOAK_TRIALS (make soak, make soak-ci)")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	seed, err := strconv.ParseUint(os.Getenv("IMAPD_SOAK_SEED"), 10, 64)
	if err != nil {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("soak: %d trials, IMAPD_SOAK_SEED=%d", trials, seed)
	s := &soak{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), seed: seed}
	// On a tmpfs when we may mount one: a kill -9 loses no page-cache
	// writes anyway, and the trials do not wait for a disk's fsyncs.
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256m,mode=0755"); err == nil {
			t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
		}
	}
	site, err := demo.Setup(dir, bin("cryptauth"))
	if err != nil {
		t.Fatal(err)
	}
	s.site = site
	s.setup()
	var p *pending
	for s.trial = 1; s.trial <= trials+1; s.trial++ {
		// Each trial first checks what the previous one left.
		s.startServer()
		s.verify(p)
		if t.Failed() {
			s.killServer()
			t.Fatalf("soak failed after trial %d; replay with IMAPD_SOAK_SEED=%d", s.trial-1, seed)
		}
		if s.trial > trials {
			s.stopServer()
			break
		}
		p = s.runTrial()
	}
	t.Logf("soak: %d trials passed (%d kills during a big APPEND, %d with a journal on disk, %d journals left by a kill, %d damaged, %d planted, %d stale dot-locks removed)",
		trials, s.stats.appendKills, s.stats.journalKills, s.stats.journals, s.stats.damaged, s.stats.planted, s.stats.staleLocks)
}

// The folders: INBOX, two plain folders, and one that RENAME moves between
// two names (its logical name is renamed).
const renamed = "R"

var soakFolders = []string{"INBOX", "Alpha", "Beta", renamed}

type soak struct {
	t      *testing.T
	rng    *rand.Rand
	seed   uint64
	site   *demo.Site
	trial  int
	srv    *exec.Cmd
	exited chan struct{}
	addr   string
	rName  string // the current name of the renamed folder (R1 or R2)
	next   int    // next soak message number
	// killNext: the command being picked is the one to be killed.
	killNext bool

	// ledger: logical folder -> Message-ID -> count, as acknowledged.
	ledger map[string]map[string]int
	// uids: logical folder -> Message-ID -> UID, as last seen by a client.
	uids     map[string]map[string]uint32
	validity map[string]uint32
	// delivered: Message-IDs the appender delivered so far.
	delivered []string
	stats     struct{ appendKills, journalKills, journals, damaged, planted, staleLocks int }
}

// pending is the command the kill interrupted: the outcomes it allows.
type pending struct {
	what string
	// outcomes are the ledgers the command may have left.
	outcomes []map[string]map[string]int
	renamed  string // for RENAME: the name the folder has if it was done
}

func (s *soak) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf("trial %d (IMAPD_SOAK_SEED=%d): %s", s.trial, s.seed, fmt.Sprintf(format, args...))
}

func (s *soak) path(folder string) string {
	drop := s.site.DropFile("alice")
	switch folder {
	case "INBOX":
		return drop
	case renamed:
		return filepath.Join(drop+".mbx", s.rName)
	}
	return filepath.Join(drop+".mbx", folder)
}

func (s *soak) imapName(folder string) string {
	if folder == renamed {
		return s.rName
	}
	return folder
}

func (s *soak) setup() {
	s.ledger = map[string]map[string]int{}
	s.uids = map[string]map[string]uint32{}
	s.validity = map[string]uint32{}
	s.rName = "R1"
	s.startServer()
	c := s.dial()
	for _, f := range soakFolders[1:] {
		if err := c.Create(s.imapName(f), nil).Wait(); err != nil {
			s.t.Fatalf("create %s: %v", f, err)
		}
	}
	for _, f := range soakFolders {
		s.ledger[f] = map[string]int{}
		for range 3 {
			id := s.newID()
			if err := s.appendMsg(c, f, id, 2); err != nil {
				s.t.Fatal(err)
			}
			s.ledger[f][id]++
		}
	}
	// The demo's three messages have their own Message-IDs.
	c.Logout().Wait()
	s.stopServer()
}

func (s *soak) newID() string {
	s.next++
	return fmt.Sprintf("<soak-%d@soak.test>", s.next)
}

// soakMessage is a message whose text the reader can check: n body lines.
func soakMessage(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: soak@example.com\r\nTo: alice@demo.example\r\nSubject: soak %s\r\nMessage-ID: %s\r\nX-Soak-Lines: %d\r\n\r\n", id, id, n)
	tag := strings.Trim(id, "<>")
	for k := range n {
		fmt.Fprintf(&b, "%s line %d\r\n", tag, k)
	}
	return b.String()
}

func (s *soak) appendMsg(c *imapclient.Client, folder, id string, lines int) error {
	msg := soakMessage(id, lines)
	cmd := c.Append(s.imapName(folder), int64(len(msg)), nil)
	if _, err := cmd.Write([]byte(msg)); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

func (s *soak) startServer() {
	s.t.Helper()
	s.addr = freePort(s.t)
	s.srv = exec.Command(bin("imapd"), "-i", s.site.Config, "-listen", s.addr)
	// A file, not a pipe: a child the killed server leaves (an
	// authenticator) must not hold up Wait.
	out, err := os.OpenFile(filepath.Join(s.site.Dir, "imapd.out"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	s.srv.Stdout, s.srv.Stderr = out, out
	if err := s.srv.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) { cmd.Wait(); close(exited) }(s.srv, s.exited)
	waitPort(s.t, s.addr, s.exited)
}

// killServer: kill -9, and wait until it is gone.
func (s *soak) killServer() { s.endServer(syscall.SIGKILL) }

// stopServer: a clean shutdown (sessions closed, files written).
func (s *soak) stopServer() { s.endServer(syscall.SIGTERM) }

func (s *soak) endServer(sig syscall.Signal) {
	if s.srv == nil {
		return
	}
	s.srv.Process.Signal(sig)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		s.srv.Process.Kill()
		<-s.exited
		s.fail("server did not stop on %v", sig)
	}
	s.srv = nil
}

func (s *soak) dial() *imapclient.Client {
	s.t.Helper()
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		s.t.Fatalf("dial: %v", err)
	}
	if err := c.Login("alice", "alice-secret").Wait(); err != nil {
		s.t.Fatalf("login: %v", err)
	}
	return c
}

// runTrial: with the server up, an appender running and random commands,
// a kill in the middle of one; it returns that one.
func (s *soak) runTrial() *pending {
	tag := fmt.Sprintf("trial%d", s.trial)
	appender := exec.Command("python3", filepath.Join("testdata", "appender.py"), "--link", "--id", tag, s.site.DropFile("alice"), fmt.Sprint(1+s.rng.IntN(8)), "smtp@example.com", tag)
	appOut := &strings.Builder{}
	appender.Stdout, appender.Stderr = appOut, appOut
	if err := appender.Start(); err != nil {
		s.t.Fatal(err)
	}
	appDone := make(chan error, 1)
	go func() { appDone <- appender.Wait() }()

	c := s.dial()
	p := s.work(c)
	c.Close()

	// The appender (a stand-in MTA, which like procmail only breaks a
	// dot-lock after minutes) may wait for a dot-lock the killed server
	// left: remove a lock that is not the appender's (the server is dead).
	// imapd itself breaks such a lock at once (it names a dead PID on this
	// host); the restarted server's sessions rely on that.
	lock := s.site.DropFile("alice") + ".lock"
	for {
		select {
		case err := <-appDone:
			if err != nil {
				s.fail("appender: %v\n%s", err, appOut)
				return p
			}
			n, _ := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(appOut.String()), "delivered "))
			for k := 1; k <= n; k++ {
				s.delivered = append(s.delivered, fmt.Sprintf("<%s.%d@appender>", tag, k))
			}
			s.checkJournals()
			return p
		case <-time.After(50 * time.Millisecond):
			// The appender's lock always holds its PID (it is linked
			// into place whole).
			if b, err := os.ReadFile(lock); err == nil && strings.TrimSpace(string(b)) != fmt.Sprint(appender.Process.Pid) {
				os.Remove(lock)
				s.stats.staleLocks++
			}
		}
	}
}

// work runs random commands, then one more with a kill in its middle.
func (s *soak) work(c *imapclient.Client) *pending {
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		s.fail("select: %v", err)
		s.killServer()
		return nil
	}
	ops := s.rng.IntN(6)
	for i := 0; ; i++ {
		last := i == ops
		s.killNext = last
		p, run := s.pick(c)
		done := make(chan error, 1)
		go func() { done <- run() }()
		if last {
			if p.what == "APPEND big" {
				s.stats.appendKills++
			}
			if s.rng.IntN(2) == 0 {
				time.Sleep(time.Duration(s.rng.IntN(3000)) * time.Microsecond) // a random moment, not a synchronisation
			} else {
				s.awaitJournal(done) // inside a journaled rewrite, if the command makes one
			}
			s.killServer()
			<-done
			return p
		}
		if err := <-done; err != nil {
			s.fail("%s: %v", p.what, err)
			s.killServer()
			return p
		}
		s.ledger = p.outcomes[len(p.outcomes)-1] // done
		if p.renamed != "" {
			s.rName = p.renamed
		}
	}
}

// awaitJournal returns as soon as a crash journal exists in the spool
// (the server is in the middle of a rewrite), or when the command ends.
func (s *soak) awaitJournal(done chan error) {
	drop := s.site.DropFile("alice")
	pattern := []string{filepath.Join(filepath.Dir(drop), ".imapd-journal.*"), filepath.Join(drop+".mbx", ".imapd-journal.*")}
	for {
		for _, p := range pattern {
			if m, _ := filepath.Glob(p); len(m) > 0 {
				s.stats.journalKills++
				return
			}
		}
		select {
		case err := <-done:
			done <- err // for the caller
			return
		case <-time.After(20 * time.Microsecond): // polling for the journal, not a synchronisation
		}
	}
}

func cloneLedger(l map[string]map[string]int) map[string]map[string]int {
	n := make(map[string]map[string]int, len(l))
	for f, ids := range l {
		n[f] = make(map[string]int, len(ids))
		for id, k := range ids {
			n[f][id] = k
		}
	}
	return n
}

// inboxSoakIDs are the soak messages of INBOX with their UIDs now.
func (s *soak) inboxSoakIDs(c *imapclient.Client) map[string]imap.UID {
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
	if err != nil {
		return nil
	}
	ids := map[string]imap.UID{}
	for _, m := range msgs {
		if m.Envelope != nil && strings.HasPrefix(m.Envelope.MessageID, "soak-") {
			ids["<"+m.Envelope.MessageID+">"] = m.UID
		}
	}
	return ids
}

// pick chooses a command: what it is, the ledgers it may leave (the last
// one is "done"), and the function that runs it.
func (s *soak) pick(c *imapclient.Client) (*pending, func() error) {
	before := cloneLedger(s.ledger)
	after := cloneLedger(s.ledger)
	p := &pending{outcomes: []map[string]map[string]int{before, after}}
	ids := s.inboxSoakIDs(c)
	var some []string // up to 3 INBOX soak messages
	for id := range ids {
		some = append(some, id)
	}
	sort.Strings(some)
	s.rng.Shuffle(len(some), func(i, j int) { some[i], some[j] = some[j], some[i] })
	some = some[:min(len(some), 1+s.rng.IntN(3))]
	var set imap.UIDSet
	for _, id := range some {
		set.AddNum(ids[id])
	}
	dest := soakFolders[1+s.rng.IntN(len(soakFolders)-1)]
	// Never copy a message into a folder that has it: counts stay 0 or 1.
	fresh := len(some) > 0
	for _, id := range some {
		if after[dest][id] > 0 {
			fresh = false
		}
	}
	switch k := s.rng.IntN(10); {
	case k < 3 || len(some) == 0:
		id := s.newID()
		folder := soakFolders[s.rng.IntN(len(soakFolders))]
		lines := 1 + s.rng.IntN(20)
		p.what = "APPEND"
		if s.rng.IntN(2) == 0 && s.killNext {
			// Only the command that is killed is big (the files stay
			// small): 150 to 450 KB, more than one write.
			lines = 5000 + s.rng.IntN(10000)
			p.what = "APPEND big"
		}
		after[folder][id]++
		return p, func() error { return s.appendMsg(c, folder, id, lines) }
	case k < 5 && fresh:
		p.what = "COPY"
		for _, id := range some {
			after[dest][id]++
		}
		return p, func() error { _, err := c.Copy(set, s.imapName(dest)).Wait(); return err }
	case k < 7 && fresh:
		p.what = "MOVE"
		copied := cloneLedger(before)
		for _, id := range some {
			after[dest][id]++
			copied[dest][id]++
			after["INBOX"][id]--
		}
		// A MOVE cut short may leave the copy and the original.
		p.outcomes = []map[string]map[string]int{before, copied, after}
		return p, func() error { _, err := c.Move(set, s.imapName(dest)).Wait(); return err }
	case k < 9:
		p.what = "EXPUNGE"
		for _, id := range some {
			after["INBOX"][id]--
		}
		return p, func() error {
			if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted, imap.FlagSeen, "soak"}}, nil).Close(); err != nil {
				return err
			}
			return c.UIDExpunge(set).Close()
		}
	default:
		to := "R2"
		if s.rName == "R2" {
			to = "R1"
		}
		p.what = "RENAME"
		p.renamed = to
		return p, func() error { return c.Rename(s.rName, to, nil).Wait() }
	}
}

// checkJournals damages journals the kill left, when the file they belong
// to is whole without them, and now and then plants a damaged one.
func (s *soak) checkJournals() {
	dirs := []string{filepath.Dir(s.site.DropFile("alice")), s.site.DropFile("alice") + ".mbx"}
	for _, dir := range dirs {
		js, _ := filepath.Glob(filepath.Join(dir, ".imapd-journal.*"))
		for _, j := range js {
			s.stats.journals++
			mbox := filepath.Join(dir, strings.TrimPrefix(filepath.Base(j), ".imapd-journal."))
			if s.rng.IntN(2) == 0 || !s.wholeOnDisk(mbox) {
				continue
			}
			s.damage(j)
		}
	}
	if s.rng.IntN(4) == 0 {
		folder := soakFolders[s.rng.IntN(len(soakFolders))]
		mbox := s.path(folder)
		j := filepath.Join(filepath.Dir(mbox), ".imapd-journal."+filepath.Base(mbox))
		if _, err := os.Stat(j); err == nil {
			return
		}
		// A journal naming this file, as a crash would leave it, then damaged.
		st, err := os.Stat(mbox)
		if err != nil {
			return
		}
		content := fmt.Sprintf("IMAPD-MBOX-JOURNAL 2\nfile - size %d\n", st.Size())
		b := []byte(content + strings.Repeat("garbage that is no journal\n", 1+s.rng.IntN(50)))
		if err := os.WriteFile(j, b, 0o600); err != nil {
			s.t.Fatal(err)
		}
		s.damage(j)
		s.stats.planted++
	}
}

// damage truncates a journal or flips bytes in it.
func (s *soak) damage(j string) {
	b, err := os.ReadFile(j)
	if err != nil || len(b) == 0 {
		return
	}
	if s.rng.IntN(2) == 0 {
		b = b[:s.rng.IntN(len(b))]
	} else {
		for range 1 + s.rng.IntN(8) {
			b[s.rng.IntN(len(b))] ^= byte(1 + s.rng.IntN(255))
		}
	}
	if err := os.WriteFile(j, b, 0o600); err != nil {
		s.t.Fatal(err)
	}
	s.stats.damaged++
}

// wholeOnDisk reports whether a mailbox file, read as it is, has no torn
// message: then a journal is not needed to repair it.
func (s *soak) wholeOnDisk(path string) bool {
	files := s.read([]string{path})
	f := files[path]
	return f != nil && !f.torn
}

type fileState struct {
	ids      map[string]int
	uids     map[string]uint32
	validity uint32
	torn     bool
	garbage  bool
	lines    []string
}

// read runs the independent reader on paths.
func (s *soak) read(paths []string) map[string]*fileState {
	out, err := exec.Command("python3", append([]string{filepath.Join("testdata", "mbox_ids.py")}, paths...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("mbox_ids.py: %v\n%s", err, out)
	}
	res := map[string]*fileState{}
	var cur *fileState
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "FILE "):
			cur = &fileState{ids: map[string]int{}, uids: map[string]uint32{}}
			res[strings.TrimPrefix(line, "FILE ")] = cur
		case line == "MISSING":
			res[filepathOf(res, cur)] = nil
			cur = nil
		case strings.HasPrefix(line, "UIDVALIDITY "):
			v, _ := strconv.ParseUint(strings.TrimPrefix(line, "UIDVALIDITY "), 10, 32)
			cur.validity = uint32(v)
		case strings.HasPrefix(line, "GARBAGE"):
			cur.garbage = true
		case cur != nil:
			cur.lines = append(cur.lines, line)
			f := strings.Split(line, "|")
			if len(f) != 3 {
				continue
			}
			cur.ids[f[0]]++
			if u, err := strconv.ParseUint(f[1], 10, 32); err == nil {
				cur.uids[f[0]] = uint32(u)
			}
			if f[2] == "torn" {
				cur.torn = true
			}
		}
	}
	return res
}

func filepathOf(m map[string]*fileState, f *fileState) string {
	for p, v := range m {
		if v == f {
			return p
		}
	}
	return ""
}

// verify opens every mailbox in a session of the freshly started server
// (which recovers journals and gives new mail its UIDs), notes the UIDs the
// client sees, closes them (the files are written when CLOSE is answered),
// and compares the files, read independently, with the ledger and p's
// outcomes.
func (s *soak) verify(p *pending) {
	if p != nil && p.renamed != "" {
		// Which name does the folder have now?
		if _, err := os.Stat(filepath.Join(s.site.DropFile("alice")+".mbx", p.renamed)); err == nil {
			s.rName = p.renamed
		}
	}
	c := s.dial()
	seen := map[string]map[string]uint32{}
	validity := map[string]uint32{}
	for _, f := range soakFolders {
		sel, err := c.Select(s.imapName(f), nil).Wait()
		if err != nil {
			s.fail("select %s: %v", f, err)
			return
		}
		validity[f] = sel.UIDValidity
		seen[f] = map[string]uint32{}
		if sel.NumMessages > 0 {
			msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Envelope: true}).Collect()
			if err != nil {
				s.fail("fetch %s: %v", f, err)
				return
			}
			for _, m := range msgs {
				seen[f]["<"+m.Envelope.MessageID+">"] = uint32(m.UID)
			}
		}
	}
	if err := c.Unselect().Wait(); err != nil {
		s.fail("unselect: %v", err)
	}
	c.Logout().Wait()
	c.Close()

	paths := make([]string, len(soakFolders))
	for i, f := range soakFolders {
		paths[i] = s.path(f)
	}
	files := s.read(paths)
	got := map[string]map[string]int{}
	for i, f := range soakFolders {
		st := files[paths[i]]
		if st == nil {
			s.fail("%s: file missing", f)
			return
		}
		if st.torn || st.garbage {
			s.fail("%s: torn message or garbage:\n%s", f, strings.Join(st.lines, "\n"))
		}
		got[f] = map[string]int{}
		for id, n := range st.ids {
			if strings.HasPrefix(id, "<soak-") {
				got[f][id] = n
			}
		}
		// The file's UIDs are the ones the client saw.
		for id, u := range seen[f] {
			if st.uids[id] != u {
				s.fail("%s: %s has X-UID %d in the file, UID %d over IMAP", f, id, st.uids[id], u)
			}
		}
		if v, ok := s.validity[f]; ok && v != validity[f] {
			s.fail("%s: UIDVALIDITY changed from %d to %d", f, v, validity[f])
		}
		s.validity[f] = validity[f]
		// UIDs stay what they were.
		for id, u := range seen[f] {
			if old, ok := s.uids[f][id]; ok && old != u {
				s.fail("%s: %s had UID %d, now %d", f, id, old, u)
			}
		}
	}
	s.uids = seen

	// Every delivery is in INBOX exactly once.
	inbox := files[paths[0]]
	for _, id := range s.delivered {
		if inbox.ids[id] != 1 {
			s.fail("delivery %s is in INBOX %d times", id, inbox.ids[id])
		}
	}

	outcomes := []map[string]map[string]int{s.ledger}
	what := "nothing"
	if p != nil {
		outcomes, what = p.outcomes, p.what
	}
	for _, o := range outcomes {
		if sameLedger(o, got) {
			s.ledger = got
			return
		}
	}
	s.fail("after a kill during %s the folders hold\n%s\nwant one of\n%s", what, ledgerString(got), ledgersString(outcomes))
}

func sameLedger(a, b map[string]map[string]int) bool {
	for _, f := range soakFolders {
		x, y := a[f], b[f]
		for id, n := range x {
			if y[id] != n {
				return false
			}
		}
		for id, n := range y {
			if x[id] != n {
				return false
			}
		}
	}
	return true
}

func ledgerString(l map[string]map[string]int) string {
	var b strings.Builder
	for _, f := range soakFolders {
		var ids []string
		for id, n := range l[f] {
			if n != 0 {
				ids = append(ids, fmt.Sprintf("%s×%d", id, n))
			}
		}
		slices.Sort(ids)
		fmt.Fprintf(&b, "  %s: %s\n", f, strings.Join(ids, " "))
	}
	return b.String()
}

func ledgersString(ls []map[string]map[string]int) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, ledgerString(l))
	}
	return strings.Join(parts, "  or\n")
}
