package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"imapd/auth"
)

// The suites: what runs against each started server, in the order given.
var knownSuites = map[string]bool{"steps": true, "big": true, "mixed": true, "logins": true, "conn": true}

// inetdServers are the servers whose users are real unix users: a process
// per connection started by systemd-socket-activate (imapd) or by Dovecot,
// passwords checked against /etc/shadow.
var inetdServers = map[string]bool{"imapd-inetd": true, "dovecot-unix": true}

func (o *options) has(suite string) bool { return slices.Contains(o.suites, suite) }

// unixUsers tells whether the run needs real unix users (useradd).
func (o *options) unixUsers() bool {
	return slices.ContainsFunc(o.servers, func(s string) bool { return inetdServers[s] })
}

// validate checks the flags; it returns what is wrong, or "".
func (o *options) validate() string {
	for _, s := range o.suites {
		if !knownSuites[s] {
			return fmt.Sprintf("unknown suite %q", s)
		}
	}
	for _, s := range o.servers {
		switch s {
		case "imapd", "imapd-inproc":
			if o.imapd == "" || o.cryptauth == "" {
				return "-imapd and -cryptauth are required for " + s
			}
		case "imapd-inetd":
			if o.imapd == "" {
				return "-imapd is required for " + s
			}
			if _, err := exec.LookPath("systemd-socket-activate"); err != nil {
				return "imapd-inetd needs systemd-socket-activate (Debian package systemd)"
			}
		case "dovecot", "dovecot-unix":
		default:
			return fmt.Sprintf("unknown server %q", s)
		}
		if inetdServers[s] && (o.has("steps") || o.has("big")) {
			return fmt.Sprintf("the steps and big suites run on the -listen servers (imapd, imapd-inproc, dovecot), not on %s", s)
		}
	}
	if (o.has("steps") || o.has("big")) && o.mbox == "" {
		return "-mbox is required by the steps and big suites"
	}
	if (o.has("mixed") || o.has("logins") || o.has("conn")) && o.mixedMbox == "" {
		return "-mixed-mbox is required by the mixed, logins and conn suites"
	}
	if o.mixedUsers < 1 || o.mixedClients < 1 || o.mixedCycles < 1 || o.loginClients < 1 || o.loginN < 1 || o.connN < 1 || o.pssN < 0 {
		return "-users, -clients, -cycles, -login-clients, -logins and -conn must be at least 1"
	}
	if o.mixedClients > o.mixedUsers {
		return "-clients must not exceed -users (each user belongs to one client, so no two clients share a mailbox)"
	}
	return ""
}

// benchAccount is a user of the many-user suites.
type benchAccount struct {
	Name, Password string
	Hash           string // SHA-512 crypt of Password: cryptauth's file and Dovecot's passwd-file
	UID, GID       int    // real unix users only
	Home           string // real unix users only
}

// benchAccounts names o.mixedUsers users. Real unix users get a prefix no
// system account has, so that createUnixUsers can refuse to touch others.
func benchAccounts(o *options) []benchAccount {
	if o.mixedMbox == "" {
		return nil
	}
	prefix := "bench"
	if o.unixUsers() {
		prefix = unixUserPrefix
	}
	users := make([]benchAccount, o.mixedUsers)
	for i := range users {
		name := fmt.Sprintf("%s%03d", prefix, i)
		users[i] = benchAccount{Name: name, Password: "pw-" + name + "-secret", UID: -1, GID: -1}
	}
	return users
}

// hashAll fills in the SHA-512 crypt hashes (once per driver run).
func hashAll(users []benchAccount) error {
	for i := range users {
		if users[i].Hash != "" {
			continue
		}
		h, err := auth.HashPassword(users[i].Password)
		if err != nil {
			return err
		}
		users[i].Hash = h
	}
	return nil
}

// runSuites runs o.suites against one started server.
func runSuites(o *options, srv *server, count int, res *result, smp *sampler) error {
	for _, s := range o.suites {
		var err error
		switch s {
		case "steps":
			err = workload(o, srv, count, res, smp)
		case "big":
			smp.mark("session")
			err = bigSuite(srv, count, res)
		case "mixed":
			smp.mark("mixed")
			err = mixedSuite(o, srv, res)
		case "logins":
			smp.mark("logins")
			err = loginsSuite(o, srv, res)
		case "conn":
			smp.mark("conn")
			err = connSuite(o, srv, res)
		}
		smp.mark("")
		if err != nil {
			return fmt.Errorf("%s suite: %w", s, err)
		}
	}
	return nil
}

func addStep(res *result, suite, name string, d time.Duration) {
	res.Steps = append(res.Steps, step{Name: name, Dur: d, Suite: suite})
}

// bigSuite is the large-mailbox case: the first SELECT (imapd stamps UIDs
// or builds its index, Dovecot builds its index), a repeat SELECT of the
// unchanged mailbox, and UID FETCH 1:* (FLAGS).
func bigSuite(srv *server, count int, res *result) error {
	c, err := dialLogin(srv.addr, benchUser, benchPassword)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, name := range []string{"SELECT INBOX (first)", "SELECT INBOX again"} {
		start := time.Now()
		sel, err := c.Select("INBOX", nil).Wait()
		addStep(res, "big", fmt.Sprintf("%d messages: %s", count, name), time.Since(start))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res.Checks["big: SELECT EXISTS"] = fmt.Sprint(sel.NumMessages)
		if int(sel.NumMessages) != count {
			return fmt.Errorf("%s says %d messages, the mbox has %d", name, sel.NumMessages, count)
		}
	}
	all := imap.UIDSet{}
	all.AddRange(1, 0)
	start := time.Now()
	msgs, err := c.Fetch(all, &imap.FetchOptions{UID: true, Flags: true}).Collect()
	addStep(res, "big", fmt.Sprintf("%d messages: UID FETCH 1:* (FLAGS)", count), time.Since(start))
	if err != nil {
		return fmt.Errorf("UID FETCH: %w", err)
	}
	flagged := 0
	for _, m := range msgs {
		flagged += len(m.Flags)
	}
	res.Checks["big: UID FETCH messages"] = fmt.Sprint(len(msgs))
	res.Checks["big: flags answered"] = fmt.Sprint(flagged)
	if len(msgs) != count {
		return fmt.Errorf("UID FETCH 1:*: %d messages, want %d", len(msgs), count)
	}
	// The same FETCH read as bytes, not decoded: the client's decoding
	// of 50,000 responses (go-imap's, above) is most of that step's time
	// and the same for every server; this is the server's part.
	d, lines, err := rawCommand(srv.addr, "EXAMINE INBOX", "UID FETCH 1:* (FLAGS)")
	if err != nil {
		return fmt.Errorf("UID FETCH (raw): %w", err)
	}
	addStep(res, "big", fmt.Sprintf("%d messages: UID FETCH 1:* (FLAGS), responses read, not decoded", count), d)
	res.Checks["big: UID FETCH lines (raw)"] = fmt.Sprint(lines)
	if lines != count {
		return fmt.Errorf("UID FETCH 1:* (raw): %d FETCH lines, want %d", lines, count)
	}
	return c.Logout().Wait()
}

// rawCommand logs in on a new connection, opens INBOX with open (EXAMINE
// or SELECT INBOX) and times cmd from sending it to reading its tagged OK,
// the responses only split into lines and their FETCH lines counted.
func rawCommand(addr, open, cmd string) (time.Duration, int, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(time.Minute)) // as greetingLatency: a server that stops answering fails the run
	r := bufio.NewReaderSize(nc, 256<<10)
	// until reads lines up to the one starting with prefix and counts the
	// untagged FETCH lines before it.
	until := func(prefix string) (int, error) {
		n := 0
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return n, err
			}
			if bytes.HasPrefix(line, []byte(prefix)) {
				if !bytes.HasPrefix(line[len(prefix):], []byte("OK")) {
					return n, fmt.Errorf("%q", line)
				}
				return n, nil
			}
			if bytes.Contains(line, []byte(" FETCH (")) {
				n++
			}
		}
	}
	if _, err := until("* "); err != nil {
		return 0, 0, fmt.Errorf("greeting: %w", err)
	}
	fmt.Fprintf(nc, "a LOGIN %s %s\r\n", benchUser, benchPassword)
	if _, err := until("a "); err != nil {
		return 0, 0, fmt.Errorf("LOGIN: %w", err)
	}
	fmt.Fprintf(nc, "b %s\r\n", open)
	if _, err := until("b "); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", open, err)
	}
	start := time.Now()
	fmt.Fprintf(nc, "c %s\r\n", cmd)
	n, err := until("c ")
	d := time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	fmt.Fprintf(nc, "d LOGOUT\r\n")
	return d, n, nil
}

// mixedTally is what the mixed load's answers added up to; every server
// must give the same (each user's mailbox is only touched by one client, in
// a fixed order, so the answers do not depend on timing).
type mixedTally struct {
	mu                                 sync.Mutex
	cycles, list, statusMsgs, unseen   int
	exists, fetched, expunged, appends int
	size                               int64
}

// commandsPerCycle is LOGIN, LIST, STATUS, SELECT, FETCH, STORE, EXPUNGE,
// APPEND, LOGOUT.
const commandsPerCycle = 9

// mixedSuite is the multi-user mixed load: o.mixedClients clients at once,
// each doing o.mixedCycles cycles over the users it owns (user u belongs to
// client u % clients). Reported as IMAP commands per second of wall time.
func mixedSuite(o *options, srv *server, res *result) error {
	users := o.users
	clients := o.mixedClients
	label := fmt.Sprintf("mixed: %d users, %d clients x %d cycles", len(users), clients, o.mixedCycles)
	var t mixedTally
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for i := 0; i < clients; i++ {
		var own []benchAccount
		for u := i; u < len(users); u += clients {
			own = append(own, users[u])
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < o.mixedCycles; k++ {
				if err := mixedCycle(srv.addr, own[k%len(own)], i, k, &t); err != nil {
					errs <- fmt.Errorf("client %d cycle %d (%s): %w", i, k, own[k%len(own)].Name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if err := firstError(errs); err != nil {
		return err
	}
	addStep(res, "mixed", label, wall)
	res.Rates[label+": commands/s"] = float64(t.cycles*commandsPerCycle) / wall.Seconds()
	res.Checks["mixed: cycles"] = fmt.Sprint(t.cycles)
	res.Checks["mixed: LIST entries"] = fmt.Sprint(t.list)
	res.Checks["mixed: STATUS MESSAGES sum"] = fmt.Sprint(t.statusMsgs)
	res.Checks["mixed: STATUS UNSEEN sum"] = fmt.Sprint(t.unseen)
	res.Checks["mixed: SELECT EXISTS sum"] = fmt.Sprint(t.exists)
	res.Checks["mixed: FETCH messages"] = fmt.Sprint(t.fetched)
	res.Checks["mixed: FETCH RFC822.SIZE sum"] = fmt.Sprint(t.size)
	res.Checks["mixed: EXPUNGE responses"] = fmt.Sprint(t.expunged)
	res.Checks["mixed: APPENDs"] = fmt.Sprint(t.appends)
	return nil
}

// mixedMessage is what cycle k of client i appends.
func mixedMessage(user string, i, k int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Load Generator <load@bench.example>\r\nTo: %s@bench.example\r\n", user)
	fmt.Fprintf(&b, "Subject: mixed load, client %d, cycle %d\r\nMessage-ID: <mixed-%d-%d@bench.example>\r\n", i, k, i, k)
	b.WriteString("Date: Mon, 07 Dec 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	for l := 0; l < 12+k%7; l++ {
		fmt.Fprintf(&b, "Line %d of a message appended by the mixed load of bench/driver.\r\n", l)
	}
	return b.String()
}

// mixedCycle is one cycle: LOGIN, LIST, STATUS, SELECT, FETCH of the last
// ten messages, STORE \Deleted on the first, EXPUNGE, APPEND, LOGOUT. The
// mailbox keeps its size: one message out, one in.
func mixedCycle(addr string, u benchAccount, i, k int, t *mixedTally) error {
	c, err := dialLogin(addr, u.Name, u.Password)
	if err != nil {
		return err
	}
	defer c.Close()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return fmt.Errorf("LIST: %w", err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
	if err != nil {
		return fmt.Errorf("STATUS: %w", err)
	}
	if st.NumMessages == nil || st.NumUnseen == nil {
		return fmt.Errorf("STATUS: MESSAGES or UNSEEN missing")
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		return fmt.Errorf("SELECT: %w", err)
	}
	n := sel.NumMessages
	if n < 2 {
		return fmt.Errorf("SELECT: %d messages", n)
	}
	last := imap.SeqSet{}
	last.AddRange(max(1, n-9), n)
	msgs, err := c.Fetch(last, &imap.FetchOptions{Flags: true, Envelope: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("FETCH: %w", err)
	}
	var size int64
	for _, m := range msgs {
		size += m.RFC822Size
	}
	if err := c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		return fmt.Errorf("STORE: %w", err)
	}
	exp, err := c.Expunge().Collect()
	if err != nil {
		return fmt.Errorf("EXPUNGE: %w", err)
	}
	msg := mixedMessage(u.Name, i, k)
	w := c.Append("INBOX", int64(len(msg)), nil)
	if _, err := w.Write([]byte(msg)); err != nil {
		w.Close()
		return fmt.Errorf("APPEND: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("APPEND: %w", err)
	}
	if _, err := w.Wait(); err != nil {
		return fmt.Errorf("APPEND: %w", err)
	}
	if err := c.Logout().Wait(); err != nil {
		return fmt.Errorf("LOGOUT: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cycles++
	t.list += len(list)
	t.statusMsgs += int(*st.NumMessages)
	t.unseen += int(*st.NumUnseen)
	t.exists += int(n)
	t.fetched += len(msgs)
	t.size += size
	t.expunged += len(exp)
	t.appends++
	return nil
}

// loginsSuite is LOGIN+LOGOUT per second: o.loginClients clients at once,
// each o.loginN times connect, LOGIN, LOGOUT, over the users in turn.
func loginsSuite(o *options, srv *server, res *result) error {
	label := fmt.Sprintf("logins: %d clients x %d connect+LOGIN+LOGOUT", o.loginClients, o.loginN)
	var wg sync.WaitGroup
	errs := make(chan error, o.loginClients)
	var mu sync.Mutex
	ok := 0
	start := time.Now()
	for i := 0; i < o.loginClients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < o.loginN; k++ {
				u := o.users[(i+k*o.loginClients)%len(o.users)]
				if err := loginLogout(srv.addr, u); err != nil {
					errs <- fmt.Errorf("client %d login %d (%s): %w", i, k, u.Name, err)
					return
				}
				mu.Lock()
				ok++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if err := firstError(errs); err != nil {
		return err
	}
	addStep(res, "logins", label, wall)
	res.Rates[label+": per second"] = float64(ok) / wall.Seconds()
	res.Checks["logins: successful"] = fmt.Sprint(ok)
	return nil
}

// dialLogin connects to addr and logs in; the caller closes the client.
func dialLogin(addr, user, password string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("LOGIN: %w", err)
	}
	return c, nil
}

func loginLogout(addr string, u benchAccount) error {
	c, err := dialLogin(addr, u.Name, u.Password)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Logout().Wait()
}

// connSuite measures, one connection at a time, the greeting latency (from
// the start of connect to the greeting line read: in inetd mode a process
// is started in between) and the LOGIN latency (the command's round trip),
// then holds o.pssN sessions open (logged in, INBOX selected) and takes the
// PSS of a session process from /proc/PID/smaps_rollup.
func connSuite(o *options, srv *server, res *result) error {
	var greet, login []float64
	for k := 0; k < o.connN; k++ {
		d, err := greetingLatency(srv.addr)
		if err != nil {
			return fmt.Errorf("greeting %d: %w", k, err)
		}
		greet = append(greet, d.Seconds())
	}
	for k := 0; k < o.connN; k++ {
		u := o.users[k%len(o.users)]
		c, err := imapclient.DialInsecure(srv.addr, nil)
		if err != nil {
			return err
		}
		if err := c.WaitGreeting(); err != nil {
			c.Close()
			return err
		}
		start := time.Now()
		err = c.Login(u.Name, u.Password).Wait()
		login = append(login, time.Since(start).Seconds())
		if err == nil {
			err = c.Logout().Wait()
		}
		c.Close()
		if err != nil {
			return fmt.Errorf("LOGIN %d (%s): %w", k, u.Name, err)
		}
	}
	res.Values[fmt.Sprintf("conn: greeting after connect (median of %d)", o.connN)] = median(greet)
	res.Values[fmt.Sprintf("conn: LOGIN round trip (median of %d)", o.connN)] = median(login)
	if o.pssN == 0 {
		return nil
	}
	before, _ := sessionPSS(srv)
	var held []*imapclient.Client
	defer func() {
		for _, c := range held {
			c.Logout().Wait()
			c.Close()
		}
	}()
	for k := 0; k < o.pssN; k++ {
		u := o.users[k%len(o.users)]
		c, err := dialLogin(srv.addr, u.Name, u.Password)
		if err != nil {
			return fmt.Errorf("PSS session: %w", err)
		}
		held = append(held, c)
		// EXAMINE: the users are shared between the held sessions when
		// -pss exceeds -users, and a second SELECT would throw the first
		// holder out.
		if _, err := c.Select("INBOX", &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
			return fmt.Errorf("EXAMINE (PSS): %w", err)
		}
		if err := c.Noop().Wait(); err != nil {
			return fmt.Errorf("NOOP (PSS): %w", err)
		}
	}
	after, procs := sessionPSS(srv)
	key := fmt.Sprintf("conn: PSS per session (%d sessions logged in, INBOX examined)", o.pssN)
	if procs > 0 {
		// a process per session: the sessions' processes' PSS, averaged
		res.Values[key] = float64(after) / float64(procs)
		res.Checks["conn: session processes"] = fmt.Sprint(procs)
	} else {
		// sessions in the daemon: what the daemon grew by, per session
		res.Values[key] = float64(after-before) / float64(o.pssN)
	}
	return nil
}

// greetingLatency is the time from the start of connect to the end of the
// greeting line.
func greetingLatency(addr string) (time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(line, "* OK") {
		return 0, fmt.Errorf("greeting %q", strings.TrimSpace(line))
	}
	fmt.Fprintf(c, "g LOGOUT\r\n")
	return d, nil
}

// disagreements lists the checks whose answers differ between servers or
// between runs of one server, each as "check: server run=value, ...".
func disagreements(all []*result) []string {
	keys := map[string]bool{}
	for _, r := range all {
		for k := range r.Checks {
			keys[k] = true
		}
	}
	var out []string
	for k := range keys {
		if k == "conn: session processes" { // differs by design (dovecot: none when in one process)
			continue
		}
		vals := map[string]bool{}
		var parts []string
		for _, r := range all {
			v, ok := r.Checks[k]
			if !ok {
				v = "(none)"
			}
			vals[v] = true
			parts = append(parts, fmt.Sprintf("%s run %d=%s", r.Server, r.Run, v))
		}
		if len(vals) > 1 {
			out = append(out, k+": "+strings.Join(parts, ", "))
		}
	}
	sort.Strings(out)
	return out
}

// firstError closes errs, which the clients of a step have finished
// sending on, and returns the first error in it (nil: none).
func firstError(errs chan error) error {
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
