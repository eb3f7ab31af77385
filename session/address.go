package session

import (
	"mime"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Address headers as ENVELOPE and SEARCH see them. go-imap's own
// extraction (net/mail underneath) drops RFC 5322 groups and every address
// it cannot parse strictly; this one is lenient, as UW's c-client is:
//   - "group: a@b, c@d;" becomes a start-of-group marker (host NIL, mailbox
//     the group's phrase), the members, and an end-of-group marker (all NIL),
//     RFC 3501 7.4.2; an empty group ("undisclosed-recipients:;") keeps its
//     two markers;
//   - comments and folding are dropped from addresses
//     ("<user (c)@ (c) domain.org>" is user@domain.org); a comment is the
//     display name of an address that has none ("user@host (Full Name)");
//   - an address without a domain gets c-client's ".MISSING-HOST-NAME."
//     (a NIL host would read as a group marker).

// missingHost is the host of an address written without a domain.
const missingHost = ".MISSING-HOST-NAME."

// maxAddresses bounds the addresses taken from one header: a hostile
// message must not make ENVELOPE or SEARCH cost more than its size allows
// anyway, and no real header has this many.
const maxAddresses = 10000

// envelope is go-imap's envelope of a header with the address lists
// replaced by ours.
// The fields other than addresses are taken as go-imap's ExtractEnvelope
// takes them (whose own address parsing would be thrown away).
func envelope(h textproto.Header) *imap.Envelope {
	mh := mail.Header{Header: message.Header{Header: h}}
	date, ok := commonDate(h.Get("Date"))
	if !ok {
		date, _ = mh.Date()
	}
	subject, _ := mh.Subject()
	inReplyTo, _ := mh.MsgIDList("In-Reply-To")
	messageID, _ := mh.MessageID()
	env := &imap.Envelope{Date: date, Subject: subject, InReplyTo: inReplyTo, MessageID: messageID}
	env.From = headerAddresses(h, "From")
	env.Sender = headerAddresses(h, "Sender")
	env.ReplyTo = headerAddresses(h, "Reply-To")
	env.To = headerAddresses(h, "To")
	env.Cc = headerAddresses(h, "Cc")
	env.Bcc = headerAddresses(h, "Bcc")
	for _, l := range [][]imap.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		for i := range l {
			if l[i].Host == "" {
				l[i].Mailbox = encodedGroupName(l[i].Mailbox)
			}
		}
	}
	return env
}

// commonDate parses a Date value in the form nearly every mailer writes,
// "Mon, 5 Jan 2026 08:06:04 +0000" (day of one or two digits), and nothing
// else, to what net/mail.ParseDate makes of it, without the 24 layouts
// ParseDate tries (and fails, each with an error built) before the one that
// fits: for such a value its first layout with a day name,
// "Mon, 2 Jan 2006 15:04:05 -0700", is the first that can succeed, and
// ParseDate gives it the value unchanged.
func commonDate(v string) (time.Time, bool) {
	const layout = "Mon, 2 Jan 2006 15:04:05 -0700"
	if len(v) == 30 {
		v2 := v[:5] + "0" + v[5:]
		if !commonDateShape(v2) {
			return time.Time{}, false
		}
	} else if len(v) != 31 || !commonDateShape(v) {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, v)
	return t, err == nil
}

// commonDateShape: "Aaa, 00 Aaa 0000 00:00:00 +0000" with letters and
// digits where shown, the sign + or -.
func commonDateShape(v string) bool {
	const shape = "A, 0 A 0 0:0:0 +0"
	letter := func(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
	digit := func(c byte) bool { return c >= '0' && c <= '9' }
	widths := []int{3, 1, 1, 2, 1, 3, 1, 4, 1, 2, 1, 2, 1, 2, 1, 1, 4}
	k := 0
	for i := 0; i < len(shape); i++ {
		c := shape[i]
		for range widths[i] {
			if k >= len(v) {
				return false
			}
			b := v[k]
			switch c {
			case 'A':
				if !letter(b) {
					return false
				}
			case '0':
				if !digit(b) {
					return false
				}
			case '+':
				if b != '+' && b != '-' {
					return false
				}
			default:
				if b != c {
					return false
				}
			}
			k++
		}
	}
	return k == len(v)
}

// headerAddresses parses every field named key of h (a header may repeat
// one) into one address list.
func headerAddresses(h textproto.Header, key string) []imap.Address {
	var list []imap.Address
	for _, v := range h.Values(key) {
		list = append(list, parseAddressList(v)...)
	}
	return list
}

// addrItem is one piece of an address list: a mailbox, a group start or a
// group end.
type addrItem struct {
	kind int
	text string // the mailbox as written, or the group's phrase
}

const (
	itemMailbox = iota
	itemGroupStart
	itemGroupEnd
)

// splitAddressList cuts an address-list at the commas, colons and
// semicolons that are outside quoted strings, comments and angle brackets.
func splitAddressList(v string) []addrItem {
	var items []addrItem
	var cur strings.Builder
	inGroup, inQuote := false, false
	comment, angle := 0, 0
	flush := func() {
		if s := strings.TrimSpace(cur.String()); s != "" {
			items = append(items, addrItem{itemMailbox, s})
		}
		cur.Reset()
	}
	for i := 0; i < len(v) && len(items) < maxAddresses; i++ {
		ch := v[i]
		switch {
		case ch == '\\' && (inQuote || comment > 0):
			cur.WriteByte(ch)
			if i+1 < len(v) {
				i++
				cur.WriteByte(v[i])
			}
			continue
		case inQuote:
			if ch == '"' {
				inQuote = false
			}
		case comment > 0:
			switch ch {
			case '(':
				comment++
			case ')':
				comment--
			}
		case ch == '"':
			inQuote = true
		case ch == '(':
			comment++
		case ch == '<':
			angle++
		case ch == '>' && angle > 0:
			angle--
		case angle > 0:
		case ch == ':' && !inGroup:
			items = append(items, addrItem{itemGroupStart, strings.TrimSpace(cur.String())})
			cur.Reset()
			inGroup = true
			continue
		case ch == ',':
			flush()
			continue
		case ch == ';' && inGroup:
			flush()
			items = append(items, addrItem{itemGroupEnd, ""})
			inGroup = false
			continue
		}
		cur.WriteByte(ch)
	}
	flush()
	if inGroup {
		items = append(items, addrItem{itemGroupEnd, ""})
	}
	return items
}

// parseAddressList parses one address header value.
func parseAddressList(v string) []imap.Address {
	var list []imap.Address
	for _, it := range splitAddressList(v) {
		switch it.kind {
		case itemGroupStart:
			phrase := unquotePhrase(stripComments(it.text))
			if phrase == "" {
				phrase = missingHost // a group needs a non-NIL name to start
			}
			list = append(list, imap.Address{Mailbox: phrase})
		case itemGroupEnd:
			list = append(list, imap.Address{})
		default:
			if a, ok := parseMailbox(it.text); ok {
				list = append(list, a)
			}
		}
	}
	return list
}

// parseMailbox parses "Name <local@domain>", "<local@domain>" or
// "local@domain (Name)", comments and folding anywhere.
func parseMailbox(s string) (imap.Address, bool) {
	clean, lastComment := stripCommentsKeep(s)
	var name, spec string
	if i := indexUnquoted(clean, '<'); i >= 0 {
		lastComment = "" // "<a@b>" has no name, whatever its comments say
		name = clean[:i]
		spec = clean[i+1:]
		if j := strings.LastIndexByte(spec, '>'); j >= 0 {
			spec = spec[:j]
		}
		// An obsolete route ("@a,@b:local@domain") is not part of the address.
		if j := indexUnquoted(spec, ':'); j >= 0 {
			spec = spec[j+1:]
		}
	} else {
		spec = clean
	}
	spec = removeUnquotedSpace(spec)
	if spec == "" {
		return imap.Address{}, false
	}
	name = unquotePhrase(name)
	if name == "" {
		name = strings.TrimSpace(decodeHeader(lastComment))
	}
	local, host := spec, ""
	if j := lastIndexUnquoted(spec, '@'); j >= 0 {
		local, host = spec[:j], spec[j+1:]
	}
	if host == "" {
		host = missingHost
	}
	if local == "" {
		return imap.Address{}, false
	}
	return imap.Address{Name: name, Mailbox: local, Host: host}, true
}

// stripComments removes comments (outside quoted strings) and turns
// folding line breaks into spaces.
func stripComments(s string) string {
	out, _ := stripCommentsKeep(s)
	return out
}

// stripCommentsKeep is stripComments that also returns the text of the
// last top-level comment.
func stripCommentsKeep(s string) (string, string) {
	var b, c strings.Builder
	var last string
	inQuote, depth := false, 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '\r' || ch == '\n' {
			ch = ' '
		}
		switch {
		case ch == '\\' && (inQuote || depth > 0) && i+1 < len(s):
			if depth > 0 {
				c.WriteByte(s[i+1])
			} else {
				b.WriteByte(ch)
				b.WriteByte(s[i+1])
			}
			i++
			continue
		case depth > 0:
			switch ch {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					last = c.String()
					c.Reset()
					b.WriteByte(' ')
					continue
				}
			}
			c.WriteByte(ch)
			continue
		case inQuote:
			if ch == '"' {
				inQuote = false
			}
		case ch == '"':
			inQuote = true
		case ch == '(':
			depth++
			continue
		}
		b.WriteByte(ch)
	}
	return b.String(), last
}

// unquotePhrase turns a display-name phrase into its text: quoted strings
// unquoted, runs of white space made one space, RFC 2047 words decoded.
func unquotePhrase(s string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && inQuote && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case ch == '"':
			inQuote = !inQuote
		default:
			b.WriteByte(ch)
		}
	}
	return decodeHeader(strings.Join(strings.Fields(b.String()), " "))
}

func removeUnquotedSpace(s string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '\\' && inQuote && i+1 < len(s):
			b.WriteByte(ch)
			i++
			ch = s[i]
		case ch == '"':
			inQuote = !inQuote
		case !inQuote && (ch == ' ' || ch == '\t'):
			continue
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func indexUnquoted(s string, c byte) int {
	inQuote := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == c && !inQuote:
			return i
		}
	}
	return -1
}

func lastIndexUnquoted(s string, c byte) int {
	last, inQuote := -1, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQuote:
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case s[i] == c && !inQuote:
			last = i
		}
	}
	return last
}

// addressForms are the texts SEARCH FROM/TO/CC/BCC also match, besides
// the raw and the decoded header: for each address its display name
// (decoded) and its address with comments and folding removed, and each
// group's name.
func addressForms(v string) []string {
	var forms []string
	for _, a := range parseAddressList(v) {
		switch {
		case a.Host == "" && a.Mailbox != "":
			forms = append(forms, a.Mailbox)
		case a.Host != "":
			if a.Name != "" {
				forms = append(forms, a.Name)
			}
			forms = append(forms, a.Mailbox+"@"+a.Host)
		}
	}
	return forms
}

// encodedGroupName keeps a non-ASCII group name ASCII on the wire, as
// go-imap does for display names.
func encodedGroupName(s string) string { return mime.QEncoding.Encode("utf-8", s) }
