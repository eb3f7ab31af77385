package folders

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Modified UTF-7 (RFC 3501 section 5.1.3) is how IMAP4rev1 sends mailbox
// names on the wire, and UW (hence DMail IMAPD) uses the wire name as the
// file name. go-imap hands us UTF-8, so names are encoded here on the way to
// the disk and decoded on the way back.
//
// Rules: printable US-ASCII (0x20-0x7e) stands for itself, except "&",
// written "&-". Every run of other characters is written "&" + base64 of its
// UTF-16BE form (alphabet A-Za-z0-9+, ; no "=" padding) + "-".

// mutf7 is the modified base64 alphabet: "," replaces "/".
var mutf7 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").
	WithPadding(base64.NoPadding).Strict()

// errUTF7 is wrapped by every decoding error.
var errUTF7 = errors.New("invalid modified UTF-7")

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == ','
}

func isPrintableASCII(r rune) bool { return r >= 0x20 && r <= 0x7e }

// encodeMUTF7 returns the modified UTF-7 form of the UTF-8 string s. Invalid
// UTF-8 bytes are encoded as U+FFFD (callers validate names first).
func encodeMUTF7(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	var run []uint16 // pending non-ASCII characters as UTF-16
	flush := func() {
		if len(run) == 0 {
			return
		}
		raw := make([]byte, 0, 2*len(run))
		for _, u := range run {
			raw = append(raw, byte(u>>8), byte(u))
		}
		b.WriteByte('&')
		b.WriteString(mutf7.EncodeToString(raw))
		b.WriteByte('-')
		run = run[:0]
	}
	for _, r := range s {
		if isPrintableASCII(r) {
			flush()
			if r == '&' {
				b.WriteString("&-")
			} else {
				b.WriteByte(byte(r))
			}
			continue
		}
		run = utf16.AppendRune(run, r)
	}
	flush()
	return b.String()
}

// decodeMUTF7 returns the UTF-8 form of the modified UTF-7 string s. It is
// strict and accepts only the canonical form that encodeMUTF7 produces, so
// that decoding succeeds exactly when encodeMUTF7(result) == s: no bytes
// outside 0x20-0x7e, every "&" run terminated by "-", no empty or
// non-minimal base64, no non-zero padding bits, no odd byte counts, no
// unpaired surrogates, no printable ASCII hidden in base64, and no two base64
// runs next to each other.
func decodeMUTF7(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	prevRun := false // the previous token was a base64 run
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("%w: byte 0x%02x at offset %d", errUTF7, c, i)
		}
		if c != '&' {
			b.WriteByte(c)
			prevRun = false
			i++
			continue
		}
		end := strings.IndexByte(s[i+1:], '-')
		if end < 0 {
			return "", fmt.Errorf("%w: unterminated \"&\" at offset %d", errUTF7, i)
		}
		enc := s[i+1 : i+1+end]
		next := i + 1 + end + 1
		if enc == "" { // "&-" is "&"
			b.WriteByte('&')
			prevRun = false
			i = next
			continue
		}
		if prevRun {
			return "", fmt.Errorf("%w: adjacent encoded runs at offset %d", errUTF7, i)
		}
		// encoding/base64 skips CR and LF; nothing but the alphabet may pass.
		for k := 0; k < len(enc); k++ {
			if !isB64(enc[k]) {
				return "", fmt.Errorf("%w: bad base64 %q at offset %d", errUTF7, enc, i)
			}
		}
		raw, err := mutf7.DecodeString(enc)
		if err != nil {
			return "", fmt.Errorf("%w: bad base64 %q at offset %d", errUTF7, enc, i)
		}
		if len(raw)%2 != 0 {
			return "", fmt.Errorf("%w: odd byte count in %q at offset %d", errUTF7, enc, i)
		}
		units := make([]uint16, len(raw)/2)
		for k := range units {
			units[k] = uint16(raw[2*k])<<8 | uint16(raw[2*k+1])
		}
		for k := 0; k < len(units); k++ {
			u := rune(units[k])
			var r rune
			switch {
			case utf16.IsSurrogate(u):
				if u >= 0xdc00 || k+1 >= len(units) {
					return "", fmt.Errorf("%w: unpaired surrogate in %q at offset %d", errUTF7, enc, i)
				}
				r = utf16.DecodeRune(u, rune(units[k+1]))
				if r == utf8.RuneError {
					return "", fmt.Errorf("%w: unpaired surrogate in %q at offset %d", errUTF7, enc, i)
				}
				k++
			default:
				r = u
			}
			if isPrintableASCII(r) {
				return "", fmt.Errorf("%w: printable ASCII encoded in %q at offset %d", errUTF7, enc, i)
			}
			b.WriteRune(r)
		}
		prevRun = true
		i = next
	}
	return b.String(), nil
}

// CheckWireName reports whether s, a mailbox name as a client sends it, is
// canonical modified UTF-7 whose characters are all printable (no NUL, no
// control characters). It accepts exactly the names this package can
// produce on the wire; the server refuses other names with BAD before they
// reach the session.
func CheckWireName(s string) error {
	name, err := decodeMUTF7(s)
	if err != nil {
		return err
	}
	for _, r := range name {
		if r < 0x20 || r >= 0x7f && r < 0xa0 || r == utf8.RuneError {
			return fmt.Errorf("%w: control character U+%04X", errUTF7, r)
		}
	}
	return nil
}

// DecodeWireName turns a mailbox name as a client sends it (canonical
// modified UTF-7, see CheckWireName) into the UTF-8 name the session uses.
func DecodeWireName(s string) (string, error) {
	if err := CheckWireName(s); err != nil {
		return "", err
	}
	return decodeMUTF7(s)
}
