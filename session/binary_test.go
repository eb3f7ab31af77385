package session_test

import (
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// binaryMsg has a part for each transfer encoding BINARY (RFC 3516) decodes,
// one it does not know, and a message/rfc822 part holding a base64 part.
const binaryMsg = "From: w@example.com\r\n" +
	"Subject: binary\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"plain 7bit text\r\n" +
	"--b1\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"AAECAP8A\r\n" + // 00 01 02 00 ff 00
	"aG\r\nk=\r\n" + // "hi", across a line end
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: Quoted-Printable\r\n" +
	"\r\n" +
	"caf=C3=A9 soft=\r\n" +
	"break, trailing   \r\n" +
	"=3D and =ZZ kept\r\n" +
	"--b1\r\n" +
	"Content-Type: application/x-thing\r\n" +
	"Content-Transfer-Encoding: x-uuencode\r\n" +
	"\r\n" +
	"begin 644 x\r\n" +
	"--b1\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"Subject: inner\r\n" +
	"Content-Type: text/plain\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"aW5uZXIgdGV4dA==\r\n" +
	"--b1--\r\n" +
	"epilogue\r\n"

// lit8 is how a BINARY answer holding s is sent: a literal8 when s holds
// a NUL, else a plain literal (RFC 3516 4.3).
func lit8(s string) string {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Sprintf("~{%d}\r\n%s", len(s), s)
	}
	return lit(s)
}

func TestBinaryFetch(t *testing.T) {
	t.Run("mbox", func(t *testing.T) { testBinaryFetch(t, newEnv(t)) })
	t.Run("maildir", func(t *testing.T) { e, _ := maildirEnv(t); testBinaryFetch(t, e) })
}

func testBinaryFetch(t *testing.T, e *env) {
	c := e.login()
	c.ok("CREATE bin")
	c.appendSync("bin", "", binaryMsg).taggedHas(t, "OK [APPENDUID ")
	c.ok("SELECT bin")

	nul := "\x00\x01\x02\x00\xff\x00hi"
	qp := "café softbreak, trailing\r\n= and =ZZ kept" // the CRLF before "--b1" is the delimiter's
	c.ok("FETCH 1 BINARY.PEEK[1]").exactly(t, "* 1 FETCH (BINARY[1] "+lit8("plain 7bit text")+")")
	c.ok("FETCH 1 BINARY.PEEK[2]").exactly(t, "* 1 FETCH (BINARY[2] "+lit8(nul)+")")
	c.ok("FETCH 1 BINARY.PEEK[3]").exactly(t, "* 1 FETCH (BINARY[3] "+lit8(qp)+")")
	c.ok("FETCH 1 (BINARY.SIZE[2] BINARY.SIZE[3] BINARY.SIZE[1])").exactly(t,
		fmt.Sprintf("* 1 FETCH (BINARY.SIZE[2] %d BINARY.SIZE[3] %d BINARY.SIZE[1] %d)", len(nul), len(qp), len("plain 7bit text")))
	// Partial: offsets in the decoded data.
	c.ok("FETCH 1 BINARY.PEEK[2]<3.2>").exactly(t, "* 1 FETCH (BINARY[2]<3> ~{2}\r\n\x00\xff)")
	c.ok("FETCH 1 BINARY.PEEK[2]<6.2>").exactly(t, "* 1 FETCH (BINARY[2]<6> {2}\r\nhi)")
	c.ok("FETCH 1 BINARY.PEEK[3]<0.4>").exactly(t, "* 1 FETCH (BINARY[3]<0> "+lit("caf\xc3")+")")
	c.ok("FETCH 1 BINARY.PEEK[2]<100.5>").exactly(t, "* 1 FETCH (BINARY[2]<100> {0}\r\n)")
	// message/rfc822: the part is the message as it is; its parts decode.
	c.ok("FETCH 1 BINARY.PEEK[5.1]").exactly(t, "* 1 FETCH (BINARY[5.1] "+lit8("inner text")+")")
	c.ok("FETCH 1 BINARY.SIZE[5.1]").exactly(t, "* 1 FETCH (BINARY.SIZE[5.1] 10)")
	// No such part: empty.
	c.ok("FETCH 1 BINARY.PEEK[9]").exactly(t, "* 1 FETCH (BINARY[9] {0}\r\n)")
	c.ok("FETCH 1 BINARY.PEEK[1.1]").exactly(t, "* 1 FETCH (BINARY[1.1] {0}\r\n)")
	// BINARY[] is the message as stored.
	c.ok("FETCH 1 BINARY.SIZE[]").exactly(t, fmt.Sprintf("* 1 FETCH (BINARY.SIZE[] %d)", len(binaryMsg)))

	// An encoding imapd cannot undo: NO [UNKNOWN-CTE], nothing of the
	// message sent, \Seen not set.
	// (\Recent depends on the format: maildir files an APPEND in cur/.)
	recent := ""
	if strings.Contains(c.ok("FETCH 1 FLAGS").Untagged[0], `\Recent`) {
		recent = `\Recent `
	}
	c.no("FETCH 1 (FLAGS BINARY[4])").exactly(t)
	c.cmd("FETCH 1 BINARY.SIZE[4]").taggedIs(t, "NO [UNKNOWN-CTE] Cannot decode Content-Transfer-Encoding x-uuencode")
	c.ok("FETCH 1 FLAGS").exactly(t, "* 1 FETCH (FLAGS ("+strings.TrimSpace(recent)+"))")

	// Not peeking sets \Seen, and says so.
	c.ok("FETCH 1 BINARY[1]").exactly(t, "* 1 FETCH (FLAGS ("+recent+`\Seen) BINARY[1] `+lit8("plain 7bit text")+")")
	// With other items: BODY sections, then BINARY, then BINARY.SIZE (go-imap's order).
	c.ok("UID FETCH 1 (BINARY.SIZE[2] BODY.PEEK[2] BINARY.PEEK[2])").exactly(t,
		"* 1 FETCH (UID 1 BODY[2] "+lit("AAECAP8A\r\naG\r\nk=")+" BINARY[2] "+lit8(nul)+" BINARY.SIZE[2] 8)")
}

// Many items in one answer: go-imap's writes are cut at buffer sizes, never
// where the announcements are, and each item still gets its own form.
func TestBinaryManyItems(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE bin")
	c.appendSync("bin", "", binaryMsg).taggedHas(t, "OK [APPENDUID ")
	c.ok("SELECT bin")
	var items, bodies, want []string // BODY items come first in the answer
	nul := "\x00\x01\x02\x00\xff\x00hi"
	for k := 0; k < 300; k++ {
		switch k % 3 {
		case 0:
			items = append(items, fmt.Sprintf("BINARY.PEEK[2]<%d.3>", k%7))
			want = append(want, fmt.Sprintf("BINARY[2]<%d> %s", k%7, lit8(nul[k%7:min(k%7+3, len(nul))])))
		case 1:
			items = append(items, "BINARY.PEEK[1]")
			want = append(want, "BINARY[1] "+lit8("plain 7bit text"))
		case 2:
			items = append(items, "BODY.PEEK[1]")
			bodies = append(bodies, "BODY[1] "+lit("plain 7bit text"))
		}
	}
	c.ok("FETCH 1 (%s)", strings.Join(items, " ")).exactly(t, "* 1 FETCH ("+strings.Join(append(bodies, want...), " ")+")")
}

// A single-part message: BINARY[1] is its body, decoded.
func TestBinarySinglePart(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	msg := "Subject: one\r\nContent-Transfer-Encoding: base64\r\n\r\nAP8=\r\n"
	c.appendSync("INBOX", "", msg).taggedHas(t, "OK [APPENDUID ")
	c.ok("SELECT INBOX")
	c.ok("FETCH 4 BINARY.PEEK[1]").exactly(t, "* 4 FETCH (BINARY[1] "+lit8("\x00\xff")+")")
	c.ok("FETCH 4 BINARY.SIZE[1]").exactly(t, "* 4 FETCH (BINARY.SIZE[1] 2)")
	c.ok("FETCH 4 BINARY.PEEK[]").exactly(t, "* 4 FETCH (BINARY[] "+lit8(msg)+")")
	// The demo messages have no encoding: 7bit, as stored.
	c.ok("FETCH 1 BINARY.PEEK[1]").exactly(t, "* 1 FETCH (BINARY[1] "+lit8(msg1Text)+")")
	c.ok("FETCH 1 BINARY.PEEK[]").exactly(t, "* 1 FETCH (BINARY[] "+lit8(msg1)+")")
}

// APPEND with a literal8: the mailbox files hold text, so RFC 3516 4.4's
// NO [UNKNOWN-CTE]; nothing is stored.
func TestBinaryAppendRefused(t *testing.T) {
	t.Run("mbox", func(t *testing.T) { testBinaryAppendRefused(t, newEnv(t)) })
	t.Run("maildir", func(t *testing.T) { e, _ := maildirEnv(t); testBinaryAppendRefused(t, e) })
}

func testBinaryAppendRefused(t *testing.T, e *env) {
	c := e.login()
	c.ok("CREATE bin")
	msg := "Subject: x\r\nContent-Transfer-Encoding: binary\r\n\r\na\x00b\r\n"
	c.cmd("APPEND bin ~{%d+}\r\n%s", len(msg), msg).taggedIs(t,
		"NO [UNKNOWN-CTE] Mailboxes here store text only: send the message as {n} with its parts encoded")
	// Synchronizing: refused before the message is invited.
	c.cmd("APPEND bin ~{%d}", len(msg)).taggedHas(t, "NO [UNKNOWN-CTE] ")
	c.ok("STATUS bin (MESSAGES)").has(t, `* STATUS "bin" (MESSAGES 0)`)
}

// Real clients: go-imap's client library and Python's imaplib read the
// answers (plain literal, literal8, partial origin, sizes).
func TestBinaryClients(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE bin")
	c.appendSync("bin", "", binaryMsg).taggedHas(t, "OK [APPENDUID ")
	c.logout()

	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		t.Fatal(err)
	}
	ic := imapclient.New(conn, nil)
	defer ic.Close()
	if err := ic.Login("alice", "alice-secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if !ic.Caps().Has(imap.CapBinary) {
		t.Errorf("go-imap client: no BINARY in %v", ic.Caps())
	}
	if _, err := ic.Select("bin", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := ic.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{
		BinarySection:     []*imap.FetchItemBinarySection{{Part: []int{2}, Peek: true}, {Part: []int{3}, Peek: true}},
		BinarySectionSize: []*imap.FetchItemBinarySectionSize{{Part: []int{2}}},
	}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	var got []string
	for _, b := range msgs[0].BinarySection {
		got = append(got, fmt.Sprintf("%v=%q", b.Section.Part, b.Bytes))
	}
	want := []string{`[2]="\x00\x01\x02\x00\xff\x00hi"`, `[3]="café softbreak, trailing\r\n= and =ZZ kept"`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("go-imap client BINARY: %s, want %s", got, want)
	}
	if len(msgs[0].BinarySectionSize) != 1 || msgs[0].BinarySectionSize[0].Size != 8 {
		t.Errorf("go-imap client BINARY.SIZE: %+v", msgs[0].BinarySectionSize)
	}

	host, port, _ := net.SplitHostPort(e.addr)
	script := `
import imaplib, sys
M = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
M.login("alice", "alice-secret")
M.select("bin")
typ, data = M.fetch("1", "(BINARY.PEEK[2] BINARY.PEEK[3]<0.4> BINARY.SIZE[3])")
print(typ, repr(data))
typ, data = M.fetch("1", "(BINARY.PEEK[4])")
print(typ, repr(data))
M.logout()
`
	out, err := exec.Command("python3", "-c", script, host, port).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 imaplib: %v\n%s", err, out)
	}
	wantPy := `OK [(b'1 (BINARY[2] ~{8}', b'\x00\x01\x02\x00\xff\x00hi'), (b' BINARY[3]<0> {4}', b'caf\xc3'), b' BINARY.SIZE[3] 41)']` + "\n" +
		`NO [b'[UNKNOWN-CTE] Cannot decode Content-Transfer-Encoding x-uuencode']` + "\n"
	if string(out) != wantPy {
		t.Errorf("python3 imaplib:\n got %s\nwant %s", out, wantPy)
	}
}
