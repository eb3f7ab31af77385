package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// countMessages counts the "From " lines that start messages (first line,
// or after a blank line), as both servers split the file.
func countMessages(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open mbox %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	n, prevBlank := 0, true
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if prevBlank && bytes.HasPrefix(line, []byte("From ")) {
				n++
			}
			prevBlank = len(bytes.TrimRight(line, "\r\n")) == 0
		}
		if err == bufio.ErrBufferFull {
			// a long line: the rest of it is no separator
			for err == bufio.ErrBufferFull {
				_, err = r.ReadSlice('\n')
			}
			prevBlank = false
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read mbox %s: %w", path, err)
		}
	}
}

// report is the Markdown table of medians: a column per server, and the
// ratio of each imapd variant to dovecot (above 1: imapd is slower).
func report(o *options, count int, all []*result) string {
	by := map[string][]*result{}
	for _, r := range all {
		by[r.Server] = append(by[r.Server], r)
	}
	var steps []string
	seen := map[string]bool{}
	for _, r := range all {
		for _, s := range r.Steps {
			if !seen[s.Name] {
				seen[s.Name] = true
				steps = append(steps, s.Name)
			}
		}
	}
	stepMedian := func(server, name string) float64 {
		var v []float64
		for _, r := range by[server] {
			for _, s := range r.Steps {
				if s.Name == name {
					v = append(v, s.Dur.Seconds())
				}
			}
		}
		return median(v)
	}
	valMedian := func(server string, f func(*result) float64) float64 {
		var v []float64
		for _, r := range by[server] {
			v = append(v, f(r))
		}
		return median(v)
	}
	// Ratios are against Dovecot: "dovecot" (passwd-file, -listen
	// comparison) when it ran, else "dovecot-unix" (the inetd comparison).
	ref := ""
	for _, c := range []string{"dovecot", "dovecot-unix"} {
		if len(by[c]) > 0 {
			ref = c
			break
		}
	}
	var ratioOf []string
	for _, s := range o.servers {
		if ref != "" && !strings.HasPrefix(s, "dovecot") {
			ratioOf = append(ratioOf, s)
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Suites %s; %d runs per server (median), interleaved; %s/%s, %d CPUs; %s.",
		strings.Join(o.suites, ","), o.runs, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 MST"))
	if o.mbox != "" {
		fmt.Fprintf(&b, " Mailbox: %d messages, %s.", count, sizeOf(o.mbox))
	}
	if o.has("steps") {
		fmt.Fprintf(&b, " %d concurrent connections in the last step.", o.conc)
	}
	if len(o.users) > 0 {
		fmt.Fprintf(&b, " %d users, each INBOX %d messages, %s.", len(o.users), o.mixedCount, sizeOf(o.mixedMbox))
	}
	b.WriteString(" Times and sizes: lower is better; rates (per second): higher is better.\n\n")
	b.WriteString("| step |")
	for _, s := range o.servers {
		fmt.Fprintf(&b, " %s median |", s)
	}
	for _, s := range ratioOf {
		fmt.Fprintf(&b, " ratio %s/%s |", s, ref)
	}
	b.WriteString("\n|---|")
	for range o.servers {
		b.WriteString("---:|")
	}
	for range ratioOf {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	row := func(label string, val func(server string) float64, format func(float64) string) {
		fmt.Fprintf(&b, "| %s |", label)
		for _, s := range o.servers {
			fmt.Fprintf(&b, " %s |", format(val(s)))
		}
		for _, s := range ratioOf {
			d := val(ref)
			if d == 0 {
				b.WriteString(" - |")
			} else {
				fmt.Fprintf(&b, " %.2f |", val(s)/d)
			}
		}
		b.WriteString("\n")
	}
	secs := func(v float64) string {
		if v < 1 {
			return fmt.Sprintf("%.1f ms", v*1000)
		}
		return fmt.Sprintf("%.3f s", v)
	}
	for _, name := range steps {
		name := name
		row(name, func(s string) float64 { return stepMedian(s, name) }, secs)
	}
	if o.has("steps") {
		row("**total of steps**", func(s string) float64 {
			return valMedian(s, func(r *result) float64 { return r.total().Seconds() })
		}, secs)
	}
	for _, k := range mapKeys(all, func(r *result) map[string]float64 { return r.Rates }) {
		row(k, func(s string) float64 {
			return valMedian(s, func(r *result) float64 { return r.Rates[k] })
		}, func(v float64) string { return fmt.Sprintf("%.1f", v) })
	}
	kib := func(v float64) string { return fmt.Sprintf("%.0f KiB", v/1024) }
	for _, k := range mapKeys(all, func(r *result) map[string]float64 { return r.Values }) {
		f := secs
		if strings.Contains(k, "PSS") {
			f = kib
		}
		row(k, func(s string) float64 {
			return valMedian(s, func(r *result) float64 { return r.Values[k] })
		}, f)
	}
	mb := func(v float64) string { return fmt.Sprintf("%.1f MiB", v/(1<<20)) }
	if o.has("steps") || o.has("big") {
		row("peak RSS, all server processes, single session", func(s string) float64 {
			return valMedian(s, func(r *result) float64 { return float64(r.PeakRSSSession) })
		}, mb)
	}
	if o.has("steps") {
		row(fmt.Sprintf("peak RSS, all server processes, %d concurrent", o.conc), func(s string) float64 {
			return valMedian(s, func(r *result) float64 { return float64(r.PeakRSSConcurrent) })
		}, mb)
	}
	for _, ph := range []string{"mixed", "logins", "conn"} {
		if o.has(ph) {
			row("peak RSS, all server processes, "+ph, func(s string) float64 {
				return valMedian(s, func(r *result) float64 { return float64(r.PeakRSSPhase[ph]) })
			}, mb)
		}
	}
	row("largest single process VmHWM", func(s string) float64 {
		return valMedian(s, func(r *result) float64 { return float64(r.MaxProcessHWM) })
	}, mb)
	row("server processes seen", func(s string) float64 {
		return valMedian(s, func(r *result) float64 { return float64(r.Processes) })
	}, func(v float64) string { return fmt.Sprintf("%.0f", v) })

	// What the servers answered, so a difference in work done shows.
	var keys []string
	kseen := map[string]bool{}
	for _, r := range all {
		for k := range r.Checks {
			if !kseen[k] {
				kseen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	b.WriteString("\nAnswers (first run of each server):\n\n| check |")
	for _, s := range o.servers {
		fmt.Fprintf(&b, " %s |", s)
	}
	b.WriteString("\n|---|")
	for range o.servers {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "| %s |", k)
		for _, s := range o.servers {
			v := "-"
			if len(by[s]) > 0 {
				v = by[s][0].Checks[k]
			}
			fmt.Fprintf(&b, " %s |", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mapKeys is the sorted union of the keys of one map of every result.
func mapKeys(all []*result, m func(*result) map[string]float64) []string {
	seen := map[string]bool{}
	var keys []string
	for _, r := range all {
		for k := range m(r) {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func sizeOf(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "size unknown"
	}
	return fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6)
}
