package session_test

// Benchmarks of the single-session steps of bench/driver (bench/README.md)
// on one mailbox, over real sockets to a real server, each step one op:
//
//	IMAPD_BENCH_MBOX=mail.mbox go test -run '^$' -bench 'Step' -count 5 ./session/
//
// IMAPD_BENCH_MBOX is an mbox bench/genmbox wrote (the bench's messages,
// headers and MIME parts); without it, 5,000 plain messages of ~2 KB.

import (
	"fmt"
	"os"
	"testing"
)

// stepEnv is a server whose folder "big" holds the bench mailbox, selected
// (UIDs stamped) by the client it returns, with n its message count.
func stepEnv(b *testing.B) (*env, *rawClient, int) {
	text := ""
	if p := os.Getenv("IMAPD_BENCH_MBOX"); p != "" {
		raw, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		text = string(raw)
	} else {
		text = benchMbox(5000, 40)
	}
	e := newEnv(b)
	e.fill(e.folder("big"), text)
	c := e.rawLogin(b)
	c.ok("SELECT big")
	n := c.ok("FETCH * (UID)")
	r, _ := c.run("FETCH 1:* (UID)")
	if r == 0 || n != 1 {
		b.Fatalf("FETCH: %d responses", r)
	}
	return e, c, r
}

func BenchmarkStepFetchEnvelope(b *testing.B) {
	_, c, n := stepEnv(b)
	defer cpuClock(b)()
	for b.Loop() {
		if got := c.ok("FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)"); got != n {
			b.Fatalf("%d responses", got)
		}
	}
}

func BenchmarkStepBodyPeek(b *testing.B) {
	_, c, n := stepEnv(b)
	defer cpuClock(b)()
	i := 0
	for b.Loop() {
		c.ok(fmt.Sprintf("FETCH %d BODY.PEEK[]", (i*7919)%n+1))
		i++
	}
}

func BenchmarkStepStoreAll(b *testing.B) {
	_, c, n := stepEnv(b)
	defer cpuClock(b)()
	op := "+"
	for b.Loop() {
		if got := c.ok("STORE 1:* " + op + "FLAGS (\\Seen)"); got != n {
			b.Fatalf("%d responses", got)
		}
		if op == "+" {
			op = "-"
		} else {
			op = "+"
		}
	}
}

func BenchmarkStepSearchSubject(b *testing.B) {
	_, c, _ := stepEnv(b)
	defer cpuClock(b)()
	for b.Loop() {
		c.ok(`SEARCH SUBJECT "budget"`)
	}
}

func BenchmarkStepCopy(b *testing.B) {
	_, c, n := stepEnv(b)
	set := fmt.Sprintf("1:%d", min(1000, n))
	defer cpuClock(b)()
	for b.Loop() {
		b.StopTimer()
		c.run("DELETE Archive")
		c.ok("CREATE Archive")
		b.StartTimer()
		c.ok("COPY " + set + " Archive")
	}
}

func BenchmarkStepNoop(b *testing.B) {
	_, c, _ := stepEnv(b)
	defer cpuClock(b)()
	for b.Loop() {
		c.ok("NOOP")
	}
}

// BenchmarkStepStoreFirst is STORE 1:* +FLAGS (\Seen) as the bench's
// sequence runs it: the first flag change of a session that has just
// selected the mailbox and fetched its envelopes (each op a new session;
// only the STORE is timed).
func BenchmarkStepStoreFirst(b *testing.B) {
	e, c0, n := stepEnv(b)
	c0.ok("LOGOUT")
	for b.Loop() {
		b.StopTimer()
		c := e.rawLogin(b)
		c.ok("SELECT big")
		c.ok("FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)")
		b.StartTimer()
		if got := c.ok(`STORE 1:* +FLAGS (\Seen)`); got != n {
			b.Fatalf("%d responses", got)
		}
		b.StopTimer()
		c.ok(`STORE 1:* -FLAGS (\Seen)`)
		c.ok("LOGOUT")
		c.c.Close()
		b.StartTimer()
	}
}
