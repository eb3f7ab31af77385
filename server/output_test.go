package server

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
)

const (
	testGreeting = "host.example IMAP4rev1 v1.0 server ready"
	testLogout   = "host.example IMAP4rev1 server terminating connection"
)

// A stream as go-imap writes it, and what the client must get once a notice
// and a read-only SELECT have been asked for before it.
var (
	goStream = "* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL- AUTH=PLAIN] IMAP server ready\r\n" +
		"a1 OK LOGIN completed\r\n" +
		"* 1 FETCH (BODY[] {63}\r\n" +
		"* BYE Logging out\r\n" +
		"a3 OK [READ-WRITE] SELECT completed\r\n" +
		"x {3}\r\n" +
		" BODY[TEXT] ~{8}\r\n" +
		"* BYE Lo)\r\n" +
		"* 2 FETCH (FLAGS ())\r\n" +
		"+ Ready {2}\r\n" +
		"a2 NO No mailbox named {4}\r\n" +
		"* 3 EXISTS\r\n" +
		"a3 OK [READ-WRITE] SELECT completed\r\n" +
		"* BYE Logging out\r\n" +
		"a4 OK LOGOUT completed\r\n"
	clientStream = "* OK " + testGreeting + "\r\n" +
		"a1 OK LOGIN completed\r\n" +
		"* 1 FETCH (BODY[] {63}\r\n" +
		"* BYE Logging out\r\n" +
		"a3 OK [READ-WRITE] SELECT completed\r\n" +
		"x {3}\r\n" +
		" BODY[TEXT] ~{8}\r\n" +
		"* BYE Lo)\r\n" +
		"* 2 FETCH (FLAGS ())\r\n" +
		"+ Ready {2}\r\n" +
		"a2 NO No mailbox named {4}\r\n" +
		"* 3 EXISTS\r\n" +
		"* NO Trying to get mailbox lock from process 42\r\n" +
		"a3 OK [READ-ONLY] SELECT completed\r\n" +
		"* BYE " + testLogout + "\r\n" +
		"a4 OK LOGOUT completed\r\n"
)

// feed writes goStream in chunks of size n; the notice and the read-only
// flag are set after "a2 NO" has been written, i.e. while the next command
// runs.
func feed(t *testing.T, n int) string {
	t.Helper()
	var buf bytes.Buffer
	o := newOutput(&buf, nil)
	o.setTexts(testGreeting, testLogout)
	marker := strings.Index(goStream, "* 3 EXISTS")
	write := func(s string) {
		for i := 0; i < len(s); i += n {
			if _, err := o.Write([]byte(s[i:min(i+n, len(s))])); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(goStream[:marker])
	o.notice("* NO Trying to get mailbox lock from process 42")
	o.selectReadOnly()
	write(goStream[marker:])
	return buf.String()
}

func TestOutputRewritesOnlyOutsideLiterals(t *testing.T) {
	for _, n := range []int{len(goStream), 1, 2, 3, 5, 7, 13, 64} {
		if got := feed(t, n); got != clientStream {
			t.Errorf("chunks of %d:\n got %q\nwant %q", n, got, clientStream)
		}
	}
}

// Bytes that cannot belong to a rewritten line are passed on in the Write
// that brought them; only a possible candidate is held, until it is decided.
func TestOutputNoLatency(t *testing.T) {
	var buf bytes.Buffer
	o := newOutput(&buf, nil)
	o.setTexts(testGreeting, testLogout)
	step := func(in, want string) {
		t.Helper()
		before := buf.Len()
		o.Write([]byte(in))
		if got := buf.String()[before:]; got != want {
			t.Errorf("after writing %q: socket got %q, want %q", in, got, want)
		}
	}
	step("* OK [CAPABILITY IMAP4rev1] IMAP", "")
	step(" server ready\r\n", "* OK "+testGreeting+"\r\n")
	step("* 3 EXI", "* 3 EXI")
	step("STS\r\n", "STS\r\n")
	step("* 1 FETCH (BODY[] {10}\r\n", "* 1 FETCH (BODY[] {10}\r\n")
	step("* BYE", "* BYE")
	step(" Logg", " Logg")
	step("ing)\r\n", "ing)\r\n")
	step("* BY", "")
	step("E Logging out\r\n", "* BYE "+testLogout+"\r\n")
	step("* BYE Logging", "")
	step(" in\r\n", "* BYE Logging in\r\n")
	step("a1 OK [READ-WRITE] SELECT", "a1 OK [READ-WRITE] SELECT")
	step(" completed\r\n", " completed\r\n")
	o.selectReadOnly()
	step("a2 OK [READ-WRITE] SEL", "")
	step("ECT completed\r\n", "a2 OK [READ-ONLY] SELECT completed\r\n")
	o.selectReadOnly()
	step("a3", "")
	step(" NO", "a3 NO")
	step(" No such mailbox\r\n", " No such mailbox\r\n")
	o.selectReadOnly() // consumed by the next tagged line, whatever it is
	step("a4 OK NOOP completed\r\n", "a4 OK NOOP completed\r\n")
	step("a5 OK [READ-WRITE] SELECT completed\r\n", "a5 OK [READ-WRITE] SELECT completed\r\n")
}

func TestOutputGreetingNotRewrittenWithoutTexts(t *testing.T) {
	var buf bytes.Buffer
	o := newOutput(&buf, nil)
	o.Write([]byte("* BYE no configuration\r\n* BYE Logging out\r\n"))
	if got, want := buf.String(), "* BYE no configuration\r\n* BYE Logging out\r\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestOutputInsertOnlyBetweenLines(t *testing.T) {
	var buf bytes.Buffer
	o := newOutput(&buf, nil)
	o.setTexts(testGreeting, testLogout)
	o.Write([]byte("* OK [CAPABILITY IMAP4rev1] IMAP server ready\r\n* 1 FETCH (BODY[] {5}\r\nab"))
	if o.insertAndClose("* BYE Autologout; idle for too long") {
		t.Error("inserted a line inside a literal")
	}
	if _, err := o.Write([]byte("cde)\r\n")); err == nil {
		t.Error("write after close succeeded")
	}

	buf.Reset()
	o = newOutput(&buf, nil)
	o.setTexts(testGreeting, testLogout)
	o.Write([]byte("* OK [CAPABILITY IMAP4rev1] IMAP server ready\r\n* BYE Logg"))
	if !o.insertAndClose("* BYE Autologout; idle for too long") {
		t.Error("not inserted while only a candidate line was held")
	}
	if got, want := buf.String(), "* OK "+testGreeting+"\r\n* BYE Autologout; idle for too long\r\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

// countWriter counts the writes that reach the socket.
type countWriter struct {
	bytes.Buffer
	writes int
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// clear forgets what was written.
func (w *countWriter) clear() {
	w.Reset()
	w.writes = 0
}

// greeted is an output to w that has passed go-imap's greeting on.
func greeted(w *countWriter) *output {
	o := newOutput(w, nil)
	o.Write([]byte("* OK [CAPABILITY IMAP4rev1] IMAP server ready\r\n"))
	w.clear()
	return o
}

// TestOutputBatch: while a batch is on, go-imap's response lines are held
// and go out in one write with the tagged line; a line of the server's own
// goes out at once, after what was held (order kept); a BYE ends batching;
// a big literal goes straight through, after what was held.
func TestOutputBatch(t *testing.T) {
	var w countWriter
	o := greeted(&w)

	o.startBatch()
	var want strings.Builder
	for i := 1; i <= 100; i++ {
		line := "* " + strings.Repeat("9", i%7+1) + " FETCH (FLAGS (\\Seen))\r\n"
		o.Write([]byte(line))
		want.WriteString(line)
	}
	if w.writes != 0 {
		t.Fatalf("%d writes before the tagged line", w.writes)
	}
	o.Write([]byte("a1 OK FETCH completed\r\n"))
	want.WriteString("a1 OK FETCH completed\r\n")
	if w.writes != 1 || w.String() != want.String() {
		t.Fatalf("%d writes of %q", w.writes, w.String())
	}

	// After the tagged line: no batch.
	w.Reset()
	w.writes = 0
	o.Write([]byte("* 4 EXISTS\r\n"))
	if w.writes != 1 {
		t.Fatalf("%d writes outside a batch", w.writes)
	}

	// A line of our own in the middle of a batch.
	w.Reset()
	o.startBatch()
	o.Write([]byte("* 1 FETCH (FLAGS ())\r\n"))
	o.reply("* FLAGS (\\Seen kw)", 0)
	o.Write([]byte("* 2 FETCH (FLAGS (kw))\r\n"))
	o.Write([]byte("a2 OK STORE completed\r\n"))
	if got, want := w.String(), "* 1 FETCH (FLAGS ())\r\n* FLAGS (\\Seen kw)\r\n* 2 FETCH (FLAGS (kw))\r\na2 OK STORE completed\r\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}

	// A literal bigger than a batch: what was held first, then the literal.
	w.Reset()
	o.startBatch()
	o.Write([]byte("* 1 FETCH (FLAGS ())\r\n"))
	big := strings.Repeat("x", batchMax+10)
	o.Write([]byte("* 2 FETCH (BODY[] {" + strconv.Itoa(len(big)) + "}\r\n"))
	o.Write([]byte(big))
	o.Write([]byte(")\r\na3 OK FETCH completed\r\n"))
	if got, want := w.String(), "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (BODY[] {"+strconv.Itoa(len(big))+"}\r\n"+big+")\r\na3 OK FETCH completed\r\n"; got != want {
		t.Fatalf("literal: got %d bytes, want %d", len(got), len(want))
	}

	// A BYE is coming (session.Conn.Bye): everything goes out at once.
	w.Reset()
	w.writes = 0
	o.startBatch()
	o.Write([]byte("* 1 FETCH (FLAGS ())\r\n"))
	o.endBatches()
	o.Write([]byte("* BYE Fatal mailbox error\r\n"))
	if got, want := w.String(), "* 1 FETCH (FLAGS ())\r\n* BYE Fatal mailbox error\r\n"; got != want {
		t.Fatalf("BYE: got %q, want %q", got, want)
	}
}

// TestOutputLines: the session's own response lines (conn.Responses) join
// the command's batch in order with go-imap's, go out at once outside a
// batch, and are refused in the middle of one of go-imap's responses.
func TestOutputLines(t *testing.T) {
	var w countWriter
	o := greeted(&w)

	o.startBatch()
	o.Write([]byte("* FLAGS (\\Seen kw)\r\n"))
	if err := o.lines([]byte("* 1 FETCH (FLAGS (kw))\r\n* 2 FETCH (FLAGS ())\r\n")); err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("* 3 FETCH (FLAGS (\\Seen))\r\n"))
	if w.writes != 0 {
		t.Fatalf("%d writes before the tagged line", w.writes)
	}
	o.Write([]byte("a1 OK STORE completed\r\n"))
	if got, want := w.String(), "* FLAGS (\\Seen kw)\r\n* 1 FETCH (FLAGS (kw))\r\n* 2 FETCH (FLAGS ())\r\n* 3 FETCH (FLAGS (\\Seen))\r\na1 OK STORE completed\r\n"; w.writes != 1 || got != want {
		t.Fatalf("%d writes of %q, want one of %q", w.writes, got, want)
	}

	w.Reset()
	w.writes = 0
	if err := o.lines([]byte("* 4 FETCH (FLAGS ())\r\n")); err != nil || w.writes != 1 || w.String() != "* 4 FETCH (FLAGS ())\r\n" {
		t.Fatalf("outside a batch: %v, %d writes of %q", err, w.writes, w.String())
	}

	o.Write([]byte("* 5 FETCH (BODY[] {3}\r\nab"))
	if err := o.lines([]byte("* 6 FETCH (FLAGS ())\r\n")); err == nil {
		t.Fatal("lines accepted in the middle of a literal")
	}
	o.Write([]byte("c)\r\n"))
	if err := o.lines([]byte("* 6 FETCH (FLAGS ())\r\n")); err != nil {
		t.Fatalf("after the response: %v", err)
	}
	o.close()
	if err := o.lines([]byte("* 7 FETCH (FLAGS ())\r\n")); err == nil {
		t.Fatal("lines accepted after close")
	}
}
