package session_test

import (
	"io"
	"os"
	"testing"
	"time"
)

// BenchmarkSelectAgain: SELECT of an unchanged 50,000-message mailbox,
// again and again in one session (issue 10: the repeat SELECT, at most
// 2 ms; Dovecot 16.7 ms in the side-by-side bench). SELECT_BENCH_MBOX
// names a mailbox file to use instead of the generated one (make one with
// bench/genmbox -n 50000).
//
//	go test -run '^$' -bench SelectAgain -count 5 ./session/
func BenchmarkSelectAgain(b *testing.B) { benchSelectAgain(b) }

// BenchmarkSelectAgainShared is BenchmarkSelectAgain with
// imapd_shared_mailboxes on: SELECT must not cost a pass over the
// messages to remember their flags (issue 10).
func BenchmarkSelectAgainShared(b *testing.B) { benchSelectAgain(b, "imapd_shared_mailboxes true") }

func benchSelectAgain(b *testing.B, conf ...string) {
	onlyMbox(b) // the mbox index
	e := newEnv(b, conf...)
	if src := os.Getenv("SELECT_BENCH_MBOX"); src != "" {
		// copied, not read into memory: 500 MB of garbage would change
		// what the GC does for the rest of the run
		e.write(e.folder("big"), "")
		in, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		defer in.Close()
		out, err := os.OpenFile(e.folder("big"), os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			b.Fatal(err)
		}
	} else {
		e.write(e.folder("big"), benchMbox(50000, 0))
	}
	c := e.rawLogin(b)
	c.ok("SELECT big") // the first SELECT: a parse, UIDs stamped, the index written
	// The bench's "SELECT INBOX again": it closes the mailbox the first
	// SELECT opened (and stamped), then opens it again.
	start := time.Now()
	c.ok("SELECT big")
	again := time.Since(start)
	defer cpuClock(b)()
	for b.Loop() {
		if got := c.ok("SELECT big"); got < 5 {
			b.Fatalf("SELECT: %d untagged", got)
		}
	}
	b.ReportMetric(float64(again.Microseconds())/1000, "again-ms")
}
