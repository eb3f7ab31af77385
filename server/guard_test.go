package server

import (
	"io"
	"strings"
	"testing"
)

// feed runs input through a guard in chunks of size n and returns what
// go-imap would read and what the guard answered itself.
func feedGuard(input string, n int) (passed string, replies []string) {
	src := strings.NewReader(input)
	g := &guard{
		read: func(p []byte) (int, error) {
			if len(p) > n {
				p = p[:n]
			}
			return src.Read(p)
		},
		reply: func(line string) { replies = append(replies, line) },
	}
	b, _ := io.ReadAll(g)
	return string(b), replies
}

func TestGuard(t *testing.T) {
	long := strings.Repeat("x", maxLine+10)
	for _, tc := range []struct {
		name, in, passed string
		replies          []string
	}{
		{"plain", "a1 NOOP\r\na2 LOGOUT\r\n", "a1 NOOP\r\na2 LOGOUT\r\n", nil},
		{"append literal passes", "a1 APPEND INBOX {5000}\r\n" + strings.Repeat("m", 5000) + "\r\na2 NOOP\r\n",
			"a1 APPEND INBOX {5000}\r\n" + strings.Repeat("m", 5000) + "\r\na2 NOOP\r\n", nil},
		{"small literal passes", "a1 LOGIN {5}\r\nalice pw\r\n", "a1 LOGIN {5}\r\nalice pw\r\n", nil},
		{"big literal refused", "a1 SELECT {5000}\r\na2 NOOP\r\n", "a2 NOOP\r\n",
			[]string{"a1 NO [TOOBIG] Literals are limited to 4096 bytes for this command"}},
		{"big non-sync literal dropped", "a1 SELECT {5000+}\r\n" + strings.Repeat("x", 5000) + " more\r\na2 NOOP\r\n", "a2 NOOP\r\n",
			[]string{"a1 NO [TOOBIG] Literals are limited to 4096 bytes for this command"}},
		{"long line refused", "a1 NOOP " + long + "\r\na2 NOOP\r\n", "a2 NOOP\r\n",
			[]string{"a1 BAD Command line too long"}},
		{"long line with non-sync literal", "a1 APPEND INBOX " + long + " {3+}\r\nabc\r\na2 NOOP\r\n", "a2 NOOP\r\n",
			[]string{"a1 BAD Command line too long"}},
		{"bad tag", strings.Repeat("(", maxLine+5) + "\r\na2 NOOP\r\n", "a2 NOOP\r\n", []string{"* BAD Command line too long"}},
		{"last line without CRLF", "a1 NOOP", "a1 NOOP", nil},
	} {
		for _, n := range []int{1, 7, 4096} {
			passed, replies := feedGuard(tc.in, n)
			if passed != tc.passed || strings.Join(replies, "|") != strings.Join(tc.replies, "|") {
				t.Errorf("%s (chunks of %d):\n passed %.80q\n want   %.80q\n replies %q, want %q", tc.name, n, passed, tc.passed, replies, tc.replies)
			}
		}
	}
}
