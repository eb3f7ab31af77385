package session_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The first demo message as a client must see it: CRLF line ends, no
// From line, no status headers, no trailing separator line.
const (
	msg1Header = "Return-Path: <carol@example.com>\r\n" +
		"Received: from mx.example.com by demo.example ; Mon, 23 Nov 2026 10:00:00 +0000\r\n" +
		"From: carol@example.com\r\n" +
		"To: alice@demo.example\r\n" +
		"Subject: Welcome to imapd\r\n" +
		"Message-ID: <m1@example.com>\r\n" +
		"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n" +
		"\r\n"
	msg1Text = "Hello Alice,\r\n\r\nThis message sits in a DMail drop file.\r\n\r\nFrom here on, it is served over IMAP.\r\n"
	msg1     = msg1Header + msg1Text
)

func lit(s string) string { return fmt.Sprintf("{%d}\r\n%s", len(s), s) }

func TestFetchItems(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")

	r := c.ok("FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE)")
	r.exactly(t, fmt.Sprintf(`* 1 FETCH (UID 1 FLAGS (\Recent) RFC822.SIZE %d INTERNALDATE "23-Nov-2026 10:00:00 +0000")`, len(msg1)))

	r = c.ok("FETCH 1 ENVELOPE")
	r.exactly(t, `* 1 FETCH (ENVELOPE ("Mon, 23 Nov 2026 10:00:00 +0000" "Welcome to imapd" ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) ((NIL NIL "carol" "example.com")) ((NIL NIL "alice" "demo.example")) NIL NIL NIL "<m1@example.com>"))`)

	r = c.ok("FETCH 1 BODYSTRUCTURE")
	r.exactly(t, fmt.Sprintf(`* 1 FETCH (BODYSTRUCTURE ("text" "plain" NIL NIL NIL "7bit" %d 5 NIL NIL NIL NIL))`, len(msg1Text)))
	r = c.ok("FETCH 1 BODY")
	r.exactly(t, fmt.Sprintf(`* 1 FETCH (BODY ("text" "plain" NIL NIL NIL "7bit" %d 5))`, len(msg1Text)))

	// Peeks: no \Seen.
	r = c.ok("FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject From)]")
	r.exactly(t, `* 1 FETCH (BODY[HEADER.FIELDS ("Subject" "From")] `+lit("From: carol@example.com\r\nSubject: Welcome to imapd\r\n\r\n")+")")
	r = c.ok("FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (Received Return-Path Message-ID Date)]")
	r.exactly(t, `* 1 FETCH (BODY[HEADER.FIELDS.NOT ("Received" "Return-Path" "Message-ID" "Date")] `+lit("From: carol@example.com\r\nTo: alice@demo.example\r\nSubject: Welcome to imapd\r\n\r\n")+")")
	r = c.ok("FETCH 1 BODY.PEEK[]")
	r.exactly(t, "* 1 FETCH (BODY[] "+lit(msg1)+")")
	r = c.ok("FETCH 1 BODY.PEEK[HEADER]")
	r.exactly(t, "* 1 FETCH (BODY[HEADER] "+lit(msg1Header)+")")
	r = c.ok("FETCH 1 BODY.PEEK[]<0.10>")
	r.exactly(t, "* 1 FETCH (BODY[]<0> "+lit(msg1[:10])+")")
	r = c.ok("FETCH 1 BODY.PEEK[TEXT]<6.5>")
	r.exactly(t, "* 1 FETCH (BODY[TEXT]<6> "+lit("Alice")+")")
	r = c.ok("FETCH 1 BODY.PEEK[]<%d.100>", len(msg1)-5)
	r.exactly(t, fmt.Sprintf("* 1 FETCH (BODY[]<%d> %s)", len(msg1)-5, lit(msg1[len(msg1)-5:])))
	r = c.ok("FETCH 1 BODY.PEEK[]<1000.10>")
	r.exactly(t, "* 1 FETCH (BODY[]<1000> {0}\r\n)")
	r = c.ok("FETCH 1 RFC822.HEADER")
	r.exactly(t, "* 1 FETCH (RFC822.HEADER "+lit(msg1Header)+")")
	c.ok("FETCH 1 FLAGS").exactly(t, `* 1 FETCH (FLAGS (\Recent))`)

	// Not peeking sets \Seen, and says so.
	r = c.ok("FETCH 1 BODY[TEXT]")
	r.exactly(t, `* 1 FETCH (FLAGS (\Recent \Seen) BODY[TEXT] `+lit(msg1Text)+")")
	r = c.ok("FETCH 1 BODY[1]")
	r.exactly(t, "* 1 FETCH (BODY[1] "+lit(msg1Text)+")")
	r = c.ok("FETCH 2 RFC822")
	r.has(t, `* 2 FETCH (FLAGS (\Recent \Seen) RFC822 `+lit(strings.SplitN(msg2(e), "\n", 2)[1])+")")
	r = c.ok("FETCH 3 RFC822.TEXT")
	r.exactly(t, `* 3 FETCH (FLAGS (\Recent \Seen) RFC822.TEXT `+lit("The report is attached in spirit.\r\n>From the desk of Erin.\r\n")+")")

	c.ok("CHECK") // flags are saved in batches: CHECK saves them now
	if !mboxOnDisk() {
		if got := e.infos(e.inbox()); got != "S,S,S" {
			t.Errorf("maildir flags %q, want S for all three", got)
		}
		return
	}
	status, _ := statusOf(e.read(e.inbox()))
	if strings.Join(status, " ") != "RO RO RO" {
		t.Errorf("Status headers %q, want RO for all three", status)
	}
}

// msg2 returns "size\n<message 2 as the client sees it>".
func msg2(e *env) string {
	m := "Return-Path: <dave@example.com>\r\n" +
		"Received: from mx.example.com by demo.example ; Mon, 23 Nov 2026 11:00:00 +0000\r\n" +
		"From: dave@example.com\r\nTo: alice@demo.example\r\nSubject: Lunch on Friday?\r\n" +
		"Message-ID: <m2@example.com>\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\n\r\n" +
		"Shall we meet at noon?\r\n"
	return strconv.Itoa(len(m)) + "\n" + m
}

var literalSizeRE = regexp.MustCompile(`(RFC822\.SIZE |BODY\[\] \{|RFC822 \{)(\d+)`)

// TestFetchSizes: RFC822.SIZE is exactly the length of BODY[] and RFC822,
// before and after the status headers are written, and the status headers
// never reach the client.
func TestFetchSizes(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	sizes := func() []string {
		t.Helper()
		var out []string
		for i := 1; i <= 3; i++ {
			r := c.ok("FETCH %d (RFC822.SIZE BODY.PEEK[] RFC822)", i)
			m := literalSizeRE.FindAllStringSubmatch(r.Untagged[0], -1)
			if len(m) != 3 || m[0][2] != m[1][2] || m[0][2] != m[2][2] {
				t.Errorf("message %d: sizes disagree: %q", i, m)
			}
			for _, hidden := range []string{"X-UID", "X-IMAPbase", "X-IMAP:", "Status:", "X-Keywords"} {
				if strings.Contains(r.Untagged[0], hidden) {
					t.Errorf("message %d shows a status header %q: %q", i, hidden, r.Untagged[0])
				}
			}
			out = append(out, m[0][2])
		}
		return out
	}
	before := sizes()
	c.ok("STORE 1:3 +FLAGS (\\Seen \\Answered kw1 kw2)")
	c.ok("CHECK")
	if !mboxOnDisk() {
		if got := e.infos(e.inbox()); got != "RSab,RSab,RSab" {
			t.Fatalf("flags not in the names: %q", got)
		}
	} else if text := e.read(e.inbox()); !strings.Contains(text, "X-Keywords: kw1 kw2") || !strings.Contains(text, "X-UID: 3") {
		t.Fatalf("status headers not written:\n%s", text)
	}
	c.ok("SELECT INBOX")
	after := sizes()
	if strings.Join(before, ",") != strings.Join(after, ",") {
		t.Errorf("sizes changed with the status headers: %v -> %v", before, after)
	}
	if before[0] != strconv.Itoa(len(msg1)) {
		t.Errorf("size of message 1 %s, want %d", before[0], len(msg1))
	}
}

const multipart = "From x@example.com Mon Nov 23 10:00:00 2026\n" +
	"From: x@example.com\nSubject: multi\nMIME-Version: 1.0\n" +
	"Content-Type: multipart/mixed; boundary=\"XX\"\n\n" +
	"preamble\n--XX\nContent-Type: text/plain; charset=us-ascii\n\npart one\n" +
	"--XX\nContent-Type: text/html\n\n<p>part two</p>\n--XX--\n\n"

func TestFetchMultipart(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("multi"), multipart)
	c := e.login()
	c.ok("SELECT multi")
	r := c.ok("FETCH 1 BODYSTRUCTURE")
	// go-imap's structure: the CRLF before a boundary belongs to the boundary.
	r.exactly(t, `* 1 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 8 0 NIL NIL NIL NIL)("text" "html" NIL NIL NIL "7bit" 15 0 NIL NIL NIL NIL) "mixed" ("boundary" "XX") NIL NIL NIL))`)
	c.ok("FETCH 1 BODY.PEEK[1]").exactly(t, "* 1 FETCH (BODY[1] "+lit("part one")+")")
	c.ok("FETCH 1 BODY.PEEK[2]").exactly(t, "* 1 FETCH (BODY[2] "+lit("<p>part two</p>")+")")
	c.ok("FETCH 1 BODY.PEEK[2.MIME]").exactly(t, "* 1 FETCH (BODY[2.MIME] "+lit("Content-Type: text/html\r\n\r\n")+")")
	c.ok("FETCH 1 BODY.PEEK[3]").exactly(t, "* 1 FETCH (BODY[3] {0}\r\n)")
	c.ok("FETCH 1 FLAGS").exactly(t, `* 1 FETCH (FLAGS (\Recent))`)
}

// TestFetchExamine: reading a message of a mailbox opened read-only does
// not set \Seen.
func TestFetchExamine(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("EXAMINE INBOX")
	r := c.ok("FETCH 1 BODY[TEXT]")
	r.exactly(t, "* 1 FETCH (BODY[TEXT] "+lit(msg1Text)+")")
	c.ok("FETCH 1 RFC822")
	c.ok("FETCH 1 FLAGS").exactly(t, `* 1 FETCH (FLAGS (\Recent))`)
	c.logout()
	e.waitClosed(1)
	if !mboxOnDisk() {
		if got := e.infos(e.inbox()); strings.Contains(got, "S") {
			t.Errorf("EXAMINE wrote \\Seen: %q", got)
		}
	} else if text := e.read(e.inbox()); strings.Contains(text, "Status: R") {
		t.Errorf("EXAMINE wrote \\Seen:\n%s", text)
	}
}

func TestFetchMacrosAndUID(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	r := c.ok("FETCH 2 FAST")
	r.exactly(t, fmt.Sprintf(`* 2 FETCH (FLAGS (\Recent) RFC822.SIZE %s INTERNALDATE "23-Nov-2026 11:00:00 +0000")`, strings.SplitN(msg2(e), "\n", 2)[0]))
	r = c.ok("FETCH 2 ALL")
	if len(r.Untagged) != 1 || !strings.Contains(r.Untagged[0], `ENVELOPE ("Mon, 23 Nov 2026 11:00:00 +0000" "Lunch on Friday?"`) {
		t.Errorf("FETCH ALL: %q", r.Untagged)
	}
	r = c.ok("FETCH 2 FULL")
	if len(r.Untagged) != 1 || !strings.Contains(r.Untagged[0], `BODY ("text" "plain"`) {
		t.Errorf("FETCH FULL: %q", r.Untagged)
	}

	// UID FETCH always carries the UID; missing UIDs are no error.
	c.ok("UID FETCH 2:* FLAGS").exactly(t, `* 2 FETCH (UID 2 FLAGS (\Recent))`, `* 3 FETCH (UID 3 FLAGS (\Recent))`)
	c.ok("UID FETCH 99 FLAGS").exactly(t)
	c.ok("UID FETCH 3,1 UID").exactly(t, "* 1 FETCH (UID 1)", "* 3 FETCH (UID 3)")
	c.ok("UID FETCH * UID").exactly(t, "* 3 FETCH (UID 3)")
	c.ok("FETCH 3:2 UID").exactly(t, "* 2 FETCH (UID 2)", "* 3 FETCH (UID 3)")
	c.ok("FETCH 1,1,1:2 UID").exactly(t, "* 1 FETCH (UID 1)", "* 2 FETCH (UID 2)")
	c.ok("FETCH * UID").exactly(t, "* 3 FETCH (UID 3)")
}

// TestFetchBad: bad sequence numbers and bad items get BAD with a reason,
// and the session goes on.
func TestFetchBad(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("SELECT INBOX")
	r := c.bad("FETCH 99 FLAGS")
	r.taggedIs(t, "BAD Invalid message sequence number")
	r.exactly(t)
	c.bad("FETCH 2:99 FLAGS").exactly(t)
	// go-imap answers NO [SERVERBUG] to these syntax errors.
	c.refused("FETCH 0 FLAGS")
	c.refused("FETCH x FLAGS")
	c.bad("FETCH 1 (FLAGS BOGUS)")
	c.bad("FETCH 1 BODY[99.HEADER.WHAT]")
	c.bad("FETCH 1")
	c.ok("FETCH 1 UID").exactly(t, "* 1 FETCH (UID 1)")
}

// TestFetchEmptyMailbox: every sequence number is out of range in an empty
// mailbox; UID FETCH 1:* is fine.
func TestFetchEmptyMailbox(t *testing.T) {
	e := newEnv(t)
	c := e.login()
	c.ok("CREATE empty")
	c.ok("SELECT empty").has(t, "* 0 EXISTS")
	c.bad("FETCH 1 FLAGS")
	c.ok("UID FETCH 1:* FLAGS").exactly(t)
	c.ok("SEARCH ALL").exactly(t, "* SEARCH")
}

// TestFetchOddFiles: sizes match the literals whatever the file's line
// ends (CRLF as Windows servers write, none at the end of the file, a
// message without body).
func TestFetchOddFiles(t *testing.T) {
	e := newEnv(t)
	if mboxOnDisk() {
		e.write(e.folder("crlf"), strings.ReplaceAll(mboxOf(2), "\n", "\r\n"))
		e.write(e.folder("noeol"), strings.TrimRight(mboxOf(2), "\n"))
		e.write(e.folder("nobody"), "From a@b Mon Nov 23 10:00:00 2026\nSubject: empty\n\nFrom a@b Mon Nov 23 10:00:00 2026\nSubject: none\n")
		e.write(e.folder("leading"), "\n\n"+mboxOf(2))
	} else {
		// The same oddities as maildir files other programs wrote.
		for name, msgs := range map[string][2]string{
			"crlf":    {"Subject: a\r\n\r\nbody\r\n", "Subject: b\r\n\r\nbody\r\n"},
			"noeol":   {"Subject: a\n\nbody", "Subject: b\n\nbody\n"},
			"nobody":  {"Subject: empty\n\n", "Subject: none\n"},
			"leading": {"\n\nSubject: a\n\nbody\n", ""},
		} {
			fillMaildir(t, e.folder(name), "")
			for _, m := range msgs {
				deliverMaildir(t, e.folder(name), []byte(m), time.Time{})
			}
		}
	}
	c := e.login()
	for _, name := range []string{"crlf", "noeol", "nobody", "leading"} {
		r := c.ok("SELECT %s", name)
		r.has(t, "* 2 EXISTS")
		for i := 1; i <= 2; i++ {
			r := c.ok("FETCH %d (RFC822.SIZE BODY.PEEK[])", i)
			m := literalSizeRE.FindAllStringSubmatch(r.Untagged[0], -1)
			if len(m) != 2 || m[0][2] != m[1][2] {
				t.Errorf("%s %d: %q", name, i, r.Untagged)
				continue
			}
			body := r.Untagged[0][strings.Index(r.Untagged[0], "}\r\n")+3:]
			if strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(body, "\r\n", ""), "\r") {
				t.Errorf("%s %d: bare CR or LF in %q", name, i, body)
			}
		}
		c.ok(`STORE 1 +FLAGS (\Seen)`)
		c.ok("CHECK")
		r = c.ok("FETCH 1:2 (RFC822.SIZE BODY.PEEK[HEADER])")
		for _, l := range r.Untagged {
			if strings.Contains(l, "Status:") || strings.Contains(l, "X-UID") {
				t.Errorf("%s: status header shown: %q", name, l)
			}
		}
	}
}

// TestFetchEnvelopeGroups: RFC 5322 groups keep their start and end
// markers in ENVELOPE (RFC 3501 7.4.2), empty groups included; comments
// and folding are not part of an address; a comment names an address
// that has no display name; an address without a domain is not taken
// for a group marker. (go-imap separates the addresses of a list with a
// space, which RFC 3501's grammar does not have; clients accept it.)
func TestFetchEnvelopeGroups(t *testing.T) {
	e := newEnv(t)
	e.fill(e.folder("g"), "From x@example.com Fri Nov 20 10:00:00 2026\n"+
		"From: <user-from (comment)@ (comment) domain.org>\n"+
		"Sender: =?utf-8?q?J=C3=BCrgen?= <j@example.com>\n"+
		"Reply-To: old@style.example (Old Style)\n"+
		"To: group: g1@d1.org, \"G Two\" <g2@d2.org>;, group2: g3@d3.org;\n"+
		"Cc: undisclosed-recipients:;\n"+
		"Bcc: localonly,\n <a@b.example>\n"+
		"Subject: groups\n"+
		"Date: Fri, 20 Nov 2026 10:00:00 +0100\n\nbody\n\n")
	c := e.login()
	c.ok("SELECT g")
	c.ok("FETCH 1 ENVELOPE").exactly(t, `* 1 FETCH (ENVELOPE ("Fri, 20 Nov 2026 10:00:00 +0100" "groups" `+
		`((NIL NIL "user-from" "domain.org")) `+
		`(("=?utf-8?q?J=C3=BCrgen?=" NIL "j" "example.com")) `+
		`(("Old Style" NIL "old" "style.example")) `+
		`((NIL NIL "group" NIL) (NIL NIL "g1" "d1.org") ("G Two" NIL "g2" "d2.org") (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL "g3" "d3.org") (NIL NIL NIL NIL)) `+
		`((NIL NIL "undisclosed-recipients" NIL) (NIL NIL NIL NIL)) `+
		`((NIL NIL "localonly" ".MISSING-HOST-NAME.") (NIL NIL "a" "b.example")) `+
		`NIL NIL))`)

}
