package server

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzGuard feeds arbitrary client bytes, before and after login, to a real
// server (go-imap behind the guard, over the test backend). No input may
// yield SERVERBUG, a panic (go-imap recovers them into its log) or a hang.
func FuzzGuard(f *testing.F) {
	for _, seed := range []string{
		"a1 NOOP\r\n",
		"a1 APPEND INBOX {30+}\r\nSubject: x\r\n\r\nx1 CREATE y\r\n\r\na2 NOOP\r\n",
		"a1 APPEND INBOX {5}\r\nhello\r\n",
		"a1 SEARCH NOT NOT NOT OR ALL ALL\r\n",
		"a1 CREATE {3+}\r\nx\x00y\r\n",
		`a1 LIST "" "&,,,-"` + "\r\n",
		"a1 SELECT INBOX\r\na2 FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n",
		"a1 IDLE\r\nDONE\r\n",
		"a1 AUTHENTICATE PLAIN\r\nAGFsaWNlAHB3\r\n",
		"a1 ID (\"name\" {3+}\r\nabc)\r\n",
		"a1 SELECT INBOX\r\na2 STORE 1 +FLAGS (\\Seen $x)\r\na3 UID SEARCH UID 1:*\r\n",
		"a1 STATUS INBOX (MESSAGES UIDNEXT)\r\na2 RENAME a b\r\n",
		"a1 SELECT INBOX\r\na2 SEARCH RETURN (SAVE) ALL\r\na3 FETCH $ (FLAGS)\r\na4 UID SEARCH UID $ NOT $\r\n",
		"a1 SELECT INBOX\r\na2 UID EXPUNGE $\r\na3 FETCH 1,$ FLAGS\r\n",
		`a1 LIST (SUBSCRIBED RECURSIVEMATCH) "" ("%" "*/%") RETURN (CHILDREN SUBSCRIBED STATUS (MESSAGES))` + "\r\n",
		"a1 ENABLE IMAP4rev2 UTF8=ACCEPT\r\na2 ENABLE IMAP4rev2\r\n",
		// UTF-8 names once IMAP4rev2 is enabled, and hostile ones: C1
		// control, overlong "/", surrogate, NUL, UTF-8 inside a shift.
		"a1 ENABLE IMAP4rev2\r\na2 CREATE \"Entw\u00fcrfe\"\r\na3 LIST \"\" \"*\"\r\na4 SELECT \"Entw\u00fcrfe\"\r\na5 GETQUOTAROOT \"\u65e5\"\r\n",
		"a1 ENABLE IMAP4rev2\r\na2 CREATE \"a\u0085b\"\r\na3 CREATE \"\xc0\xaf\"\r\na4 STATUS \"\xed\xa0\x80\" (DELETED)\r\na5 CREATE {3+}\r\na\x00b\r\na6 RENAME \"&AP\u00fc-\" x\r\n",
		"a1 ENABLE IMAP4rev2\r\na2 SELECT INBOX\r\na3 SEARCH RECENT NEW OLD\r\na4 SEARCH SUBJECT NEW\r\na5 FETCH 1:* FLAGS\r\na6 SELECT INBOX\r\n",
		"a1 APPEND INBOX ~{5+}\r\na\x00b\r\n\r\na2 APPEND INBOX ~{5}\r\na3 SELECT ~{5+}\r\nINBOX\r\n",
		"a1 SELECT INBOX\r\na2 FETCH 1:* (BINARY.PEEK[1]<0.5> BINARY.SIZE[1] BINARY[2.1])\r\n",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	f.Fuzz(func(t *testing.T, input []byte, login bool) {
		e := newEnv(t)
		go func() {
			for range e.conns {
			}
		}()
		srv := NewServer(e.options())
		cli, server := net.Pipe()
		served := make(chan error, 1)
		go func() { served <- srv.ServeConn(server) }()
		var out bytes.Buffer
		got := make(chan struct{})
		go func() {
			io.Copy(&out, cli)
			close(got)
		}()
		if login {
			input = append([]byte("l0 LOGIN alice pw\r\n"), input...)
		}
		cli.SetWriteDeadline(time.Now().Add(5 * time.Second))
		cli.Write(input)
		cli.Close()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatalf("server did not end after the client closed; output %q", out.String())
		}
		<-got
		if s := out.String(); strings.Contains(s, "SERVERBUG") {
			t.Errorf("SERVERBUG for %q:\n%s", input, s)
		}
		if log := e.logBuf.String(); strings.Contains(log, "panic") {
			t.Errorf("panic for %q:\n%s", input, log)
		}
	})
}
