// Command driver is the side-by-side benchmark of imapd against Dovecot
// (bench/README.md): it sets up each server on its own copy of one mbox,
// starts it on 127.0.0.1, runs the same IMAP client workload against it,
// samples the server's memory from /proc, stops it, and prints a Markdown
// table of per-step medians. It is run by bench/run.sh, not by `make test`.
//
// Runs are interleaved (run r serves the servers in the listed order, run
// r+1 in reverse) so that machine noise hits every server alike. Each run
// gets fresh copies of the mailbox and fresh server state, so the first
// SELECT always stamps UIDs / builds indexes from scratch. Everything is
// bounded: each server run has a deadline after which the server is killed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type options struct {
	imapd, cryptauth, dovecot string
	mbox                      string
	runs, conc                int
	bodies, singles, copyN    int
	expungeN, noops           int
	search                    string
	seed                      int64
	servers                   []string
	workdir                   string
	timeout                   time.Duration
	out, jsonOut              string
	keep                      bool

	suites                   []string
	mixedMbox                string
	mixedUsers, mixedClients int
	mixedCycles, mixedCount  int
	loginClients, loginN     int
	connN, pssN              int

	users []benchAccount // the many-user suites' accounts (mixed, logins, conn)
}

func main() {
	os.Exit(run())
}

func run() int {
	var o options
	var servers string
	flag.StringVar(&o.imapd, "imapd", "", "imapd binary")
	flag.StringVar(&o.cryptauth, "cryptauth", "", "cryptauth binary")
	flag.StringVar(&o.dovecot, "dovecot", "/usr/sbin/dovecot", "dovecot binary")
	flag.StringVar(&o.mbox, "mbox", "", "the generated mbox every server gets a copy of")
	flag.IntVar(&o.runs, "runs", 3, "measured runs per server (the median is quoted)")
	flag.IntVar(&o.conc, "conc", 20, "concurrent connections in the last step")
	flag.IntVar(&o.bodies, "bodies", 200, "random full bodies fetched, one FETCH each")
	flag.IntVar(&o.singles, "singles", 500, "single-message STOREs")
	flag.IntVar(&o.noops, "noops", 200, "NOOPs (the fixed cost of a command)")
	flag.IntVar(&o.copyN, "copy", 1000, "messages copied (COPY 1:N)")
	flag.IntVar(&o.expungeN, "expunge", 1000, "messages deleted and expunged (1:N)")
	flag.StringVar(&o.search, "search", "budget", "SEARCH SUBJECT term")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the random message choices (same for every server)")
	flag.StringVar(&servers, "servers", "imapd,imapd-inproc,dovecot", "servers to run, in order: imapd (-listen, default config), imapd-inproc (-listen, imapd_become_user false: sessions as goroutines), dovecot (passwd-file), imapd-inetd (systemd-socket-activate --inetd, unix_user, real users with yescrypt hashes), dovecot-unix (shadow passdb, the same real users)")
	var suites string
	flag.StringVar(&suites, "suites", "steps", "what to run against each server, in order: steps (the single-session steps and the concurrent step, on -mbox), big (first SELECT, repeat SELECT, UID FETCH 1:* (FLAGS) on -mbox), mixed (the multi-user mixed load), logins (LOGIN+LOGOUT per second), conn (greeting and LOGIN latency, PSS of a session process)")
	flag.StringVar(&o.mixedMbox, "mixed-mbox", "", "the mbox every user of the many-user suites gets a copy of as INBOX (needed by mixed, logins, conn)")
	flag.IntVar(&o.mixedUsers, "users", 100, "users of the many-user suites")
	flag.IntVar(&o.mixedClients, "clients", 10, "concurrent clients of the mixed load")
	flag.IntVar(&o.mixedCycles, "cycles", 10, "mixed-load cycles per client (LOGIN, LIST, STATUS, SELECT, FETCH, STORE, EXPUNGE, APPEND, LOGOUT)")
	flag.IntVar(&o.loginClients, "login-clients", 10, "concurrent clients of the logins suite")
	flag.IntVar(&o.loginN, "logins", 50, "connect+LOGIN+LOGOUT per client in the logins suite")
	flag.IntVar(&o.connN, "conn", 20, "sequential connections timed in the conn suite (greeting; LOGIN)")
	flag.IntVar(&o.pssN, "pss", 10, "sessions held open (logged in, INBOX selected) to measure the PSS of a session process in the conn suite")
	flag.StringVar(&o.workdir, "workdir", "", "scratch directory (default: a new temporary one, removed at the end)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "deadline of one server run; the server is killed after it")
	flag.StringVar(&o.out, "out", "", "also write the Markdown table to this file")
	flag.StringVar(&o.jsonOut, "json", "", "write every measurement as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep each run's directory (mailboxes, configurations, logs) in -workdir")
	flag.Parse()
	o.servers = strings.Split(servers, ",")
	o.suites = strings.Split(suites, ",")
	if msg := o.validate(); msg != "" {
		fmt.Fprintln(os.Stderr, "driver:", msg)
		return 2
	}
	if o.workdir == "" {
		d, err := os.MkdirTemp("", "imapd-bench-")
		if err != nil {
			fmt.Fprintf(os.Stderr, "driver: %v\n", err)
			return 1
		}
		if !o.keep {
			defer os.RemoveAll(d)
		}
		o.workdir = d
	}
	// Dovecot's mail processes run as an unprivileged user: they must be
	// able to walk down to their files.
	if err := os.Chmod(o.workdir, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "driver: %v\n", err)
		return 1
	}
	count := 0
	if o.mbox != "" {
		var err error
		if count, err = countMessages(o.mbox); err != nil {
			fmt.Fprintf(os.Stderr, "driver: %v\n", err)
			return 1
		}
	}
	if o.has("steps") && count < 100 {
		fmt.Fprintf(os.Stderr, "driver: the mailbox has %d messages; the steps suite needs at least 100\n", count)
		return 2
	}
	if o.mixedMbox != "" {
		n, err := countMessages(o.mixedMbox)
		if err != nil {
			fmt.Fprintf(os.Stderr, "driver: %v\n", err)
			return 1
		}
		if n < 2 {
			fmt.Fprintf(os.Stderr, "driver: %s has %d messages; the mixed load needs at least 2\n", o.mixedMbox, n)
			return 2
		}
		o.mixedCount = n
	}
	o.users = benchAccounts(&o)
	if err := hashAll(o.users); err != nil {
		fmt.Fprintf(os.Stderr, "driver: %v\n", err)
		return 1
	}
	if o.unixUsers() && len(o.users) > 0 {
		cleanup, err := createUnixUsers(o.users, o.workdir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "driver: %v\n", err)
			return 1
		}
		defer cleanup()
	}
	if o.has("steps") && (o.copyN > count/2 || o.expungeN > count/2) {
		o.copyN, o.expungeN = min(o.copyN, count/2), min(o.expungeN, count/2)
		fmt.Fprintf(os.Stderr, "driver: small mailbox: copying %d and expunging %d messages\n", o.copyN, o.expungeN)
	}
	fmt.Fprintf(os.Stderr, "driver: suites %s; servers %s; %d runs\n", strings.Join(o.suites, ","), strings.Join(o.servers, ","), o.runs)

	var all []*result
	for r := 0; r < o.runs; r++ {
		order := append([]string(nil), o.servers...)
		if r%2 == 1 {
			for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
				order[i], order[j] = order[j], order[i]
			}
		}
		for _, name := range order {
			res, err := runOnce(&o, name, r, count)
			if err != nil {
				fmt.Fprintf(os.Stderr, "driver: run %d %s: %v\n", r+1, name, err)
				return 1
			}
			all = append(all, res)
			fmt.Fprintf(os.Stderr, "driver: run %d %-12s steps %8.3fs  peak RSS %s\n", r+1, name, res.total().Seconds(), mib(res.PeakRSSTotal))
		}
	}
	table := report(&o, count, all)
	if bad := disagreements(all); len(bad) > 0 {
		table += "\n**The servers did not answer the same** (the numbers above are not comparable):\n\n"
		for _, d := range bad {
			table += "- " + d + "\n"
		}
	} else {
		table += "\nEvery server, every run, answered the same.\n"
	}
	fmt.Print(table)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "driver: write %s: %v\n", o.out, err)
			return 1
		}
	}
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(all, "", "  ")
		if err := os.WriteFile(o.jsonOut, b, 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "driver: write %s: %v\n", o.jsonOut, err)
			return 1
		}
	}
	return 0
}

// runOnce sets up a fresh copy of the mailbox for one server, starts it,
// runs the workload, and stops it.
func runOnce(o *options, name string, r, count int) (*result, error) {
	dir := filepath.Join(o.workdir, fmt.Sprintf("%s-run%d", name, r+1))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	srv, err := startServer(o, name, dir)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	res := &result{Server: name, Run: r + 1, Checks: map[string]string{}, Rates: map[string]float64{}, Values: map[string]float64{}}
	sampler := startSampler(srv.pid(), 20*time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- runSuites(o, srv, count, res, sampler) }()
	timer := time.NewTimer(o.timeout)
	defer timer.Stop()
	select {
	case err = <-done:
	case <-timer.C:
		srv.kill() // breaks the client's connections: the workload returns
		<-done
		err = fmt.Errorf("no end after %v: server killed", o.timeout)
	}
	peaks := sampler.stop()
	res.PeakRSSTotal = peaks.total
	res.PeakRSSSession = peaks.phase["session"]
	res.PeakRSSConcurrent = peaks.phase["concurrent"]
	res.PeakRSSPhase = peaks.phase
	res.MaxProcessHWM = peaks.maxHWM
	res.Processes = peaks.processes
	if err != nil {
		return nil, fmt.Errorf("%w (server log: %s)", err, srv.logTail())
	}
	return res, nil
}

// result is one run of the workload against one server.
type result struct {
	Server            string
	Run               int
	Steps             []step
	Checks            map[string]string  // what the server answered, to compare
	Rates             map[string]float64 // per second, higher is better (mixed load, logins)
	Values            map[string]float64 // other measurements (latency medians in seconds, PSS in bytes), lower is better
	PeakRSSTotal      int64              // bytes: highest sum of VmRSS over the server's processes
	PeakRSSSession    int64              // the same during the single-session steps
	PeakRSSConcurrent int64              // the same during the concurrent step
	PeakRSSPhase      map[string]int64   // the same per phase (mixed, logins, conn)
	MaxProcessHWM     int64              // bytes: highest VmHWM of any one server process
	Processes         int                // server processes seen
}

type step struct {
	Name  string
	Dur   time.Duration
	Suite string
}

// total is the sum of the steps suite's steps (of all steps when there are
// none: the big suite).
func (r *result) total() time.Duration {
	var t, all time.Duration
	for _, s := range r.Steps {
		if s.Suite == "steps" {
			t += s.Dur
		}
		all += s.Dur
	}
	if t == 0 {
		return all
	}
	return t
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
