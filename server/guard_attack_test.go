package server

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"imapd/internal/imaptest"
)

// Hostile input against the guard, over real sockets (review of the guard):
// every case ends with "zz NOOP", which must get exactly its OK, and no
// line the client hid inside another command ("x1 ...") may ever run.

// settled sends "zz NOOP" and checks the answers since the last check:
// no SERVERBUG, no BYE, nothing tagged x*, and zz's OK last.
func settled(t *testing.T, c *client, what string, resps []string) {
	t.Helper()
	c.Send("zz NOOP")
	resps = append(resps, until(c, "zz ")...)
	for _, r := range resps {
		if strings.HasPrefix(r, "x") || strings.Contains(r, "SERVERBUG") || strings.HasPrefix(r, "* BYE") {
			t.Errorf("%s: %q", what, resps)
			return
		}
	}
	if last := resps[len(resps)-1]; last != "zz OK NOOP completed" {
		t.Errorf("%s: %q", what, resps)
	}
}

// A bare CR inside a line: go-imap's DiscardLine stops at it, so the rest
// of the line ran as a second command the guard never judged.
func TestAttackBareCR(t *testing.T) {
	_, addr := guardEnv(t)
	for _, in := range []string{
		"a1 NOOP x\rx1 CREATE injected\r\n",
		"a1 NOOP x\rx1 CREATE &,,,-\r\n",
		"a1 NOOP x\r\r\n",
		"a1 LOGIN a b\rx1 SELECT INBOX\r\n",
	} {
		c := loggedIn(t, addr)
		sendChunks(c, in, 0)
		settled(t, c, fmt.Sprintf("%q", in), until(c, "a1 "))
	}
	c := dial(t, addr)
	c.Expect(greeting)
	sendChunks(c, "a1 NOOP x\rx1 LOGIN alice pw\r\n", 0)
	settled(t, c, "before login", until(c, "a1 "))
}

// Spacing go-imap does not accept in the tag or command name: it dropped
// the connection without answering the command.
func TestAttackCommandSpacing(t *testing.T) {
	_, addr := guardEnv(t)
	for _, in := range []string{"a1  NOOP", " a1 NOOP", "a]1 NOOP", "a1 UID  FETCH 1 FLAGS", "a1 UID FETCH  1 FLAGS"} {
		c := loggedIn(t, addr)
		sendChunks(c, in+"\r\n", 0)
		resps := until(c, "")
		if !strings.Contains(resps[0], " BAD ") {
			t.Errorf("%q: %q", in, resps)
		}
		settled(t, c, fmt.Sprintf("%q", in), nil)
	}
}

// Literal markers go-imap reads as literals but the guard did not: a
// trailing space ("{n} ", go-imap issue 540), more than 18 digits, leading
// zeros. The literal's bytes then ran as commands after go-imap refused it.
func TestAttackLiteralMarkers(t *testing.T) {
	_, addr := guardEnv(t)
	msg := strings.Repeat("x1 CREATE injected\r\n", 100) // > smallAppendLimit
	for _, tc := range []struct{ in, invited string }{
		{fmt.Sprintf("a1 APPEND INBOX {%d+} \r\n%s\r\n", len(msg), msg), ""},
		{"a1 APPEND INBOX {1000000000000000000}\r\n", ""},
		{"a1 APPEND INBOX {99999999999999999999}\r\n", ""},
		{"a1 SELECT {0000000000000000000005+}\r\nINBOX\r\n", ""},
		{"a1 SELECT {5} \r\n", "INBOX\r\n"},
		{"a1 SEARCH HEADER {1} \r\n", "x 0\r\n"},
	} {
		c := loggedIn(t, addr)
		sendChunks(c, tc.in, 0)
		if tc.invited != "" {
			c.Expect("+ Ready for literal data")
			sendChunks(c, tc.invited, 0)
		}
		settled(t, c, fmt.Sprintf("%.60q", tc.in), until(c, "a1 "))
	}

	// A refused non-synchronizing literal too big to skip in practice: the
	// guard skips it, so nothing after it may run while it lasts.
	c := loggedIn(t, addr)
	sendChunks(c, "a1 APPEND INBOX {99999999999999999999+}\r\nx1 CREATE injected\r\nx2 NOOP\r\n", 0)
	c.NetConn().(*net.TCPConn).CloseWrite()
	rest := strings.Join(c.ReadToEOF(), "\n")
	if strings.Contains(rest, "\nx") || strings.HasPrefix(rest, "x") || strings.Contains(rest, "SERVERBUG") {
		t.Errorf("huge non-synchronizing literal: %q", rest)
	}
}

// An empty literal ({0}, {0+}) in a command other than APPEND: the guard
// took the empty piece for the end of the command and read the client's
// next line into it (a hang: the client waits for the answer).
func TestAttackEmptyLiteral(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	sendChunks(c, "a1 LOGIN alice {0}\r\n", 0)
	c.Expect("+ Ready for literal data")
	sendChunks(c, "\r\n", 0)
	settled(t, c, "LOGIN alice {0}", until(c, "a1 "))
	sendChunks(c, "a2 LOGIN {0+}\r\n pw\r\n", 0)
	settled(t, c, "LOGIN {0+} pw", until(c, "a2 "))
	sendChunks(c, "a3 LOGIN {5+}\r\nalice {2+}\r\npw\r\n", 0)
	resps := until(c, "a3 ")
	if !strings.HasPrefix(resps[len(resps)-1], "a3 OK ") {
		t.Errorf("LOGIN after empty literals: %q", resps)
	}
	sendChunks(c, "a4 SEARCH SUBJECT {0}\r\n", 0)
	c.Expect("+ Ready for literal data")
	sendChunks(c, "\r\n", 0)
	settled(t, c, "SEARCH SUBJECT {0}", until(c, "a4 "))
}

// Continuation lines (IDLE's DONE, AUTHENTICATE's responses) longer than
// go-imap's 4 KiB read buffer: go-imap answered after the first 4 KiB and
// the rest ran as a command (and AUTHENTICATE said SERVERBUG).
func TestAttackLongContinuation(t *testing.T) {
	_, addr := guardEnv(t)
	c := loggedIn(t, addr)
	sendChunks(c, "a1 IDLE\r\n", 0)
	c.Expect("+ idling")
	sendChunks(c, strings.Repeat("D", 4096)+"x1 CREATE injected\r\n", 0)
	settled(t, c, "IDLE", until(c, "a1 "))

	c = dial(t, addr)
	c.Expect(greeting)
	sendChunks(c, "a1 AUTHENTICATE PLAIN\r\n", 0)
	c.Expect("+ =")
	sendChunks(c, strings.Repeat("A", 4096)+"x1 LOGIN alice pw\r\n", 0)
	settled(t, c, "AUTHENTICATE", until(c, "a1 "))
}

// SEARCH arguments go-imap turns into SERVERBUG: an unknown key, a bad
// date, a sequence set past the tokens the guard keeps.
func TestAttackSearchServerBug(t *testing.T) {
	_, addr := guardEnv(t)
	c := loggedIn(t, addr)
	for _, in := range []string{
		"SEARCH FOO",
		"SEARCH YOUNGER 5",
		"SEARCH SINCE foo",
		"SEARCH NOT (SENTON 31-Feb-2020)",
		"SEARCH ALL CHARSET UTF-8",
		"SEARCH RETURN () ALL RETURN",
		"SEARCH " + strings.Repeat("ALL ", 300) + "0",
	} {
		resps := c.Tagged("a1", in).Lines()
		if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a1 BAD ") {
			t.Errorf("%.40q: %q", in, resps)
		}
	}
	for _, in := range []string{
		"SEARCH RETURN (ALL) CHARSET UTF-8 OR SINCE 1-Jan-2020 (NOT SEEN) UID 1:*",
		"UID SEARCH CHARSET US-ASCII HEADER SINCE 1-Jan-2020",
	} {
		resps := c.Tagged("a2", in).Lines()
		if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a2 OK ") {
			t.Errorf("%.60q: %q", in, resps)
		}
	}
}

// AUTHENTICATE's initial response: go-imap said SERVERBUG when it was not
// base64.
func TestAttackAuthenticateInitialResponse(t *testing.T) {
	_, addr := guardEnv(t)
	c := dial(t, addr)
	c.Expect(greeting)
	for _, in := range []string{"PLAIN !!!!", "PLAIN AGFsaWNl AHB3", `PLAIN "AGFsaWNlAHB3"`, "PLAIN {12+}\r\nAGFsaWNlAHB3"} {
		resps := c.Tagged("a1", "AUTHENTICATE "+in).Lines()
		if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a1 BAD ") {
			t.Errorf("%q: %q", in, resps)
		}
	}
	settled(t, c, "AUTHENTICATE", nil)
	resps := c.Tagged("a2", "AUTHENTICATE PLAIN AGFsaWNlAHB3").Lines()
	if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a2 OK ") {
		t.Errorf("AUTHENTICATE with an initial response: %q", resps)
	}
}

// A client that sends commands the guard answers itself (refusals) and never
// reads the answers: once the socket's buffers are full the guard's write
// blocked for ever (go-imap clears its write deadline after each response,
// and the read timeouts do not apply to a write), holding the connection
// before login. The guard's own writes are bounded like reads now.
func TestAttackUnreadReplies(t *testing.T) {
	e := newEnv(t)
	opts := e.options()
	opts.PreAuthTimeout = 200 * time.Millisecond
	_, addr, _ := serveTCP(t, opts)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.(*net.TCPConn).SetReadBuffer(4096)
	flood := strings.Repeat("a1 LOGIN {5000}\r\n", 1<<12)
	go func() {
		for {
			conn.SetWriteDeadline(time.Now().Add(clientLimit))
			if _, err := io.WriteString(conn, flood); err != nil {
				return
			}
		}
	}()
	e.waitClosed(t) // the session ends: the server gave up on this client
}

// A lexical error in the arguments before APPEND's message (here the
// spacing go-imap drops the connection for) was only judged after the
// whole command, but APPEND's message is handed over before that.
func TestAttackAppendHeaderLexicalError(t *testing.T) {
	_, addr := guardEnv(t)
	for _, in := range []string{
		"a1  APPEND INBOX {5+}\r\nhello\r\n",
		"a1  APPEND {1+}\r\nx {5+}\r\nhello\r\n",
		"a1 APPEND INBOX\rx1 {5+}\r\nhello\r\n",
	} {
		c := loggedIn(t, addr)
		sendChunks(c, in, 0)
		resps := until(c, "a1 ")
		if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a1 BAD ") {
			t.Errorf("%q: %q", in, resps)
		}
		settled(t, c, fmt.Sprintf("%q", in), resps)
	}
}

// APPEND without a message literal reached go-imap unchecked: a bad date
// then said SERVERBUG.
func TestAttackAppendWithoutMessage(t *testing.T) {
	_, addr := guardEnv(t)
	c := loggedIn(t, addr)
	for _, in := range []string{`APPEND INBOX "v"`, "APPEND {5+}\r\nINBOX \"k\"", "APPEND INBOX", "APPEND INBOX (\\Seen)"} {
		resps := c.Tagged("a1", in).Lines()
		if last := resps[len(resps)-1]; !strings.HasPrefix(last, "a1 BAD ") {
			t.Errorf("%q: %q", in, resps)
		}
	}
	settled(t, c, "APPEND", nil)
}

// Odd bytes that already worked: kept as a regression guard.
func TestAttackOddBytes(t *testing.T) {
	_, addr := guardEnv(t)
	for _, in := range []string{
		"a1 NOOP\n",
		"a1 NOOP\x00\r\n",
		"a1 LOGIN \"a\x00b\" c\r\n",
		"a1 SELECT {-5+}\r\n",
		"a1 SELECT ~{5+}\r\nINBOX\r\n",
		"a1 SELECT {0+}\r\n\r\n",
		"a1 LOGIN {5+}\r\nal\r\nc {1+}\r\n\n\r\n",
		"a1 SELECT \"INBOX\r\n",
		"a1 FETCH 1 (FLAGS)\r\na2 NOOP\r\na3 SEARCH ALL\r\n",
		"a1 ID (\"name\" {5+}\r\nx\r\ny\r \"version\" NIL)\r\n",
	} {
		c := loggedIn(t, addr)
		sendChunks(c, in, 0)
		settled(t, c, fmt.Sprintf("%q", in), nil)
	}
}

// FuzzGuardSettles: after any input without literals or commands that
// change the conversation (IDLE, AUTHENTICATE, LOGOUT, STARTTLS), a "zz
// NOOP" gets exactly its OK: no desync, no dropped connection, no SERVERBUG.
func FuzzGuardSettles(f *testing.F) {
	for _, seed := range []string{
		"a1 NOOP x\rx1 CREATE injected\r\n",
		"a1  NOOP\r\n",
		"a]1 NOOP\r\n",
		"a1 SEARCH FOO\r\n",
		"a1 APPEND INBOX \"v\"\r\n",
		"a1 FETCH 1:* (FLAGS)\r\na2 STORE 1 +FLAGS (\\Seen)\r\n",
		"a1 LIST \"\" \"&,,,-\"\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		up := strings.ToUpper(input)
		for _, s := range []string{"{", "IDLE", "AUTHENTICATE", "LOGOUT", "STARTTLS", "ZZ"} {
			if strings.Contains(up, s) {
				t.Skip()
			}
		}
		e := newEnv(t)
		done := make(chan struct{})
		t.Cleanup(func() { close(done) })
		go func() {
			for {
				select {
				case <-e.conns:
				case <-e.closed:
				case <-done:
					return
				}
			}
		}()
		cli, server := net.Pipe()
		go NewServer(e.options()).ServeConn(server)
		c := imaptest.New(t, cli)
		c.Expect(greeting)
		go io.WriteString(cli, "l1 LOGIN alice pw\r\n"+input+"\r\nzz NOOP\r\n")
		resps := until(c, "zz ")
		for _, r := range resps {
			if strings.Contains(r, "SERVERBUG") || strings.HasPrefix(r, "* BYE") {
				t.Fatalf("%q: %q", input, resps)
			}
		}
		if last := resps[len(resps)-1]; last != "zz OK NOOP completed" {
			t.Fatalf("%q: %q", input, resps)
		}
	})
}
