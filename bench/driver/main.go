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
	flag.StringVar(&servers, "servers", "imapd,imapd-inproc,dovecot", "servers to run, in order: imapd (default config), imapd-inproc (imapd_become_user false: sessions as goroutines), dovecot")
	flag.StringVar(&o.workdir, "workdir", "", "scratch directory (default: a new temporary one, removed at the end)")
	flag.DurationVar(&o.timeout, "timeout", 20*time.Minute, "deadline of one server run; the server is killed after it")
	flag.StringVar(&o.out, "out", "", "also write the Markdown table to this file")
	flag.StringVar(&o.jsonOut, "json", "", "write every measurement as JSON to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep each run's directory (mailboxes, configurations, logs) in -workdir")
	flag.Parse()
	o.servers = strings.Split(servers, ",")
	if o.mbox == "" {
		fmt.Fprintln(os.Stderr, "driver: -mbox is required")
		return 2
	}
	for _, s := range o.servers {
		switch s {
		case "imapd", "imapd-inproc":
			if o.imapd == "" || o.cryptauth == "" {
				fmt.Fprintln(os.Stderr, "driver: -imapd and -cryptauth are required for", s)
				return 2
			}
		case "dovecot":
		default:
			fmt.Fprintf(os.Stderr, "driver: unknown server %q\n", s)
			return 2
		}
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
	count, err := countMessages(o.mbox)
	if err != nil {
		fmt.Fprintf(os.Stderr, "driver: %v\n", err)
		return 1
	}
	if count < 100 {
		fmt.Fprintf(os.Stderr, "driver: the mailbox has %d messages; it needs at least 100\n", count)
		return 2
	}
	if o.copyN > count/2 || o.expungeN > count/2 {
		o.copyN, o.expungeN = min(o.copyN, count/2), min(o.expungeN, count/2)
		fmt.Fprintf(os.Stderr, "driver: small mailbox: copying %d and expunging %d messages\n", o.copyN, o.expungeN)
	}
	fmt.Fprintf(os.Stderr, "driver: %s: %d messages; servers %s; %d runs\n", o.mbox, count, strings.Join(o.servers, ","), o.runs)

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
			fmt.Fprintf(os.Stderr, "driver: run %d %-12s total %8.3fs  peak RSS %s\n", r+1, name, res.total().Seconds(), mib(res.PeakRSSTotal))
		}
	}
	table := report(&o, count, all)
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
	res := &result{Server: name, Run: r + 1, Checks: map[string]string{}}
	sampler := startSampler(srv.pid(), 20*time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- workload(o, srv, count, res, sampler) }()
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
	Checks            map[string]string // what the server answered, to compare
	PeakRSSTotal      int64             // bytes: highest sum of VmRSS over the server's processes
	PeakRSSSession    int64             // the same during the single-session steps
	PeakRSSConcurrent int64             // the same during the concurrent step
	MaxProcessHWM     int64             // bytes: highest VmHWM of any one server process
	Processes         int               // server processes seen
}

type step struct {
	Name string
	Dur  time.Duration
}

func (r *result) total() time.Duration {
	var t time.Duration
	for _, s := range r.Steps {
		t += s.Dur
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
