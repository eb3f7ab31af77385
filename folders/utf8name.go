package folders

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CheckWireNameUTF8 is CheckWireName for a client that enabled IMAP4rev2
// (RFC 9051): the name may hold UTF-8 characters as they are, next to
// modified UTF-7, as the IMAP library reads it then ("&" is still written
// "&-", and "&...-" still decodes). It must be valid UTF-8 (no overlong
// forms, no surrogates) and, decoded, hold no control characters. The
// check rewrites each run of raw UTF-8 as modified UTF-7 and applies
// CheckWireName to the result, so both forms meet the same rules; a raw
// run right after a "&...-" run (which the library never sends) is
// refused as CheckWireName refuses two adjacent encoded runs.
func CheckWireNameUTF8(s string) error {
	m, err := asMUTF7(s)
	if err != nil {
		return err
	}
	return CheckWireName(m)
}

// DecodeWireNameUTF8 is DecodeWireName for a client that enabled
// IMAP4rev2: the UTF-8 name the session uses (see CheckWireNameUTF8).
func DecodeWireNameUTF8(s string) (string, error) {
	m, err := asMUTF7(s)
	if err != nil {
		return "", err
	}
	return DecodeWireName(m)
}

// asMUTF7 rewrites each run of raw UTF-8 characters of s as modified
// UTF-7.
func asMUTF7(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%w: invalid UTF-8", errUTF7)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '&':
			j := strings.IndexByte(s[i:], '-')
			if j < 0 {
				return "", fmt.Errorf("%w: unterminated shift", errUTF7)
			}
			seg := s[i : i+j+1]
			for k := 0; k < len(seg); k++ {
				if seg[k] >= utf8.RuneSelf {
					return "", fmt.Errorf("%w: UTF-8 inside a shift", errUTF7)
				}
			}
			b.WriteString(seg)
			i += j + 1
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			j := i
			for j < len(s) && s[j] >= utf8.RuneSelf {
				j++
			}
			b.WriteString(encodeMUTF7(s[i:j]))
			i = j
		}
	}
	return b.String(), nil
}
