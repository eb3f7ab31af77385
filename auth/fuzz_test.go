package auth

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzExternalReply: whatever an external authenticator answers to a
// check, External returns in bounded time with exactly one of a Result,
// ErrRejected or ErrUnavailable, as the protocol says:
//
//	+OK [user [dropfile [uid] [info...]]]  a Result: fields without blanks, UID -1 unless a number was given
//	-ERR reason                           ErrRejected
//	-DEAD reason                          ErrUnavailable
//	+DATA ...                             skipped until the final answer
//	anything else, a line over 4 KiB, EOF ErrUnavailable, the line not quoted
//
// The authenticator is a one-shot /bin/sh script that prints the fuzz
// input (sent to it octal-escaped as the password, since the protocol
// cannot carry arbitrary bytes in a request) and exits.
func FuzzExternalReply(f *testing.F) {
	for _, s := range []string{
		"+OK alice /var/spool/mail/alice 1001 Alice Example",
		"+OK alice /var/spool/mail/alice",
		"+OK",
		"+OK  ",
		"+ok Alice\t/d 12",
		"+OK alice /d notanumber some info",
		"+OK alice /d -5 x",
		"+OK alice /d 99999999999999999999 x",
		"-ERR bad password",
		"-DEAD database down",
		"-dead",
		"+DATA x\n+DATA y\n+OK bob /d 7",
		"+DATA only",
		"\r",
		"",
		"hello",
		"OK alice",
		"+OK alice\r",
		"-ERR\r\n+OK alice",
		"+OK a\x00b /d\x00 1",
		strings.Repeat("x", 5000),
		"+OK " + strings.Repeat("u", 4093),
	} {
		f.Add([]byte(s))
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		f.Skip("no /bin/sh for the test authenticator")
	}
	script := filepath.Join(f.TempDir(), "reply.sh")
	// One request, one reply (printf %b turns \0NNN back into bytes), exit.
	if err := os.WriteFile(script, []byte("#!/bin/sh\nread -r verb user pass ip\nprintf '%b\\n' \"$pass\"\n"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, reply []byte) {
		if len(reply) > 6000 {
			return // longer replies add nothing beyond the 4 KiB line limit
		}
		var pass strings.Builder
		for _, c := range reply {
			fmt.Fprintf(&pass, `\0%03o`, c)
		}
		if pass.Len() == 0 {
			pass.WriteString(`\c`) // an empty line: printf %b stops at \c, the script still ends it
		}
		e, err := NewExternal(script, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		res, err := e.Check("asker", pass.String(), "192.0.2.1")
		want := expectedReply(reply)
		switch {
		case err == nil && res == nil:
			t.Fatalf("no result and no error")
		case err != nil && res != nil:
			t.Fatalf("both a result and an error: %+v, %v", res, err)
		case want == "ok" && err != nil:
			t.Fatalf("reply %q: error %v, want a result", reply, err)
		case want == "rejected" && !errors.Is(err, ErrRejected):
			t.Fatalf("reply %q: %v, %+v, want ErrRejected", reply, err, res)
		case (want == "dead" || want == "garbage") && !errors.Is(err, ErrUnavailable):
			t.Fatalf("reply %q: %v, %+v, want ErrUnavailable", reply, err, res)
		}
		if err != nil {
			if want == "garbage" && len(reply) > 8 && strings.Contains(err.Error(), string(reply)) {
				t.Fatalf("error quotes the unexpected reply: %v", err)
			}
			return
		}
		if res.User == "" || strings.ContainsAny(res.User, " \t") {
			t.Fatalf("User %q", res.User)
		}
		if strings.ContainsAny(res.DropFile, " \t") {
			t.Fatalf("DropFile %q", res.DropFile)
		}
		if res.Info != strings.TrimSpace(res.Info) {
			t.Fatalf("Info %q not trimmed", res.Info)
		}
		if res.UID < -1 || res.GID != -1 || res.Home != "" {
			t.Fatalf("UID %d GID %d Home %q", res.UID, res.GID, res.Home)
		}
		if res.UID >= 0 {
			f := strings.FieldsFunc(strings.TrimRight(finalLine(reply), "\r\n"), func(r rune) bool { return r == ' ' || r == '\t' })
			if n, err := strconv.Atoi(f[min(3, len(f)-1)]); len(f) < 4 || err != nil || n != res.UID {
				t.Fatalf("UID %d from reply %q", res.UID, reply)
			}
		}
	})
}

// finalLine is the reply line after any +DATA lines.
func finalLine(reply []byte) string {
	for _, l := range strings.SplitAfter(string(reply)+"\n", "\n") {
		if w, _, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " "); strings.EqualFold(strings.TrimSpace(w), "+DATA") {
			continue
		}
		return l
	}
	return ""
}

// expectedReply is what the protocol makes of reply (as the script sends
// it, with a newline added): "ok", "rejected", "dead" (-DEAD) or "garbage"
// (no answer the protocol knows).
func expectedReply(reply []byte) string {
	lines := strings.SplitAfter(string(reply)+"\n", "\n")
	for _, l := range lines {
		if l == "" {
			break // EOF after the lines
		}
		if len(l) > maxReplyLine {
			return "garbage"
		}
		w, _, _ := strings.Cut(strings.TrimRight(l, "\r\n"), " ")
		switch strings.ToUpper(strings.TrimSpace(w)) {
		case "+OK":
			return "ok"
		case "-ERR":
			return "rejected"
		case "-DEAD":
			return "dead"
		case "+DATA":
			continue
		default:
			return "garbage"
		}
	}
	return "garbage"
}
