package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sampler polls /proc (linux) for the memory of a server's process tree:
// the root process and every descendant (dovecot's imap, login, auth...
// processes; imapd's per-connection session processes and their external
// authenticators). Where /proc is missing it records nothing.
type sampler struct {
	root     int
	interval time.Duration
	quit     chan struct{}
	done     chan struct{}

	mu    sync.Mutex
	phase string
	p     peaks
}

type peaks struct {
	total     int64            // highest sum of VmRSS in one sample
	phase     map[string]int64 // the same per phase
	maxHWM    int64            // highest VmHWM of one process
	processes int              // distinct pids seen
}

func startSampler(root int, interval time.Duration) *sampler {
	s := &sampler{root: root, interval: interval, quit: make(chan struct{}), done: make(chan struct{}),
		p: peaks{phase: map[string]int64{}}}
	go s.loop()
	return s
}

// mark starts a phase; the sample is taken at once so that a short phase
// is not missed entirely.
func (s *sampler) mark(phase string) {
	s.mu.Lock()
	s.phase = phase
	s.mu.Unlock()
	s.sample(map[int]bool{})
}

func (s *sampler) loop() {
	defer close(s.done)
	seen := map[int]bool{}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		s.sample(seen)
		select {
		case <-s.quit:
			s.sample(seen)
			return
		case <-t.C:
		}
	}
}

func (s *sampler) stop() peaks {
	close(s.quit)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p
}

func (s *sampler) sample(seen map[int]bool) {
	var sum, hwm int64
	pids := tree(s.root)
	for _, pid := range pids {
		rss, h, ok := memOf(pid)
		if !ok {
			continue
		}
		sum += rss
		if h > hwm {
			hwm = h
		}
		seen[pid] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sum > s.p.total {
		s.p.total = sum
	}
	if s.phase != "" && sum > s.p.phase[s.phase] {
		s.p.phase[s.phase] = sum
	}
	if hwm > s.p.maxHWM {
		s.p.maxHWM = hwm
	}
	if len(seen) > s.p.processes {
		s.p.processes = len(seen)
	}
}

// tree is root and its descendants, from /proc/<pid>/task/<tid>/children.
func tree(root int) []int {
	out := []int{root}
	for i := 0; i < len(out) && i < 10000; i++ {
		tasks, _ := filepath.Glob(filepath.Join("/proc", strconv.Itoa(out[i]), "task", "*", "children"))
		for _, t := range tasks {
			b, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					out = append(out, pid)
				}
			}
		}
	}
	return out
}

// memOf reads VmRSS and VmHWM (bytes) from /proc/<pid>/status.
func memOf(pid int) (rss, hwm int64, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, found := strings.Cut(line, ":")
		if !found || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if k == "VmRSS" {
			rss = n * 1024
		} else {
			hwm = n * 1024
		}
	}
	return rss, hwm, true
}

// pssOf reads the proportional set size (bytes) from
// /proc/<pid>/smaps_rollup: the process's private pages plus its share of
// the pages it shares (the binary's text, libraries) with other processes.
func pssOf(pid int) (int64, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, found := strings.Cut(line, ":")
		if !found || k != "Pss" {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			break
		}
		return n * 1024, true
	}
	return 0, false
}

// sessionPSS is the PSS of srv's session processes (below the root process,
// named imapd or imap: imapd's per-connection processes, Dovecot's imap
// processes) and how many there are; with none (sessions served inside the
// daemon) it is the PSS of the whole process tree and 0.
func sessionPSS(srv *server) (int64, int) {
	var sum, all int64
	n := 0
	for i, pid := range tree(srv.pid()) {
		p, ok := pssOf(pid)
		if !ok {
			continue
		}
		all += p
		if i == 0 {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
		switch strings.TrimSpace(string(comm)) {
		case "imapd", "imap":
			sum += p
			n++
		}
	}
	if n == 0 {
		return all, 0
	}
	return sum, n
}
