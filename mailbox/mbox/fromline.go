package mbox

import (
	"bytes"
	"time"
)

// fromDate tells whether line (one line of the file, with or without its
// "\n") is a message separator by UW's VALID rule, and returns the date it
// carries. The line is parsed from the right because the sender may contain
// spaces. Accepted shapes, each optionally followed by " remote from xxx":
//
//	From user Wed Dec  2 05:53[:22] 1992
//	From user Wed Dec  2 05:53[:22] PST 1992
//	From user Wed Dec  2 05:53[:22] -0700 1992
//	From user Wed Dec  2 05:53[:22] 1992 PST
//	From user Wed Dec  2 05:53[:22] 1992 -0700
//
// Lines shorter than 27 characters never qualify. The weekday, month and
// digits are not checked (as in UW); a date that does not parse leaves a
// valid separator with a zero time.
func fromDate(line []byte) (time.Time, bool) {
	if !bytes.HasPrefix(line, []byte("From ")) {
		return time.Time{}, false
	}
	l := line
	if n := len(l); n > 0 && l[n-1] == '\n' {
		l = l[:n-1]
	}
	if n := len(l); n > 0 && l[n-1] == '\r' {
		l = l[:n-1]
	}
	x := len(l)
	if x >= 41 {
		// strip " remote from xxx"
		zn := bytes.LastIndexByte(l, ' ')
		if zn >= 12 && string(l[zn-12:zn]) == " remote from" {
			x = zn - 12
		}
	}
	if x < 27 {
		return time.Time{}, false
	}
	at := func(k int) byte {
		if x+k < 0 || x+k >= len(l) {
			return 0
		}
		return l[x+k]
	}
	var ti, zn int
	var zoneAtEnd bool
	switch {
	case at(-5) == ' ':
		switch {
		case at(-8) == ':':
			ti, zn = -5, 0
		case at(-9) == ' ':
			ti, zn = -9, -9
		case at(-11) == ' ' && (at(-10) == '+' || at(-10) == '-'):
			ti, zn = -11, -11
		}
	case at(-4) == ' ':
		if at(-9) == ' ' {
			ti, zn, zoneAtEnd = -9, -4, true
		}
	case at(-6) == ' ':
		if at(-11) == ' ' && (at(-5) == '+' || at(-5) == '-') {
			ti, zn, zoneAtEnd = -11, -6, true
		}
	}
	if ti == 0 {
		return time.Time{}, false
	}
	yearSp := ti // the space before the year (or before a zone that precedes it)
	if at(ti-3) != ':' {
		return time.Time{}, false
	}
	seconds := at(ti-6) == ':'
	if seconds {
		ti -= 9
	} else {
		ti -= 6
	}
	if x+ti-11 < 4 || at(ti) != ' ' || at(ti-3) != ' ' || at(ti-7) != ' ' || at(ti-11) != ' ' {
		return time.Time{}, false
	}
	// It is a separator; now the date, best effort.
	p := x + ti // index of the space before the time
	day := num(l[p-2 : p])
	mon := monthOf(l[p-6 : p-3])
	hh := num(l[p+1 : p+3])
	mm := num(l[p+4 : p+6])
	ss := 0
	if seconds {
		ss = num(l[p+7 : p+9])
	}
	var year int
	var zone []byte
	switch {
	case zn == 0:
		year = num(l[x-4 : x])
	case !zoneAtEnd:
		year = num(l[x-4 : x])
		zone = l[x+zn+1 : x-5]
	default:
		year = num(l[x+yearSp+1 : x+yearSp+5])
		zone = l[x+zn+1 : x]
	}
	if day < 1 || day > 31 || mon == 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60 || year < 0 {
		return time.Time{}, true
	}
	return time.Date(year, mon, day, hh, mm, ss, 0, zoneLocation(zone)), true
}

// isFromLine reports whether line is a message separator.
func isFromLine(line []byte) bool {
	_, ok := fromDate(line)
	return ok
}

// num parses a short run of digits, allowing leading spaces ("  2"); -1 when
// it is not a number.
func num(b []byte) int {
	n, seen := 0, false
	for _, c := range b {
		switch {
		case c == ' ' && !seen:
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
			seen = true
		default:
			return -1
		}
	}
	if !seen {
		return -1
	}
	return n
}

func monthOf(b []byte) time.Month {
	const names = "janfebmaraprmayjunjulaugsepoctnovdec"
	if len(b) != 3 {
		return 0
	}
	var l [3]byte
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		l[i] = c
	}
	for i := 0; i < 12; i++ {
		if names[3*i:3*i+3] == string(l[:]) {
			return time.Month(i + 1)
		}
	}
	return 0
}

// zoneLocation turns a From-line zone ("+0100", "PST", none) into a location.
// No zone, or an unknown name, means local time (UW's "LCL").
func zoneLocation(z []byte) *time.Location {
	if len(z) == 5 && (z[0] == '+' || z[0] == '-') {
		h, m := num(z[1:3]), num(z[3:5])
		if h >= 0 && m >= 0 {
			off := (h*60 + m) * 60
			if z[0] == '-' {
				off = -off
			}
			return time.FixedZone("", off)
		}
		return time.Local
	}
	if len(z) == 0 {
		return time.Local
	}
	if h, ok := zoneHours[string(bytes.ToUpper(z))]; ok {
		return time.FixedZone(string(z), h*3600)
	}
	return time.Local
}

// zoneHours are the zone names UW's date parser knows (the 3-letter ones).
var zoneHours = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "WET": 0, "BST": 1, "CET": 1, "MET": 1, "EET": 2,
	"EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6,
	"PST": -8, "PDT": -7, "AST": -4, "ADT": -3, "HST": -10, "JST": 9,
}

// ctime formats t like C's ctime() without the newline: "Wed Nov 25 22:45:13 2026".
func ctime(t time.Time) string {
	return t.Format("Mon Jan _2 15:04:05 2006")
}

// newFromLine builds the separator UW writes on APPEND (docs/formats.md §4):
// "From <sender> <ctime of date> <+zone>", the date in its own zone.
func newFromLine(sender string, date time.Time) string {
	if sender == "" {
		sender = "MAILER-DAEMON"
	}
	// A sender must not break the line or the right-to-left date parse.
	s := []byte(sender)
	for i, c := range s {
		if c == '\n' || c == '\r' || c == 0 {
			s[i] = '_'
		}
	}
	return "From " + string(s) + " " + ctime(date) + " " + date.Format("-0700")
}
