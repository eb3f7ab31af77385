package session_test

// Hostile tests of IDLE without a goroutine (idle.go, the guard's
// idleStart/idleDone hooks): the DONE line in odd shapes and pieces,
// pipelining around it, clients that vanish, and updates racing the end
// of the IDLE. Every test runs over a real socket against the real server.

import (
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReviewIdleDoneSplit: DONE arriving a byte per packet ends the IDLE
// once, and the session goes on.
func TestReviewIdleDoneSplit(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	for _, pieces := range [][]string{
		{"D", "O", "N", "E", "\r", "\n"},
		{"DO", "NE\r\n"},
		{"DONE\r", "\n"},
		{"DONE", "\r\n"},
	} {
		c.idle()
		for _, p := range pieces {
			c.sendRaw(p)
		}
		c.collect("I1").taggedIs(t, "OK IDLE completed")
		c.ok("NOOP").exactly(t)
	}
	c.ok("FETCH 1:* (UID)").exactly(t, "* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)")
}

// TestReviewIdleDoneLowerCase: RFC 2177's "DONE" is an ABNF string, which
// is case-insensitive (RFC 5234 2.3); UW imapd upper-cases the line before
// it compares. "done" and "Done" end the IDLE with OK.
func TestReviewIdleDoneLowerCase(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	for _, done := range []string{"done", "Done", "dOnE"} {
		c.idle()
		c.send(done)
		c.collect("I1").taggedIs(t, "OK IDLE completed")
	}
	c.ok("NOOP").exactly(t)
}

// TestReviewIdleDonePipelined: DONE followed in the same packet by more
// commands: each runs once, in order, with its own answer.
func TestReviewIdleDonePipelined(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.idle()
	c.sendRaw("DONE\r\nP1 NOOP\r\nP2 FETCH 2 (UID)\r\nP3 IDLE\r\nDONE\r\nP4 FETCH 3 (UID)\r\n")
	c.collect("I1").taggedIs(t, "OK IDLE completed")
	c.collect("P1").exactly(t)
	c.collect("P2").exactly(t, "* 2 FETCH (UID 2)")
	r := c.collect("P3")
	r.taggedIs(t, "OK IDLE completed")
	r.exactly(t, "+ idling")
	c.collect("P4").exactly(t, "* 3 FETCH (UID 3)")
	c.ok("NOOP").exactly(t)
}

// TestReviewIdleGarbage: anything but DONE ends the IDLE with BAD (go-imap
// says so); the garbage never runs as a command, and the session goes on
// in step, even for a line over the continuation limit and a NUL byte.
func TestReviewIdleGarbage(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	for _, junk := range []string{
		"X1 LOGOUT",
		"DONE extra",
		" DONE",
		"DONE\x00",
		"",
		strings.Repeat("A", 10000),
		"DONE {5}",
	} {
		c.idle()
		c.send(junk)
		r := c.collect("I1")
		if r.Status != "BAD" {
			t.Errorf("IDLE ended by %.40q: %q", junk, r.Tagged)
		}
		c.ok("FETCH 1 (UID)").exactly(t, "* 1 FETCH (UID 1)")
	}
}

// TestReviewIdleThenLogout: IDLE, DONE and LOGOUT in one packet: the IDLE
// completes, LOGOUT says BYE and OK, and the connection closes.
func TestReviewIdleThenLogout(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	c.sendRaw("I1 IDLE\r\nDONE\r\nL1 LOGOUT\r\n")
	r := c.collect("I1")
	r.taggedIs(t, "OK IDLE completed")
	got := c.readEOF()
	if len(got) != 2 || !strings.HasPrefix(got[0], "* BYE ") || got[1] != "L1 OK LOGOUT completed" {
		t.Errorf("after DONE: %q", got)
	}
	e.waitClosed(1)
}

// TestReviewIdleVanish: clients that vanish mid-IDLE (mid-DONE too) leave
// no session, goroutine or timer behind: after many, the goroutine count
// comes back to what it was.
func TestReviewIdleVanish(t *testing.T) {
	e := newEnv(t)
	// One session first, so that what the first connection starts once
	// (pools, the server's own goroutines) is in the baseline.
	c := e.login()
	c.ok("SELECT INBOX")
	c.idle()
	c.Close()
	e.waitClosed(1)
	base := settledGoroutines(0)
	const n = 40
	for i := range n {
		c := e.login()
		c.ok("SELECT INBOX")
		c.idle()
		switch i % 3 {
		case 1:
			c.sendRaw("DO") // half a DONE
		case 2:
			c.sendRaw("DONE\r\nX1 NOOP\r\n") // and gone before the answers
		}
		c.Close()
	}
	e.waitClosed(n)
	if got := settledGoroutines(base); got > base {
		t.Errorf("goroutines: %d before %d IDLE sessions vanished, %d after", base, n, got)
	}
}

// settledGoroutines returns the number of goroutines once it is at most
// want (or after a bound: exiting goroutines need a moment to be gone;
// the bound only limits a failing test).
func settledGoroutines(want int) int {
	deadline := time.Now().Add(readLimit)
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n <= want || time.Now().After(deadline) {
			return n
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

// TestReviewIdleFastCycles: IDLE/DONE many times while mail keeps coming:
// the client's count of messages (EXISTS) never goes back or repeats
// across the stream, and matches FETCH 1:* at the end. An update written
// after a tagged answer, or twice, would break that.
func TestReviewIdleFastCycles(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	count := 3
	see := func(lines []string) {
		t.Helper()
		for _, l := range lines {
			if rest, ok := strings.CutSuffix(l, " EXISTS"); ok {
				n, err := strconv.Atoi(strings.TrimPrefix(rest, "* "))
				if err != nil || n <= count {
					t.Fatalf("EXISTS %q after %d", l, count)
				}
				count = n
			}
		}
	}
	delivered := 3
	for i := range 60 {
		if i%3 == 0 {
			e.deliver(e.inbox(), "frank@example.com", fmt.Sprintf("cycle %d", i), "hi")
			delivered++
		}
		c.sendRaw("I1 IDLE\r\n")
		if i%2 == 0 {
			c.sendRaw("DONE\r\n")
		} else {
			see(c.waitFor("+ idling"))
			c.sendRaw("DONE\r\n")
		}
		r := c.collect("I1")
		r.taggedIs(t, "OK IDLE completed")
		see(r.Untagged)
	}
	r := c.ok("NOOP")
	see(r.Untagged)
	if count != delivered {
		t.Errorf("told %d messages, %d in the mailbox", count, delivered)
	}
	r = c.ok("FETCH 1:* (UID)")
	if len(r.Untagged) != delivered {
		t.Errorf("FETCH 1:* gave %d, want %d", len(r.Untagged), delivered)
	}
}

// TestReviewIdleStaleGoroutine: an IDLE ended by garbage is answered by
// go-imap without waiting for its Idle goroutine; an IDLE go-imap refuses
// after the guard handed it over ("IDLE x") must not leave the session
// believing an IDLE is open, or that late goroutine's Idle arms a poll
// that writes with no command in progress: here an EXPUNGE, which would
// show up inside the FETCH below (forbidden there, RFC 3501 7.4.1).
func TestReviewIdleStaleGoroutine(t *testing.T) {
	for round := range 10 {
		t.Run(strconv.Itoa(round), func(t *testing.T) {
			prev := runtime.GOMAXPROCS(1) // the conn goroutine runs on before Idle's
			defer runtime.GOMAXPROCS(prev)
			a, b := sharedPair(t)
			a.sendRaw("I1 IDLE\r\njunk\r\nI2 IDLE x\r\n")
			r := a.collect("I1")
			if r.Status != "BAD" {
				t.Fatalf("I1: %q", r.Tagged)
			}
			if r := a.collect("I2"); r.Status == "OK" {
				t.Fatalf("I2: %q", r.Tagged)
			}
			b.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
			b.ok("EXPUNGE").exactly(t, "* 1 EXPUNGE")
			r = a.ok("FETCH 1:3 (UID)")
			r.lacks(t, "* 1 EXPUNGE")
			a.ok("NOOP").has(t, "* 1 EXPUNGE")
		})
	}
}

// TestReviewIdleSharedChurn: with shared mailboxes, one session appends
// and expunges while the other goes in and out of IDLE fast: the idler's
// count from EXISTS and EXPUNGE always matches what FETCH 1:* shows, and
// no EXPUNGE ever comes inside a FETCH (an IDLE poll writing after its
// tagged answer would put one there).
func TestReviewIdleSharedChurn(t *testing.T) {
	a, b := sharedPair(t)
	count := 3
	track := func(lines []string, inFetch bool) {
		t.Helper()
		for _, l := range lines {
			switch {
			case strings.HasSuffix(l, " EXPUNGE"):
				if inFetch {
					t.Fatalf("EXPUNGE inside FETCH: %q", lines)
				}
				count--
			case strings.HasSuffix(l, " EXISTS"):
				n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(l, "* "), " EXISTS"))
				if err != nil || n < count {
					t.Fatalf("%q with %d known", l, count)
				}
				count = n
			}
		}
	}
	for i := range 40 {
		switch i % 4 {
		case 0, 1:
			b.ok("APPEND INBOX {%d+}\r\n%s", len(appendMsg), appendMsg)
		case 2:
			b.ok(`STORE 1 +FLAGS.SILENT (\Deleted)`)
			b.ok("EXPUNGE")
		}
		a.sendRaw("I1 IDLE\r\n")
		if i%2 == 1 {
			track(a.waitFor("+ idling"), false)
		}
		a.sendRaw("DONE\r\n")
		r := a.collect("I1")
		r.taggedIs(t, "OK IDLE completed")
		track(r.Untagged, false)
		r = a.ok("FETCH 1:* (UID)")
		fetched := 0
		for _, l := range r.Untagged {
			if strings.Contains(l, " FETCH (") {
				fetched++
			}
		}
		track(r.Untagged, true)
		if fetched != count {
			t.Fatalf("round %d: FETCH 1:* gave %d, the client knows %d", i, fetched, count)
		}
	}
	track(a.ok("NOOP").Untagged, false)
	n := len(b.ok("FETCH 1:* (UID)").Untagged)
	if count != n {
		t.Errorf("idler knows %d, the mailbox has %d", count, n)
	}
}
