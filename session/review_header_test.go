package session_test

// Hostile tests of the header-only reads of ENVELOPE and header SEARCH
// (mailbox.HeaderReader: mbox and maildir AppendHeader, keepFields): odd
// headers must give the same answers as a parse of the whole message. The
// whole message is what FETCH parses when BINARY.SIZE[] is asked with
// ENVELOPE (fetch.go reads it first), so each envelope is compared with
// that one's.

import (
	"fmt"
	"strings"
	"testing"
)

// oddHeaders are messages (mbox text after the From line) whose headers
// end oddly, or are huge, or have odd line ends.
var oddHeaders = []string{
	// No body and no blank line: the next From line ends the header.
	"From: a@example.com\nSubject: nobody here\n",
	// Folded Subject (SEARCH must see it unfolded).
	"From: b@example.com\nSubject: hello\n world\n\tfoldedword\nTo: c@example.com\n\nbody\n",
	// An enormous header block, the Subject after 3,000 other fields.
	"From: c@example.com\n" + strings.Repeat("X-Junk: 0123456789012345678901234567890123456789\n", 3000) +
		"Subject: afterjunk\n\nbody\n",
	// A header line far over any read buffer.
	"From: d@example.com\nSubject: longline " + strings.Repeat("w", 200<<10) + "\nTo: e@example.com\n\nbody\n",
	// CR-only line ends inside the header (one line to a parser of LF).
	"From: e@example.com\rSubject: cronly\rTo: f@example.com\n\nbody\n",
	// CRLF line ends, and a CRLF blank line among LF lines.
	"From: f@example.com\r\nSubject: crlfmix\r\n\r\nbody\n",
	// A status header in the middle (hidden from the client), a
	// continuation line right after it.
	"From: g@example.com\nX-UID: 77\n hiddencont\nSubject: afterstatus\n\nbody\n",
	// A header that starts with a continuation line.
	" leading continuation\nSubject: leadingcont\nFrom: h@example.com\n\nbody\n",
	// A line without a colon before the Subject: the parse stops there.
	"From: i@example.com\nnot a header line\nSubject: aftergarbage\n\nbody\n",
	// A blank line made of a space (not the end of the header).
	"From: j@example.com\n \nSubject: afterspace\n\nbody\n",
	// A header over mailbox.MaxHeaderRead with no empty line (read as a
	// stream instead), its Subject last.
	"From: l@example.com\n" + strings.Repeat("X-Filler: 0123456789012345678901234567890123456789\n", 30000) +
		"Subject: hugeblock\n",
	// Everything lower case, a field name with a space before the colon.
	"from: k@example.com\nsubject : spacedname\ndate: Mon, 23 Nov 2026 10:00:00 +0000\n\nbody\n",
}

// The last message of the file: a header without a blank line, and no LF
// at the end of the file.
const lastOdd = "From: z@example.com\nSubject: eofnoblank"

func TestReviewHeaderOnlyEqualsWhole(t *testing.T) {
	e := newEnv(t)
	var b strings.Builder
	for i, h := range oddHeaders {
		fmt.Fprintf(&b, "From x%d@example.com Mon Nov 23 10:00:00 2026\n%s\n", i, h)
	}
	fmt.Fprintf(&b, "From last@example.com Mon Nov 23 10:00:00 2026\n%s", lastOdd)
	if format == fmtMaildir {
		fillMaildir(t, e.folder("odd"), b.String())
	} else {
		e.write(e.folder("odd"), b.String())
	}
	c := e.login()
	c.ok("SELECT odd")
	n := len(oddHeaders) + 1
	for i := 1; i <= n; i++ {
		env := envelopeOf(t, c.ok("FETCH %d (ENVELOPE)", i).Untagged)
		whole := envelopeOf(t, c.ok("FETCH %d (ENVELOPE BINARY.SIZE[])", i).Untagged)
		if env != whole {
			t.Errorf("message %d: header-only envelope\n%s\nwhole message\n%s", i, env, whole)
		}
	}
	subjects := make([]string, n+1)
	for i := 1; i <= n; i++ {
		whole := envelopeOf(t, c.ok("FETCH %d (ENVELOPE BINARY.SIZE[])", i).Untagged)
		subjects[i] = strings.ToLower(whole)
	}
	for _, word := range []string{"nobody", "foldedword", "world", "afterjunk", "longline", "cronly", "crlfmix",
		"afterstatus", "hiddencont", "leadingcont", "aftergarbage", "afterspace", "spacedname", "eofnoblank", "hugeblock"} {
		r := c.ok("SEARCH SUBJECT %s", word)
		got := ""
		for _, l := range r.Untagged {
			if rest, ok := strings.CutPrefix(l, "* SEARCH"); ok {
				got = strings.TrimSpace(rest)
			}
		}
		// The whole message's parse decides: the word is in its
		// envelope's subject (the second field) or not.
		var want []string
		for i := 1; i <= n; i++ {
			if subj := subjectOf(subjects[i]); strings.Contains(subj, word) {
				want = append(want, fmt.Sprint(i))
			}
		}
		if got != strings.Join(want, " ") {
			t.Errorf("SEARCH SUBJECT %s: %q, want %q", word, got, want)
		}
	}
	r := c.ok("SEARCH HEADER X-Junk 0123")
	r.has(t, "* SEARCH 3")
	c.logout()
}

// envelopeOf returns the ENVELOPE (...) of a FETCH answer.
func envelopeOf(t *testing.T, untagged []string) string {
	t.Helper()
	for _, l := range untagged {
		if i := strings.Index(l, "ENVELOPE ("); i >= 0 {
			s := l[i+len("ENVELOPE "):]
			if j := strings.Index(s, " BINARY.SIZE"); j >= 0 {
				return s[:j]
			}
			return strings.TrimSuffix(s, ")")
		}
	}
	t.Fatalf("no ENVELOPE in %q", untagged)
	return ""
}

// subjectOf returns the subject of an envelope (lower-cased): its second
// field, a quoted string, a literal or NIL (then "").
func subjectOf(env string) string {
	s := strings.TrimPrefix(env, "(")
	field := func() string {
		switch {
		case strings.HasPrefix(s, "nil"):
			s = strings.TrimPrefix(s[3:], " ")
			return ""
		case strings.HasPrefix(s, `"`):
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
				b.WriteByte(s[i])
			}
			s = strings.TrimPrefix(s[i+1:], " ")
			return b.String()
		case strings.HasPrefix(s, "{"):
			j := strings.Index(s, "}")
			var n int
			fmt.Sscan(s[1:j], &n)
			v := s[j+3 : j+3+n]
			s = strings.TrimPrefix(s[j+3+n:], " ")
			return v
		}
		return ""
	}
	field() // date
	return field()
}
