//go:build unix

package session_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuClock reports, at the end of a benchmark, the CPU time (user and
// system, server and client together: they share the process) per
// operation as "cpu-ns/op": on a busy machine it varies less than the
// wall-clock ns/op.
func cpuClock(b *testing.B) (stop func()) {
	start := cpuNow()
	return func() {
		b.ReportMetric(float64((cpuNow()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
