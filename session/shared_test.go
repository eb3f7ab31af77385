//go:build unix

package session_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"imapd/internal/imaptest"
	"imapd/platform/filelock"
)

// Shared mailboxes (imapd_shared_mailboxes): several sessions of alice
// hold INBOX read-write at once, doing random STORE, EXPUNGE, APPEND and
// IDLE while another program delivers mail. Every session keeps a model
// of the mailbox from what it is told (EXISTS, EXPUNGE, FETCH) and checks
// it after every response: sequence numbers in range, UIDs ascending and
// never changing under a number, no EXPUNGE during a command that uses
// sequence numbers. At the end every view equals the mailbox as a fresh
// session reads it from the file, and no message that was never flagged
// \Deleted is lost.

// goTB lets a session run in its own goroutine: a failure ends the
// goroutine (not the test's), recorded for the test to report.
type goTB struct {
	testing.TB
	name string
	mu   *sync.Mutex
	errs *[]string
}

func (g goTB) Helper() {}
func (g goTB) Errorf(format string, args ...any) {
	g.mu.Lock()
	*g.errs = append(*g.errs, g.name+": "+fmt.Sprintf(format, args...))
	g.mu.Unlock()
}
func (g goTB) Fatalf(format string, args ...any) { g.Errorf(format, args...); runtime.Goexit() }
func (g goTB) Fatal(args ...any)                 { g.Fatalf("%s", fmt.Sprint(args...)) }
func (g goTB) Error(args ...any)                 { g.Errorf("%s", fmt.Sprint(args...)) }
func (g goTB) FailNow()                          { g.Fatalf("FailNow") }

// entry is one message as a session's client knows it.
type entry struct {
	uid   uint32 // 0: announced by EXISTS, not fetched yet
	flags string // sorted, without \Recent; "?" unknown
}

// model is a client's picture of the selected mailbox.
type model struct {
	tb   testing.TB
	msgs []entry
}

var (
	existsRE  = regexp.MustCompile(`^\* (\d+) EXISTS$`)
	expungeRE = regexp.MustCompile(`^\* (\d+) EXPUNGE$`)
	fetchRE   = regexp.MustCompile(`^\* (\d+) FETCH \((.*)\)$`)
	uidRE     = regexp.MustCompile(`UID (\d+)`)
	flagsRE   = regexp.MustCompile(`FLAGS \(([^)]*)\)`)
)

func normFlags(s string) string {
	var out []string
	for _, f := range strings.Fields(s) {
		if f != `\Recent` {
			out = append(out, strings.ToLower(f))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// apply takes one untagged response into the model.
func (m *model) apply(line string, seqCommand bool) {
	m.tb.Helper()
	if strings.HasPrefix(line, "* BYE") {
		m.tb.Fatalf("session ended: %s", line)
	}
	if r := existsRE.FindStringSubmatch(line); r != nil {
		n, _ := strconv.Atoi(r[1])
		if n < len(m.msgs) {
			m.tb.Fatalf("%s: fewer than the %d messages known without EXPUNGE", line, len(m.msgs))
		}
		for len(m.msgs) < n {
			m.msgs = append(m.msgs, entry{flags: "?"})
		}
		return
	}
	if r := expungeRE.FindStringSubmatch(line); r != nil {
		if seqCommand {
			m.tb.Fatalf("%s during a command using sequence numbers", line)
		}
		n, _ := strconv.Atoi(r[1])
		if n < 1 || n > len(m.msgs) {
			m.tb.Fatalf("%s: out of range 1..%d", line, len(m.msgs))
		}
		m.msgs = slices.Delete(m.msgs, n-1, n)
		return
	}
	if r := fetchRE.FindStringSubmatch(line); r != nil {
		n, _ := strconv.Atoi(r[1])
		if n < 1 || n > len(m.msgs) {
			m.tb.Fatalf("%s: out of range 1..%d", line, len(m.msgs))
		}
		e := &m.msgs[n-1]
		if u := uidRE.FindStringSubmatch(r[2]); u != nil {
			uid, _ := strconv.ParseUint(u[1], 10, 32)
			if e.uid != 0 && e.uid != uint32(uid) {
				m.tb.Fatalf("%s: message %d was UID %d", line, n, e.uid)
			}
			e.uid = uint32(uid)
		}
		if f := flagsRE.FindStringSubmatch(r[2]); f != nil {
			e.flags = normFlags(f[1])
		}
		m.check()
	}
}

// check: known UIDs ascend with the sequence number.
func (m *model) check() {
	m.tb.Helper()
	var last uint32
	for i, e := range m.msgs {
		if e.uid == 0 {
			continue
		}
		if e.uid <= last {
			m.tb.Fatalf("message %d has UID %d after UID %d", i+1, e.uid, last)
		}
		last = e.uid
	}
}

func (m *model) String() string {
	var b strings.Builder
	for i, e := range m.msgs {
		fmt.Fprintf(&b, "%d:%d(%s) ", i+1, e.uid, e.flags)
	}
	return b.String()
}

// sharedClient is one session with its model.
type sharedClient struct {
	c *imaptest.Conn
	m model
}

// cmd runs a command, applying every untagged response; seq says whether
// it uses sequence numbers (no EXPUNGE may come). It returns the tagged
// status line.
func (sc *sharedClient) cmd(seq bool, format string, args ...any) (tagged string, untagged []string) {
	tag := sc.c.NextTag()
	sc.c.Send(tag + " " + fmt.Sprintf(format, args...))
	return sc.collect(tag, seq)
}

func (sc *sharedClient) collect(tag string, seq bool) (string, []string) {
	var un []string
	for {
		line := sc.c.Response()
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if !strings.HasPrefix(rest, "OK") && !strings.Contains(rest, "[EXPUNGEISSUED]") && !strings.Contains(rest, "[INUSE]") {
				sc.m.tb.Fatalf("%s: %s (model %s)", tag, rest, &sc.m)
			}
			return rest, un
		}
		sc.m.apply(line, seq)
		un = append(un, line)
	}
}

// sharedSite is what the workers share.
type sharedSite struct {
	inbox      string
	maildir    bool
	seq        atomic.Int64
	mu         sync.Mutex
	deletable  []uint32 // UIDs of "del-" messages (only these are ever \Deleted)
	deliveries atomic.Int64
}

func (s *sharedSite) name(kind string) string {
	return fmt.Sprintf("%s-%d", kind, s.seq.Add(1))
}

// deliver appends a message as another program: mbox under the dot-lock
// and flock (as DSMTP), maildir through tmp/ and new/.
func (s *sharedSite) deliver(tb testing.TB) {
	subject := s.name("dlv")
	msg := fmt.Sprintf("From: mta@example.com\nTo: alice@demo.example\nSubject: %s\n\ndelivered\n", subject)
	s.deliveries.Add(1)
	if s.maildir {
		base := fmt.Sprintf("%d.%s.mta", time.Now().Unix(), subject)
		tmp := filepath.Join(s.inbox, "tmp", base)
		if err := os.WriteFile(tmp, []byte(msg), 0o600); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(s.inbox, "new", base)); err != nil {
			tb.Fatal(err)
		}
		return
	}
	lock := s.inbox + ".lock"
	deadline := time.Now().Add(readLimit)
	for {
		lf, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
		if err == nil {
			// Another host's name: this process is the server's too, and
			// a lock naming its PID on its host would be judged left by
			// an earlier process of that PID, and broken.
			fmt.Fprintf(lf, "%d deliver.test\n", os.Getpid())
			lf.Close()
			break
		}
		if !errors.Is(err, os.ErrExist) || time.Now().After(deadline) {
			tb.Fatalf("dot-lock %s: %v", lock, err)
		}
		time.Sleep(time.Millisecond) // polling a lock, as every mail program does
	}
	defer os.Remove(lock)
	f, err := os.OpenFile(s.inbox, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if err := filelock.Lock(f, filelock.Exclusive); err != nil {
		tb.Fatal(err)
	}
	defer filelock.Unlock(f)
	from := "From mta@example.com Mon Dec  7 10:00:00 2026\n"
	if _, err := f.WriteString(from + msg + "\n"); err != nil {
		tb.Fatal(err)
	}
}

func appendLiteral(subject string) string {
	return fmt.Sprintf("From: bob@example.com\r\nTo: alice@demo.example\r\nSubject: %s\r\n\r\nappended\r\n", subject)
}

var appendUIDRE = regexp.MustCompile(`APPENDUID \d+ (\d+)`)

// work runs ops random operations on one session.
func (s *sharedSite) work(sc *sharedClient, rng *rand.Rand, ops int) {
	tb := sc.m.tb
	known := func() []uint32 {
		var u []uint32
		for _, e := range sc.m.msgs {
			if e.uid != 0 {
				u = append(u, e.uid)
			}
		}
		return u
	}
	for range ops {
		switch op := rng.IntN(10); op {
		case 0, 1: // a flag change by UID
			u := known()
			if len(u) == 0 {
				continue
			}
			flag := []string{`\Flagged`, `\Answered`, `$Work`, `$Home`}[rng.IntN(4)]
			sign := "+-"[rng.IntN(2)]
			sc.cmd(false, "UID STORE %d %cFLAGS (%s)", u[rng.IntN(len(u))], sign, flag)
		case 2: // by sequence number
			if n := len(sc.m.msgs); n > 0 {
				sc.cmd(true, `STORE %d +FLAGS (\Seen)`, rng.IntN(n)+1)
			}
		case 3:
			if len(sc.m.msgs) > 0 {
				sc.cmd(true, "FETCH 1:* (UID FLAGS)")
			}
		case 4: // APPEND, one of two to be deleted later
			kind := []string{"keep", "del"}[rng.IntN(2)]
			lit := appendLiteral(s.name(kind))
			tagged, _ := sc.cmd(false, "APPEND INBOX {%d+}\r\n%s", len(lit), lit)
			if r := appendUIDRE.FindStringSubmatch(tagged); r != nil && kind == "del" {
				uid, _ := strconv.ParseUint(r[1], 10, 32)
				s.mu.Lock()
				s.deletable = append(s.deletable, uint32(uid))
				s.mu.Unlock()
			}
		case 5: // flag a deletable message and expunge
			s.mu.Lock()
			var uid uint32
			if len(s.deletable) > 0 {
				uid = s.deletable[rng.IntN(len(s.deletable))]
			}
			s.mu.Unlock()
			if uid == 0 {
				continue
			}
			sc.cmd(false, `UID STORE %d +FLAGS (\Deleted)`, uid)
			if rng.IntN(2) == 0 {
				sc.cmd(false, "EXPUNGE")
			} else {
				sc.cmd(false, "UID EXPUNGE %d", uid)
			}
		case 6:
			sc.cmd(false, "NOOP")
		case 7: // IDLE until the mail another program delivers shows
			tag := sc.c.NextTag()
			sc.c.Send(tag + " IDLE")
			if l := sc.c.Response(); !strings.HasPrefix(l, "+") {
				tb.Fatalf("IDLE: %s", l)
			}
			before := len(sc.m.msgs)
			s.deliver(tb)
			for {
				l := sc.c.Response()
				sc.m.apply(l, false)
				if existsRE.MatchString(l) && len(sc.m.msgs) > 0 {
					break
				}
			}
			_ = before
			sc.c.Send("DONE")
			sc.collect(tag, false)
		case 8:
			s.deliver(tb)
		case 9:
			sc.cmd(false, "UID FETCH 1:* (FLAGS)")
		}
	}
}

// truth is the mailbox as a fresh session reads it: UID -> flags, and
// the subjects.
func truth(t *testing.T, c *imaptest.Conn) (map[uint32]string, []string) {
	t.Helper()
	c.OK("EXAMINE INBOX")
	r := c.OK("UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
	flags := map[uint32]string{}
	var subjects []string
	subjRE := regexp.MustCompile(`Subject: (\S+)`)
	for _, l := range r.Untagged {
		if !strings.Contains(l, " FETCH ") {
			continue
		}
		u := uidRE.FindStringSubmatch(l)
		f := flagsRE.FindStringSubmatch(l)
		s := subjRE.FindStringSubmatch(l)
		if u == nil || f == nil || s == nil {
			t.Fatalf("truth: %q", l)
		}
		uid, _ := strconv.ParseUint(u[1], 10, 32)
		flags[uint32(uid)] = normFlags(f[1])
		subjects = append(subjects, s[1])
	}
	return flags, subjects
}

// runShared runs n sessions (from connect) with ops operations each, and
// checks the outcome.
func runShared(t *testing.T, inbox string, maildir bool, n, ops int, connect func(tb testing.TB) *imaptest.Conn) {
	site := &sharedSite{inbox: inbox, maildir: maildir}
	// Some mail to start with, none of it to be deleted.
	setup := connect(t)
	setup.OK("LOGIN alice alice-secret")
	var keep []string
	for range 5 {
		subj := site.name("keep")
		keep = append(keep, subj)
		lit := appendLiteral(subj)
		setup.OK("APPEND INBOX {%d+}\r\n%s", len(lit), lit)
	}
	setup.OK("LOGOUT")

	var mu sync.Mutex
	var errs []string
	clients := make([]*sharedClient, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tb := goTB{TB: t, name: fmt.Sprintf("session %d", i), mu: &mu, errs: &errs}
			sc := &sharedClient{c: connect(tb), m: model{tb: tb}}
			clients[i] = sc
			sc.cmd(false, "LOGIN alice alice-secret")
			tagged, _ := sc.cmd(false, "SELECT INBOX")
			if !strings.HasPrefix(tagged, "OK [READ-WRITE]") {
				tb.Fatalf("SELECT: %s", tagged)
			}
			site.work(sc, rand.New(rand.NewPCG(uint64(i), 42)), ops)
			// Catch up: NOOP says what happened, then every flag.
			sc.cmd(false, "NOOP")
		}()
	}
	// Another program delivers meanwhile.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tb := goTB{TB: t, name: "delivery", mu: &mu, errs: &errs}
		for range ops / 4 {
			site.deliver(tb)
		}
	}()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d failures:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	// Quiet now: every session saves what it has not (CHECK), then
	// catches up with everything.
	for _, command := range []string{"CHECK", "NOOP"} {
		for _, sc := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sc.cmd(false, "%s", command)
			}()
			wg.Wait()
		}
	}
	fresh := connect(t)
	fresh.OK("LOGIN alice alice-secret")
	want, subjects := truth(t, fresh)
	// What each session was told unasked (FETCH FLAGS of the others'
	// changes, EXPUNGE, EXISTS) already agrees with the file.
	for i, sc := range clients {
		if len(sc.m.msgs) != len(want) {
			t.Errorf("session %d knows %d messages, the file holds %d: %s", i, len(sc.m.msgs), len(want), &sc.m)
		}
		for _, e := range sc.m.msgs {
			if f, ok := want[e.uid]; e.uid != 0 && e.flags != "?" && (!ok || f != e.flags) {
				t.Errorf("session %d: UID %d has flags %q, the file %q (ok %v)", i, e.uid, e.flags, f, ok)
			}
		}
	}
	for _, sc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if len(sc.m.msgs) > 0 {
				sc.cmd(false, "UID FETCH 1:* (FLAGS)")
			}
		}()
		wg.Wait()
	}
	if len(errs) > 0 {
		t.Fatalf("%d failures:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	for i, sc := range clients {
		got := map[uint32]string{}
		for _, e := range sc.m.msgs {
			got[e.uid] = e.flags
		}
		if len(got) != len(sc.m.msgs) || !mapsEqual(got, want) {
			t.Errorf("session %d sees %s\nthe file holds %v", i, &sc.m, want)
		}
	}
	// Nothing lost: every message not appended to be deleted is there,
	// once; every subject once.
	seen := map[string]int{}
	for _, s := range subjects {
		seen[s]++
	}
	for s, k := range seen {
		if k != 1 {
			t.Errorf("%s is %d times in the mailbox", s, k)
		}
	}
	for _, s := range keep {
		if seen[s] != 1 {
			t.Errorf("%s lost", s)
		}
	}
	delivered := 0
	for s := range seen {
		if strings.HasPrefix(s, "dlv-") {
			delivered++
		}
	}
	if int64(delivered) != site.deliveries.Load() {
		t.Errorf("%d delivered messages in the mailbox, %d delivered", delivered, site.deliveries.Load())
	}
	for _, sc := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.c.OK("LOGOUT")
		}()
		wg.Wait()
	}
	if len(errs) > 0 {
		t.Fatalf("%d failures:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	fresh.OK("LOGOUT")
}

func mapsEqual(a, b map[uint32]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestSharedSessions: 2 and 5 sessions of one -listen process, in the
// suite's storage format.
func TestSharedSessions(t *testing.T) {
	for _, n := range []int{2, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, "imapd_shared_mailboxes true")
			runShared(t, e.inbox(), format == fmtMaildir, n, 60, func(tb testing.TB) *imaptest.Conn {
				c := imaptest.Dial(tb, e.addr)
				c.Greeting("* OK")
				return c
			})
		})
	}
}

// imapdBin builds the imapd command for one test.
func imapdBin(t *testing.T) (string, error) {
	p := filepath.Join(t.TempDir(), "imapd")
	out, err := exec.Command("go", "build", "-o", p, "imapd/cmd/imapd").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build imapd: %v\n%s", err, out)
	}
	return p, nil
}

// TestSharedProcesses: the same, each session its own imapd process on
// pipes (inetd mode): they meet through the file and the shared session
// lock only.
func TestSharedProcesses(t *testing.T) {
	bin, err := imapdBin(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, "imapd_shared_mailboxes true")
			// Fewer operations: an IDLE here waits for the poll tick
			// (another process cannot wake it).
			runShared(t, e.inbox(), format == fmtMaildir, n, 30, func(tb testing.TB) *imaptest.Conn {
				return spawnInetd(tb, bin, e.site.Config)
			})
		})
	}
}

// spawnInetd runs imapd as inetd does, the connection on its stdin and
// stdout (pipes here).
func spawnInetd(tb testing.TB, bin, conf string) *imaptest.Conn {
	inR, inW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-i", conf)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	inR.Close()
	outW.Close()
	tb.Cleanup(func() {
		inW.Close()
		cmd.Wait()
	})
	c := imaptest.Pipes(tb, outR, inW)
	c.Greeting("* OK")
	return c
}
