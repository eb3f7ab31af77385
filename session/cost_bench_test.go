package session_test

// Benchmarks of the per-command costs of issue 10, over real sockets to a
// real server (the harness's), with a minimal client that only finds the
// end of each response, so that the numbers are the server's:
//
//	go test -run '^$' -bench 'Noop|Store|UIDFetchFlags|BodyPeek|SearchHeader' -count 5 ./session/
//
// The machine is noisy: compare before and after in one run, and medians
// of several (-count).

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawClient speaks just enough IMAP to time a server: it sends a command
// and reads up to its tagged reply, skipping literals.
type rawClient struct {
	tb  testing.TB
	c   net.Conn
	r   *bufio.Reader
	n   int
	buf []byte
}

func (e *env) rawLogin(tb testing.TB) *rawClient {
	tb.Helper()
	c, err := net.Dial("tcp", e.addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	rc := &rawClient{tb: tb, c: c, r: bufio.NewReaderSize(c, 64<<10)}
	if _, err := rc.r.ReadSlice('\n'); err != nil {
		tb.Fatal(err)
	}
	rc.ok("LOGIN alice alice-secret")
	return rc
}

// ok runs a command that must succeed and returns the number of untagged
// responses.
func (rc *rawClient) ok(cmd string) int {
	rc.tb.Helper()
	n, status := rc.run(cmd)
	if status != "OK" {
		rc.tb.Fatalf("%s: %s", cmd, status)
	}
	return n
}

func (rc *rawClient) run(cmd string) (untagged int, status string) {
	rc.tb.Helper()
	rc.n++
	tag := "Z" + strconv.Itoa(rc.n)
	rc.buf = append(append(append(append(rc.buf[:0], tag...), ' '), cmd...), '\r', '\n')
	rc.c.SetDeadline(time.Now().Add(readLimit))
	if _, err := rc.c.Write(rc.buf); err != nil {
		rc.tb.Fatal(err)
	}
	prefix := tag + " "
	for {
		line, err := rc.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A long line: read on to its end.
			for err == bufio.ErrBufferFull {
				line, err = rc.r.ReadSlice('\n')
			}
		}
		if err != nil {
			rc.tb.Fatalf("%s: %v", cmd, err)
		}
		if len(line) > 0 && line[0] == '*' {
			untagged++
		}
		if n, ok := literalSize(line); ok {
			if _, err := rc.r.Discard(n); err != nil {
				rc.tb.Fatal(err)
			}
			continue
		}
		if len(line) > len(prefix) && line[0] == 'Z' && string(line[:len(prefix)]) == prefix {
			status, _, _ := strings.Cut(string(line[len(prefix):]), " ")
			return untagged, status
		}
	}
}

// literalSize reports the size of the literal a line ends with.
func literalSize(line []byte) (int, bool) {
	if !bytes.HasSuffix(line, []byte("}\r\n")) {
		return 0, false
	}
	s := string(line[:len(line)-2])
	i := strings.LastIndexByte(s, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[i+1 : len(s)-1])
	return n, err == nil
}

// benchMbox is n messages with bodyLines lines of body each.
func benchMbox(n, bodyLines int) string {
	var buf strings.Builder
	body := strings.Repeat("A line of body text, long enough to look like mail.\n", bodyLines)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&buf, "From sender%d@example.com Mon Nov 23 10:%02d:00 2026\n", i, i%60)
		fmt.Fprintf(&buf, "From: Sender %d <sender%d@example.com>\nTo: alice@demo.example\n", i, i)
		fmt.Fprintf(&buf, "Subject: message number %d\nDate: Mon, 23 Nov 2026 10:%02d:00 +0000\nMessage-ID: <m%d@example.com>\n\n", i, i%60, i)
		buf.WriteString(body)
		buf.WriteString("\n")
	}
	return buf.String()
}

// benchEnv is a server whose folder "big" has n messages, selected (UIDs
// stamped) by the client it returns.
func benchEnv(b *testing.B, n, bodyLines int) (*env, *rawClient) {
	e := newEnv(b)
	e.write(e.folder("big"), benchMbox(n, bodyLines))
	c := e.rawLogin(b)
	if got := c.ok("SELECT big"); got < 5 {
		b.Fatalf("SELECT: %d untagged", got)
	}
	return e, c
}

// BenchmarkNoop: the fixed cost of a command, NOOP in a selected mailbox
// of 5,000 messages where nothing changes (bench/README.md: 0.36 ms, Dovecot
// 0.16 ms).
func BenchmarkNoop(b *testing.B) {
	_, c := benchEnv(b, 5000, 2)
	defer cpuClock(b)()
	for b.Loop() {
		c.ok("NOOP")
	}
}

// BenchmarkStoreOne: one STORE of one flag (set, then cleared), in 5,000
// messages.
func BenchmarkStoreOne(b *testing.B) {
	_, c := benchEnv(b, 5000, 2)
	defer cpuClock(b)()
	i := 0
	for b.Loop() {
		op := "+"
		if i/5000%2 == 1 {
			op = "-"
		}
		c.ok(fmt.Sprintf("STORE %d %sFLAGS (\\Seen)", i%5000+1, op))
		i++
	}
	b.StopTimer()
	c.ok("CHECK")
}

// BenchmarkStoreAll: STORE 1:* +FLAGS (\Seen) on 5,000 messages (and
// -FLAGS on the next round), each followed by CHECK, which saves them
// (bench/README.md: 4.5x Dovecot).
func BenchmarkStoreAll(b *testing.B) {
	_, c := benchEnv(b, 5000, 2)
	defer cpuClock(b)()
	op := "+"
	for b.Loop() {
		if got := c.ok("STORE 1:* " + op + "FLAGS (\\Seen)"); got != 5000 {
			b.Fatalf("%d responses", got)
		}
		c.ok("CHECK")
		if op == "+" {
			op = "-"
		} else {
			op = "+"
		}
	}
}

// BenchmarkUIDFetchFlags: UID FETCH 1:* (FLAGS) of 50,000 messages
// (issue 10: 450 ms, Dovecot 30 ms).
func BenchmarkUIDFetchFlags(b *testing.B) {
	_, c := benchEnv(b, 50000, 0)
	defer cpuClock(b)()
	for b.Loop() {
		if got := c.ok("UID FETCH 1:* (FLAGS)"); got != 50000 {
			b.Fatalf("%d responses", got)
		}
	}
}

// BenchmarkBodyPeek: FETCH n BODY.PEEK[] of one message per command, over
// 5,000 messages of about 2 KB.
func BenchmarkBodyPeek(b *testing.B) {
	_, c := benchEnv(b, 5000, 40)
	defer cpuClock(b)()
	i := 0
	for b.Loop() {
		c.ok(fmt.Sprintf("FETCH %d BODY.PEEK[]", i%5000+1))
		i++
	}
}

// BenchmarkSearchHeader: SEARCH SUBJECT over 5,000 messages of about 2 KB
// (bench/README.md: 1.7x Dovecot, as the whole messages were read).
func BenchmarkSearchHeader(b *testing.B) {
	_, c := benchEnv(b, 5000, 40)
	defer cpuClock(b)()
	for b.Loop() {
		c.ok(`SEARCH SUBJECT "number 4999"`)
	}
}
