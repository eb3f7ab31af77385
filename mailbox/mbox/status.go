package mbox

import (
	"bytes"
	"strconv"
	"time"

	"imapd/mailbox"
)

// The UW status headers. They are recognised with exact case, as UW's parser
// does, and hidden from clients and from RFC822.SIZE.
type hdrKind uint8

const (
	hdrNone hdrKind = iota
	hdrStatus
	hdrXStatus
	hdrXKeywords
	hdrXUID
	hdrXIMAP
	hdrXIMAPbase
)

func classify(line []byte) hdrKind {
	if len(line) < 6 {
		return hdrNone
	}
	switch line[0] {
	case 'S':
		if bytes.HasPrefix(line, []byte("Status:")) {
			return hdrStatus
		}
	case 'X':
		switch {
		case bytes.HasPrefix(line, []byte("X-Status:")):
			return hdrXStatus
		case bytes.HasPrefix(line, []byte("X-Keywords:")):
			return hdrXKeywords
		case bytes.HasPrefix(line, []byte("X-UID:")):
			return hdrXUID
		case bytes.HasPrefix(line, []byte("X-IMAPbase:")):
			return hdrXIMAPbase
		case bytes.HasPrefix(line, []byte("X-IMAP:")):
			return hdrXIMAP
		}
	}
	return hdrNone
}

// statusNames are the header names renamed to X-Original-<name> on append.
var statusNames = []string{"Status", "X-Status", "X-Keywords", "X-UID", "X-IMAP", "X-IMAPbase"}

// baseInfo is the content of an X-IMAP or X-IMAPbase header.
type baseInfo struct {
	kind     hdrKind // hdrXIMAP, hdrXIMAPbase or hdrNone
	validity uint32
	last     uint32
	keywords []string
}

// rawStatus is what one message's status headers say.
type rawStatus struct {
	flags    mailbox.Flags
	old      bool
	keywords []string
	uid      uint32 // 0: no (usable) X-UID
	base     baseInfo
	dupUID   bool
}

// value returns the text after "Name:" without the line end.
func headerValue(line []byte) []byte {
	i := bytes.IndexByte(line, ':')
	v := line[i+1:]
	v = bytes.TrimRight(v, "\r\n")
	return v
}

// parseUint32 reads leading decimal digits after spaces; ok false if none or
// overflow.
func parseUint32(b []byte) (uint32, []byte, bool) {
	b = bytes.TrimLeft(b, " \t")
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, b, false
	}
	n, err := strconv.ParseUint(string(b[:i]), 10, 32)
	if err != nil {
		return 0, b[i:], false
	}
	return uint32(n), b[i:], true
}

// add folds one status header line into st.
func (st *rawStatus) add(kind hdrKind, line []byte) {
	v := headerValue(line)
	switch kind {
	case hdrStatus, hdrXStatus:
		for _, c := range v {
			switch c {
			case 'R':
				st.flags |= mailbox.Seen
			case 'O':
				st.old = true
			case 'D':
				st.flags |= mailbox.Deleted
			case 'F':
				st.flags |= mailbox.Flagged
			case 'A':
				st.flags |= mailbox.Answered
			case 'T':
				st.flags |= mailbox.Draft
			}
		}
	case hdrXKeywords:
		for _, k := range bytes.Fields(v) {
			st.keywords = append(st.keywords, string(k))
		}
	case hdrXUID:
		if st.uid != 0 {
			st.dupUID = true
			return
		}
		if n, _, ok := parseUint32(v); ok {
			st.uid = n
		}
	case hdrXIMAP, hdrXIMAPbase:
		if st.base.kind != hdrNone {
			return
		}
		val, rest, ok := parseUint32(v)
		if !ok || val == 0 {
			return
		}
		last, rest, ok := parseUint32(rest)
		if !ok {
			return
		}
		st.base = baseInfo{kind: kind, validity: val, last: last}
		for _, k := range bytes.Fields(rest) {
			st.base.keywords = append(st.base.keywords, string(k))
		}
	}
}

// baseLine is message 1's "X-IMAPbase: <validity> <last> kw..." (no newline).
func baseLine(validity, last uint32, keywords []string) []byte {
	b := make([]byte, 0, 64)
	b = append(b, "X-IMAPbase: "...)
	b = strconv.AppendUint(b, uint64(validity), 10)
	b = append(b, ' ')
	b = strconv.AppendUint(b, uint64(last), 10)
	for _, k := range keywords {
		b = append(b, ' ')
		b = append(b, k...)
	}
	return b
}

// pseudoLine is the pseudo-message's "X-IMAP: %010d %010d kw..." (no newline).
func pseudoLine(validity, last uint32, keywords []string) []byte {
	b := make([]byte, 0, 64)
	b = append(b, "X-IMAP: "...)
	b = appendPad10(b, validity)
	b = append(b, ' ')
	b = appendPad10(b, last)
	for _, k := range keywords {
		b = append(b, ' ')
		b = append(b, k...)
	}
	return b
}

func appendPad10(b []byte, n uint32) []byte {
	s := strconv.FormatUint(uint64(n), 10)
	for i := len(s); i < 10; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendBlock appends the status block UW writes at the end of a message's
// header on checkpoint (docs/formats.md §2): [X-IMAPbase], Status, X-Status,
// X-Keywords padded so the block up to the end of the X-Keywords line is 50
// bytes (80 with X-IMAPbase), X-UID.
func appendBlock(dst []byte, base []byte, f mailbox.Flags, keywords []string, old bool, uid uint32) []byte {
	start := len(dst)
	target := 50
	if base != nil {
		dst = append(dst, base...)
		dst = append(dst, '\n')
		target = 80
	}
	dst = appendStatusLines(dst, f, old)
	dst = append(dst, "X-Keywords:"...)
	for _, k := range keywords {
		dst = append(dst, ' ')
		dst = append(dst, k...)
	}
	for len(dst)-start < target {
		dst = append(dst, ' ')
	}
	dst = append(dst, '\n')
	dst = append(dst, "X-UID: "...)
	dst = strconv.AppendUint(dst, uint64(uid), 10)
	return append(dst, '\n')
}

// appendRawBlock appends the unpadded block UW puts right after the From
// line when it appends to a mailbox another process holds (docs/formats.md
// §4): Status (never O), X-Status, X-Keywords, no X-UID.
func appendRawBlock(dst []byte, f mailbox.Flags, keywords []string) []byte {
	dst = appendStatusLines(dst, f, false)
	dst = append(dst, "X-Keywords:"...)
	for _, k := range keywords {
		dst = append(dst, ' ')
		dst = append(dst, k...)
	}
	return append(dst, '\n')
}

func appendStatusLines(dst []byte, f mailbox.Flags, old bool) []byte {
	dst = append(dst, "Status: "...)
	if f&mailbox.Seen != 0 {
		dst = append(dst, 'R')
	}
	if old {
		dst = append(dst, 'O')
	}
	dst = append(dst, "\nX-Status: "...)
	if f&mailbox.Deleted != 0 {
		dst = append(dst, 'D')
	}
	if f&mailbox.Flagged != 0 {
		dst = append(dst, 'F')
	}
	if f&mailbox.Answered != 0 {
		dst = append(dst, 'A')
	}
	if f&mailbox.Draft != 0 {
		dst = append(dst, 'T')
	}
	return append(dst, '\n')
}

// The pseudo-message strings (UW pseudo.c).
const (
	pseudoFrom    = "MAILER-DAEMON"
	pseudoName    = "Mail System Internal Data"
	pseudoSubject = "DON'T DELETE THIS MESSAGE -- FOLDER INTERNAL DATA"
	pseudoText    = "This text is part of the internal format of your mail folder, and is not\n" +
		"a real message.  It is created automatically by the mail system software.\n" +
		"If deleted, important folder data will be lost, and it will be re-created\n" +
		"with the data reset to initial values.\n"
)

// makePseudoMessage builds the "FOLDER INTERNAL DATA" message exactly as
// docs/formats.md §3 shows it, ending with its separating blank line.
func makePseudoMessage(now time.Time, host string, validity, last uint32, keywords []string) []byte {
	b := make([]byte, 0, 640)
	b = append(b, "From "+pseudoFrom+" "+ctime(now)+"\n"...)
	b = append(b, "Date: "+now.Format("02 Jan 2006 15:04:05 -0700")+"\n"...)
	b = append(b, "From: "+pseudoName+" <"+pseudoFrom+"@"+host+">\n"...)
	b = append(b, "Subject: "+pseudoSubject+"\n"...)
	b = append(b, "Message-ID: <"+strconv.FormatInt(now.Unix(), 10)+"@"+host+">\n"...)
	b = append(b, pseudoLine(validity, last, keywords)...)
	b = append(b, "\nStatus: RO\n\n"...)
	b = append(b, pseudoText...)
	return append(b, '\n')
}
