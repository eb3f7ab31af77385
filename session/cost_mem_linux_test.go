package session_test

import (
	"bufio"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkIdleMemory: what an idle connection costs in a -listen daemon
// (issue 10: at most 32 KB): idleConns connections that logged in,
// opened INBOX (EXAMINE: one user) and sit in IDLE. Reported per connection: the growth of
// the process's PSS (smaps_rollup), of the Go heap and stacks in use, and
// the goroutines. The clients are in the same process but hold only their
// sockets.
//
//	go test -run '^$' -bench IdleMemory -benchtime 1x ./session/
func BenchmarkIdleMemory(b *testing.B) {
	const idleConns = 400
	e := newEnv(b)
	// IDLE looks at the mailbox as often as in a daemon (10 s), not every
	// 20 ms as in the other tests: 400 connections polling 50 times a
	// second are not idle, and their polls' garbage and stacks would be
	// measured with them.
	e.stop()
	e.deps.IdlePoll = 0
	e.start()
	settle := func() {
		runtime.GC()
		debug.FreeOSMemory()
	}
	// One connection first, so that the code pages its path touches once
	// (the binary's, shared and counted in PSS) are not divided among the
	// measured ones as if each cost them.
	warm := idleClient(b, e.addr)
	warm.Write([]byte("DONE\r\nZ9 LOGOUT\r\n"))
	warm.Close()
	e.waitClosed(1)
	for b.Loop() {
		settle()
		pss0, heap0, g0 := pss(b), inUse(), runtime.NumGoroutine()
		conns := make([]net.Conn, 0, idleConns)
		for range idleConns {
			conns = append(conns, idleClient(b, e.addr))
		}
		settle()
		pss1, heap1, g1 := pss(b), inUse(), runtime.NumGoroutine()
		if path := os.Getenv("IMAPD_IDLE_HEAPPROFILE"); path != "" {
			// The heap while the connections idle (go tool pprof).
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.StackInuse)/float64(g1), "stack-B/goroutine")
		b.ReportMetric(float64(pss1-pss0)/idleConns, "pss-B/conn")
		b.ReportMetric(float64(heap1-heap0)/idleConns, "heap+stack-B/conn")
		b.ReportMetric(float64(g1-g0)/idleConns, "goroutines/conn")
		if testing.Verbose() {
			b.Logf("pss %d -> %d, heap+stack %d -> %d, goroutines %d -> %d", pss0, pss1, heap0, heap1, g0, g1)
		}
		for _, c := range conns {
			c.Write([]byte("DONE\r\nZ9 LOGOUT\r\n"))
			c.Close()
		}
		e.waitClosed(idleConns)
	}
}

// idleClient logs in, examines INBOX and starts IDLE; it keeps nothing but
// the socket.
func idleClient(b *testing.B, addr string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(readLimit))
	r := bufio.NewReaderSize(c, 1024)
	expect := func(prefix string) {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				b.Fatalf("waiting for %q: %v", prefix, err)
			}
			if strings.HasPrefix(line, prefix) {
				if prefix[0] == 'Z' && !strings.HasPrefix(line, prefix+"OK") {
					b.Fatalf("got %q", line)
				}
				return
			}
		}
	}
	expect("* OK")
	c.Write([]byte("Z1 LOGIN alice alice-secret\r\n"))
	expect("Z1 ")
	// EXAMINE: the connections are all alice's, and a SELECT would take
	// the mailbox from the one before (kiss of death).
	c.Write([]byte("Z2 EXAMINE INBOX\r\n"))
	expect("Z2 ")
	c.Write([]byte("Z3 IDLE\r\n"))
	expect("+")
	c.SetDeadline(time.Time{})
	return c
}

// pss is the process's proportional set size in bytes.
func pss(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		b.Skip("no smaps_rollup:", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "Pss:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	b.Skip("no Pss in smaps_rollup")
	return 0
}

func inUse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse + ms.StackInuse)
}
