package session

import (
	"bufio"
	"bytes"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message/textproto"
)

// keepFields must leave textproto.ReadHeader the same values of the names
// kept as the whole header gives, whatever the header.
func TestKeepFieldsAsReadHeader(t *testing.T) {
	pieces := []string{
		"Subject: hello\r\n", "SUBJECT : again\r\n", "subject:\r\n", "From: a@b\r\n",
		"To: x@y,\r\n", " z@w\r\n", "\tcontinued: with colon\r\n", "Date: Mon, 05 Jan 2026 08:06:04 +0000\r\n",
		"X-Other: 1\r\n", "no colon here\r\n", "Bad Key: v\r\n", ": empty key\r\n", "Message-ID: <a@b>\r\n",
		"In-Reply-To: <c@d>\r\n", "Cc:a\r\n", "Reply-To: r@s\r\n", "Sender: s@t\r\n", "Bcc: \r\n",
		"\r\n", " \r\n", "From(: odd\r\n", "x-\x80: high\r\n", "Subject: bare\rcr\r\n", "Subject: no end",
		"Ré: x\r\n", "message-id: <e@f>\r\n", "DATE: 1 Jan 2000 00:00 GMT\r\n", strings.Repeat("Subject: long ", 500) + "\r\n",
	}
	rnd := rand.New(rand.NewSource(7))
	var cases []string
	for _, p := range pieces {
		cases = append(cases, p, p+"Subject: after\r\n\r\nbody\r\n")
	}
	for range 3000 {
		var b strings.Builder
		for range rnd.Intn(8) {
			b.WriteString(pieces[rnd.Intn(len(pieces))])
		}
		cases = append(cases, b.String())
	}
	read := func(b []byte) textproto.Header {
		h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(b)))
		return h
	}
	for _, c := range cases {
		all := read([]byte(c))
		kept := read(keepFields(nil, []byte(c), envelopeFields))
		for _, k := range []string{"Date", "Subject", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "In-Reply-To", "Message-Id"} {
			if a, b := all.Values(k), kept.Values(k); !slices.Equal(a, b) {
				t.Fatalf("%q: %s %q, kept %q", c, k, a, b)
			}
			if a, b := all.Get(k), kept.Get(k); a != b {
				t.Fatalf("%q: %s %q, kept %q", c, k, a, b)
			}
		}
	}
}
