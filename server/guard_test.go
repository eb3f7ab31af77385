package server

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2/imapserver"

	"imapd/internal/imaptest"
	"imapd/session"
)

// The input guard, tested through a real server (go-imap over a test
// backend) on real sockets: what matters is what go-imap ends up running.

// smallAppendLimit makes APPEND's size refusal testable without sending
// 100 MiB.
const smallAppendLimit = 1000

type limitedSession struct{ *testSession }

func (limitedSession) AppendLimit() uint32 { return smallAppendLimit }

func guardEnv(t *testing.T) (*env, string) {
	e := newEnv(t)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() { // these tests make more sessions than env's channels hold
		for {
			select {
			case <-e.conns:
			case <-e.closed:
			case <-done:
				return
			}
		}
	}()
	opts := e.options()
	newSession := opts.NewSession
	opts.NewSession = func(d session.Deps, c session.Conn) (imapserver.Session, error) {
		s, err := newSession(d, c)
		if err != nil {
			return nil, err
		}
		return limitedSession{s.(*testSession)}, nil
	}
	_, addr, _ := serveTCP(t, opts)
	return e, addr
}

// loggedIn dials and logs in, with INBOX selected.
func loggedIn(t *testing.T, addr string) *client {
	c := dial(t, addr)
	c.Expect(greeting)
	login(t, c)
	c.Tagged("s1", "SELECT INBOX").Lines()
	return c
}

// sendChunks sends bytes as they are, in pieces of n bytes (n = 0: at
// once), each a write of its own.
func sendChunks(c *client, s string, n int) {
	if n <= 0 {
		n = len(s)
	}
	for len(s) > 0 {
		k := min(n, len(s))
		c.SendRaw(s[:k])
		s = s[k:]
	}
}

// until reads responses up to the one starting with prefix.
func until(c *client, prefix string) []string {
	var resps []string
	for {
		r := c.Response()
		resps = append(resps, r)
		if strings.HasPrefix(r, prefix) {
			return resps
		}
	}
}

// injected is a message whose lines are commands: none may ever run.
const injected = "Subject: CREATE x\r\n" +
	"x1 CREATE injected\r\n" +
	"x2 LOGOUT\r\n" +
	"\r\n" +
	"x3 DELETE INBOX\r\n"

// noInjection checks that the session goes on and ran none of the
// message's lines.
func noInjection(t *testing.T, c *client, what string, resps []string) {
	t.Helper()
	resps = append(resps, c.Tagged("z1", `LIST "" *`).Lines()...)
	for _, r := range resps {
		if strings.HasPrefix(r, "x") || strings.Contains(r, "injected") || strings.HasPrefix(r, "* BYE") {
			t.Errorf("%s: message text ran as a command: %q", what, resps)
			return
		}
	}
}

// Issue 8.1: a refused APPEND never lets its message run as commands.
func TestGuardRefusedAppendLiteralNotRun(t *testing.T) {
	_, addr := guardEnv(t)
	msg := injected + strings.Repeat("x9 CREATE injected\r\n", 60)
	for _, tc := range []struct{ name, cmd, want string }{
		{"too big", fmt.Sprintf("a1 APPEND INBOX {%d+}", len(msg)), "a1 NO [TOOBIG] "},
		{"bad date", fmt.Sprintf(`a1 APPEND INBOX "31-Foo-2020 10:00:00 +0000" {%d+}`, len(msg)), "a1 BAD "},
		{"impossible date", fmt.Sprintf(`a1 APPEND INBOX "31-Feb-2020 10:00:00 +0000" {%d+}`, len(msg)), "a1 BAD "},
		{"bad flag list", fmt.Sprintf(`a1 APPEND INBOX (\Seen "x") {%d+}`, len(msg)), "a1 BAD "},
		{"unterminated flag list", fmt.Sprintf(`a1 APPEND INBOX (\Seen {%d+}`, len(msg)), "a1 BAD "},
		{"bad mailbox name", fmt.Sprintf(`a1 APPEND "&,,,-" {%d+}`, len(msg)), "a1 BAD "},
		{"extra argument", fmt.Sprintf(`a1 APPEND INBOX (\Seen) foo {%d+}`, len(msg)), "a1 BAD "},
		{"binary literal", fmt.Sprintf(`a1 APPEND INBOX ~{%d+}`, len(msg)), "a1 NO [TOOBIG] "},
		{"binary literal, bad date", fmt.Sprintf(`a1 APPEND INBOX "31-Foo-2020 10:00:00 +0000" ~{%d+}`, len(msg)), "a1 BAD "},
		{"unknown data extension", fmt.Sprintf(`a1 APPEND INBOX UTF8 (~{%d+}`, len(msg)), "a1 BAD "},
	} {
		for _, chunk := range []int{0, 7} {
			c := loggedIn(t, addr)
			if tc.name == "too big" {
				msg := msg + strings.Repeat("x", smallAppendLimit)
				tc.cmd = fmt.Sprintf("a1 APPEND INBOX {%d+}", len(msg))
				sendChunks(c, tc.cmd+"\r\n"+msg+"\r\n", chunk)
			} else {
				sendChunks(c, tc.cmd+"\r\n"+msg+"\r\n", chunk)
			}
			resps := until(c, "a1 ")
			if last := resps[len(resps)-1]; !strings.HasPrefix(last, tc.want) {
				t.Errorf("%s: %q, want %s...", tc.name, resps, tc.want)
			}
			noInjection(t, c, tc.name, resps)
		}
	}
}

// Issue 8.1, before login: the APPEND is refused without parsing it, the
// small literal skipped; a big one ends the connection.
func TestGuardAppendBeforeLogin(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	sendChunks(c, fmt.Sprintf("a1 APPEND INBOX {%d+}\r\n%s\r\n", len(injected), injected), 0)
	resps := until(c, "a1 ")
	if last := resps[len(resps)-1]; last != "a1 BAD [CLIENTBUG] Log in first" {
		t.Errorf("APPEND before login: %q", resps)
	}
	resps = c.Tagged("z0", "NOOP").Lines()
	if len(resps) != 1 || resps[0] != "z0 OK NOOP completed" {
		t.Errorf("after refused APPEND: %q", resps)
	}

	sendChunks(c, "a2 APPEND INBOX {100000+}\r\nx1 NOOP\r\n", 0)
	c.Expect("a2 BAD [CLIENTBUG] Log in first")
	c.Expect("* BYE Literal refused before login")
	c.ExpectEOF()
}

// Issue 8.2: after a refused synchronizing APPEND literal the guard is not
// left waiting for it: the next command's literal is invited and a long
// line refused whole.
func TestGuardRefusedSyncLiteral(t *testing.T) {
	_, addr := guardEnv(t)
	c := loggedIn(t, addr)
	sendChunks(c, "a1 APPEND INBOX {999999999}\r\n", 0)
	c.Expect(fmt.Sprintf("a1 NO [TOOBIG] Literals are limited to %d bytes for this command", smallAppendLimit))

	sendChunks(c, "a2 SEARCH HEADER Subject {6}\r\n", 0)
	c.Expect("+ Ready for literal data")
	sendChunks(c, "tricky\r\n", 0)
	resps := until(c, "a2 ")
	if !equal(resps, []string{"* SEARCH 1", "a2 OK SEARCH completed"}) {
		t.Errorf("SEARCH with a literal after a refused APPEND: %q", resps)
	}

	long := "a3 NOOP " + strings.Repeat("y", 60<<10) + " x1 CREATE injected\r\n"
	sendChunks(c, long, 0)
	resps = until(c, "a3 ")
	if !equal(resps, []string{"a3 BAD Command line too long"}) {
		t.Errorf("long line: %q", resps)
	}
	noInjection(t, c, "long line", resps)
}

// Issue 8.3: commands that need login are refused before their arguments
// are parsed; nesting and search operators are capped after login.
func TestGuardSearchBounds(t *testing.T) {
	_, addr := guardEnv(t)
	nots := "a1 SEARCH " + strings.Repeat("NOT ", 8000) + "ALL"
	ors := "a1 SEARCH " + strings.Repeat("OR ALL ", 4000) + "ALL"
	parens := "a1 SEARCH " + strings.Repeat("(", 100) + "ALL" + strings.Repeat(")", 100)

	c := dial(t, addr)
	c.Expect(greeting)
	for _, line := range []string{nots, ors, parens} {
		sendChunks(c, line+"\r\n", 0)
		c.Expect("a1 BAD [CLIENTBUG] Log in first")
	}

	c = loggedIn(t, addr)
	for _, tc := range []struct{ line, want string }{
		{nots, "a1 BAD [CLIENTBUG] Too many search operators"},
		{ors, "a1 BAD [CLIENTBUG] Too many search operators"},
		{parens, "a1 BAD [CLIENTBUG] Too deeply nested"},
		{"a1 FETCH 1 " + strings.Repeat("(", 40) + "FLAGS" + strings.Repeat(")", 40), "a1 BAD [CLIENTBUG] Too deeply nested"},
	} {
		sendChunks(c, tc.line+"\r\n", 0)
		c.Expect(tc.want)
	}
	resps := c.Tagged("a2", "SEARCH NOT NOT OR (NOT DELETED) SEEN ALL").Lines()
	if !equal(resps, []string{"* SEARCH 1", "a2 OK SEARCH completed"}) {
		t.Errorf("a normal nested SEARCH: %q", resps)
	}
}

// Issue 8.6 (and 9.4): client input never yields SERVERBUG or a dropped
// connection.
func TestGuardNoServerBug(t *testing.T) {
	_, addr := guardEnv(t)
	c := loggedIn(t, addr)
	for _, tc := range []struct{ send, want string }{
		{`a1 CREATE "&,,,-"`, "a1 BAD [CLIENTBUG] Invalid mailbox name"},
		{`a1 CREATE "&Jjo"`, "a1 BAD [CLIENTBUG] Invalid mailbox name"},
		{`a1 CREATE "&AAA-"`, "a1 BAD [CLIENTBUG] Invalid mailbox name"},
		{`a1 RENAME INBOX "a&"`, "a1 BAD [CLIENTBUG] Invalid mailbox name"},
		{`a1 COPY 1 "&-&-&"`, "a1 BAD [CLIENTBUG] Invalid mailbox name"},
		{"a1 CREATE {3+}\r\nx\x00y", "a1 BAD [CLIENTBUG] Invalid mailbox name"},
		{"a1 FETCH 0 FLAGS", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 UID STORE 1:0 +FLAGS (x)", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 SEARCH 0", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 SEARCH UID 4294967296", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		// SEARCHRES: "$" is accepted only alone.
		{"a1 FETCH $1 FLAGS", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 FETCH 1,$ FLAGS", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 FETCH $:* FLAGS", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 UID STORE $$ +FLAGS (x)", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 UID EXPUNGE $,1", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 COPY \"$\" INBOX", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 SEARCH 1:$", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 SEARCH UID $,2", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		{"a1 SEARCH NOT $5", "a1 BAD [CLIENTBUG] Invalid sequence set"},
		// BINARY: APPEND's message may be a literal8, which the text-only
		// mailboxes refuse (RFC 3516 4.4), synchronizing or not, after the
		// same checks as a {n} message; a literal8 anywhere else is BAD.
		{"a1 APPEND INBOX ~{5}", "a1 NO [UNKNOWN-CTE] Mailboxes here store text only: send the message as {n} with its parts encoded"},
		{"a1 APPEND INBOX ~{5+}\r\nab\x00de", "a1 NO [UNKNOWN-CTE] Mailboxes here store text only: send the message as {n} with its parts encoded"},
		{"a1 APPEND INBOX ~{20+}\r\nx9 CREATE injected\r\n", "a1 NO [UNKNOWN-CTE] Mailboxes here store text only: send the message as {n} with its parts encoded"},
		{"a1 APPEND INBOX (\\Seen) ~{5+}\r\nab\rde", "a1 NO [UNKNOWN-CTE] Mailboxes here store text only: send the message as {n} with its parts encoded"},
		{"a1 APPEND INBOX ~{999999999999}", "a1 NO [TOOBIG] Literals are limited to 1000 bytes for this command"},
		{"a1 APPEND INBOX ~{99999999999999999999999}", "a1 NO [TOOBIG] Literals are limited to 1000 bytes for this command"},
		{"a1 APPEND \"&,,,-\" ~{5}", "a1 BAD [CLIENTBUG] Invalid mailbox name"},
		{"a1 APPEND INBOX UTF8 (~{5}", "a1 BAD [CLIENTBUG] Unexpected argument in APPEND"},
		{"a1 SEARCH TEXT ~{3+}\r\na\x00c", "a1 BAD [CLIENTBUG] Binary literals are not supported"},
		{"a1 SELECT ~{5}", "a1 BAD [CLIENTBUG] Binary literals are not supported"},
		{"a1 FETCH 1 (BINARY[1] ~{3+}\r\nabc)", "a1 BAD [CLIENTBUG] Binary literals are not supported"},
		// LIST-EXTENDED: at most about 250 patterns.
		{`a1 LIST "" (` + strings.Repeat("x% ", 300) + `y)`, "a1 BAD [CLIENTBUG] Too many LIST patterns"},
		{`a1 LIST "" (` + strings.Repeat("x% ", 200) + `y)`, "a1 OK LIST completed"},
		{`a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("%" "&") RETURN (CHILDREN)`, "a1 OK LIST completed"},
		{`a1 LIST "" "!#$&'+,-.0123456789:;<=>?@^_` + "`" + `|}%*"`, "a1 OK LIST completed"},
		{`a1 LIST "&" "*"`, "a1 OK LIST completed"},
		{"a1 FROB", "a1 BAD Unknown command"},
		{"a1 UID", "a1 BAD Unknown command"},
		{`a1 SELECT "INBOX`, "a1 BAD [CLIENTBUG] Unterminated quoted string"},
		{"a1 FETCH 1 (FLAGS))", "a1 BAD [CLIENTBUG] Unbalanced parentheses"},
		{"a1 LOGIN a b", "a1 BAD [CLIENTBUG] Already logged in"},
		{"a1 STARTTLS", "a1 BAD [CLIENTBUG] Already logged in"},
	} {
		sendChunks(c, tc.send+"\r\n", 0)
		resps := until(c, "a1 ")
		if last := resps[len(resps)-1]; last != tc.want+"" {
			t.Errorf("%q: %q, want %q", tc.send, resps, tc.want)
		}
	}
	sendChunks(c, "\r\n", 0)
	c.Expect("* BAD Null command")
	resps := c.Tagged("a2", "SEARCH SUBJECT 0 LARGER 0 UID 1:*").Lines()
	if !equal(resps, []string{"* SEARCH", "a2 OK SEARCH completed"}) {
		t.Errorf("SEARCH with numbers as values: %q", resps)
	}
}

// Literals of ordinary commands: synchronizing ones invited by the guard,
// non-synchronizing ones taken; go-imap gets them all, in chunks of any
// size.
func TestGuardLiterals(t *testing.T) {
	_, addr := guardEnv(t)
	for _, chunk := range []int{0, 1, 5} {
		c := dial(t, addr)
		c.Expect(greeting)
		sendChunks(c, "a1 LOGIN {5}\r\n", chunk)
		c.Expect("+ Ready for literal data")
		sendChunks(c, "alice {2+}\r\npw\r\n", chunk)
		resps := until(c, "a1 ")
		if !strings.HasSuffix(resps[len(resps)-1], "] LOGIN completed") {
			t.Fatalf("LOGIN with literals: %q", resps)
		}
		sendChunks(c, "a2 SELECT {5+}\r\nINBOX\r\n", chunk)
		resps = until(c, "a2 ")
		if resps[len(resps)-1] != "a2 OK [READ-WRITE] SELECT completed" {
			t.Errorf("SELECT with a literal: %q", resps)
		}
		sendChunks(c, "a3 SELECT {5000}\r\n", chunk)
		c.Expect("a3 NO [TOOBIG] Literals are limited to 4096 bytes for this command")
		sendChunks(c, "a4 SELECT {5000+}\r\n"+strings.Repeat("x", 5000)+" x1 CREATE injected\r\n", chunk)
		resps = until(c, "a4 ")
		noInjection(t, c, "big literal", resps)

		msg := "Subject: hi\r\n\r\nhello\r\n"
		sendChunks(c, fmt.Sprintf("a5 APPEND INBOX (\\Seen) \" 7-Feb-1994 21:52:25 -0800\" {%d}\r\n", len(msg)), chunk)
		c.Expect("+ Ready for literal data")
		sendChunks(c, msg+"\r\n", chunk)
		resps = until(c, "a5 ")
		if !strings.HasPrefix(resps[len(resps)-1], "a5 OK ") {
			t.Errorf("APPEND: %q", resps)
		}
		sendChunks(c, fmt.Sprintf("a6 APPEND INBOX {%d+}\r\n%s INBOX {3+}\r\nabc\r\n", len(msg), msg), chunk)
		resps = until(c, "a6 ")
		if !strings.HasPrefix(resps[len(resps)-1], "a6 OK ") {
			t.Errorf("APPEND with a MULTIAPPEND tail: %q", resps)
		}
		noInjection(t, c, "multiappend", resps)
		sendChunks(c, "a7 APPEND INBOX {0}\r\n", chunk)
		c.Expect("+ Ready for literal data")
		sendChunks(c, "\r\n", chunk)
		until(c, "a7 ")
		c.Send("a8 IDLE")
		c.Expect("+ idling")
	}
}

// The loop above ends each connection in IDLE; IDLE and AUTHENTICATE read
// continuation lines through the guard.
func TestGuardContinuations(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	sendChunks(c, "a1 AUTHENTICATE PLAIN\r\n", 0)
	c.Expect("+ =")
	sendChunks(c, "AGFsaWNlAHB3\r\n", 0) // \0alice\0pw
	resps := until(c, "a1 ")
	if !strings.HasPrefix(resps[len(resps)-1], "a1 OK ") {
		t.Fatalf("AUTHENTICATE: %q", resps)
	}
	sendChunks(c, "a2 IDLE\r\n", 0)
	c.Expect("+ idling")
	sendChunks(c, "DONE\r\n", 0)
	c.Expect("a2 OK IDLE completed")
	sendChunks(c, "a3 IDLE\r\n", 0)
	c.Expect("+ idling")
	sendChunks(c, strings.Repeat("D", 40<<10)+"\r\n", 0)
	resps = until(c, "a3 ")
	if !strings.HasPrefix(resps[len(resps)-1], "a3 BAD ") {
		t.Errorf("over-long IDLE continuation: %q", resps)
	}
	resps = c.Tagged("a4", "NOOP").Lines()
	if !equal(resps, []string{"a4 OK NOOP completed"}) {
		t.Errorf("after IDLE: %q", resps)
	}
}

// Unknown commands before login end the connection (cross-protocol
// requests), as go-imap does.
func TestGuardUnknownBeforeLogin(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	sendChunks(c, "POST / HTTP/1.1\r\nHost: x\r\n", 0)
	c.Expect("POST BAD Unknown command")
	c.Expect("* BYE Unknown command")
	c.ExpectEOF()
}

// ID (RFC 2971, issue 9.5): answered in any state, fields bounded.
func TestGuardID(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	resps := c.Tagged("a1", `ID ("name" "Thunderbird" "version" "128.0")`).Lines()
	want := []string{"* ID (\"name\" \"imapd\" \"version\" \"1.2.3\")", "a1 OK ID completed"}
	if !equal(resps, want) {
		t.Errorf("ID: %q, want %q", resps, want)
	}
	if resps := c.Tagged("a2", "CAPABILITY").Lines(); !strings.Contains(resps[0], " ID") {
		t.Errorf("ID not advertised: %q", resps)
	}
	login(t, c)
	if resps := c.Tagged("a3", "ID NIL").Lines(); !equal(resps, []string{want[0], "a3 OK ID completed"}) {
		t.Errorf("ID NIL: %q", resps)
	}
	many := "ID (" + strings.Repeat(`"k" "v" `, 31) + ")"
	for _, bad := range []string{"ID", "ID ()x", many, `ID ("` + strings.Repeat("k", 31) + `" "v")`, `ID ("k")`, "ID (k v)"} {
		resps := c.Tagged("a4", bad).Lines()
		if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a4 BAD ") {
			t.Errorf("%.30s: %q", bad, resps)
		}
	}
}

// The guard keeps the bytes of a command together even when they arrive
// one at a time over a slow socket.
func TestGuardByteAtATime(t *testing.T) {
	_, addr := guardEnv(t)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := imaptest.New(t, conn)
	c.Expect(greeting)
	sendChunks(c, "a1 LOGIN alice pw\r\na2 SELECT INBOX\r\na3 NOOP\r\n", 1)
	resps := until(c, "a3 ")
	if resps[len(resps)-1] != "a3 OK NOOP completed" {
		t.Errorf("%q", resps)
	}
}
