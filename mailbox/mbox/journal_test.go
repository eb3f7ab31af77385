package mbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imapd/mailbox"
)

const delivery = "From mta@example.com Tue Nov 24 10:00:00 2026\nSubject: after the crash\n\nhello\n\n"

func deliver(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(s)
	must(t, err)
	must(t, f.Close())
}

// A crash in the middle of a rewrite (simulated by stopping it at a given
// point and leaving the journal) loses nothing: the next open puts the
// original bytes back and keeps mail delivered after the crash.
func TestJournalRecovery(t *testing.T) {
	type op func(t *testing.T, path string) error
	stampAtOpen := func(t *testing.T, path string) error {
		_, err := Open(path, testOpts(at(100)))
		return err
	}
	withOpen := func(fn func(m *Mailbox) error) op {
		return func(t *testing.T, path string) error {
			m, err := Open(path, testOpts(at(100)))
			must(t, err)
			err = fn(m)
			m.rf.Close()
			return err
		}
	}
	expungeFirst := withOpen(func(m *Mailbox) error {
		must(t, m.SetFlags(0, mailbox.Deleted, nil))
		_, err := m.Expunge(nil)
		return err
	})
	flagOnly := withOpen(func(m *Mailbox) error {
		must(t, m.SetFlags(1, mailbox.Seen, nil))
		return m.Checkpoint()
	})
	growKeyword := withOpen(func(m *Mailbox) error {
		must(t, m.SetFlags(2, mailbox.Seen, []string{"a-rather-long-keyword-that-does-not-fit", "and-another-long-one"}))
		return m.Checkpoint()
	})
	stamped := func(t *testing.T, path string) {
		writeFile(t, path, spool61)
		m, err := Open(path, testOpts(at(100)))
		must(t, err)
		must(t, m.Close())
	}
	cases := []struct {
		name    string
		stage   string
		prepare func(t *testing.T, path string)
		op      op
		extra   string // delivered after the crash
		// unjournaled: a same-size flag change is patched in place without
		// a journal; after a crash every message is intact, flags old or new.
		unjournaled bool
	}{
		{"stamp-grow-half", "half", func(t *testing.T, p string) { writeFile(t, p, spool61) }, stampAtOpen, "", false},
		{"stamp-grow-half+mail", "half", func(t *testing.T, p string) { writeFile(t, p, spool61) }, stampAtOpen, delivery, false},
		{"stamp-grow-extended+mail", "extended", func(t *testing.T, p string) { writeFile(t, p, spool61) }, stampAtOpen, delivery, false},
		{"stamp-grow-truncated+mail", "truncated", func(t *testing.T, p string) { writeFile(t, p, spool61) }, stampAtOpen, delivery, false},
		{"expunge-half", "half", stamped, expungeFirst, "", false},
		{"expunge-half+mail", "half", stamped, expungeFirst, delivery, false},
		{"expunge-truncated", "truncated", stamped, expungeFirst, "", false},
		{"expunge-truncated+mail", "truncated", stamped, expungeFirst, delivery, false},
		{"expunge-truncated+bigmail", "truncated", stamped, expungeFirst, strings.Repeat(delivery, 20), false},
		{"flag-patched", "patched", stamped, flagOnly, "", true},
		{"flag-patched+mail", "patched", stamped, flagOnly, delivery, true},
		{"keyword-grow-half+mail", "half", stamped, growKeyword, delivery, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "inbox")
			c.prepare(t, path)
			orig := readFile(t, path)
			crashed := false
			testCrash = func(stage string) bool {
				if stage == c.stage {
					crashed = true
					return true
				}
				return false
			}
			err := c.op(t, path)
			testCrash = nil
			if !crashed || !errors.Is(err, errCrash) {
				t.Fatalf("no crash at %s: %v", c.stage, err)
			}
			os.Remove(path + ".lock") // a crashed process leaves its dot-lock; UW would wait 5 minutes
			if c.unjournaled {
				if _, err := os.Stat(journalPath(path)); err == nil {
					t.Fatal("a journal for a flag-only change")
				}
				if c.extra != "" {
					deliver(t, path, c.extra)
				}
				m, err := Open(path, testOpts(at(200)))
				must(t, err)
				defer m.Close()
				if want := 3 + strings.Count(c.extra, "From mta@"); m.Len() != want {
					t.Fatalf("%d messages after the crash, want %d", m.Len(), want)
				}
				return
			}
			if _, err := os.Stat(journalPath(path)); err != nil {
				t.Fatal("no journal after the crash")
			}
			if c.extra != "" {
				deliver(t, path, c.extra)
			}
			ro, err := Open(path, Options{ReadOnly: true, UseFlock: true})
			must(t, err)
			ro.Close()
			if _, err := os.Stat(journalPath(path)); err == nil {
				t.Fatal("journal still there after recovery")
			}
			if got := readFile(t, path); got != orig+c.extra {
				t.Fatalf("recovered file differs:\n%q\nwant\n%q", got, orig+c.extra)
			}
			m, err := Open(path, testOpts(at(200)))
			must(t, err)
			defer m.Close()
			want := 3 + strings.Count(c.extra, "From mta@")
			if m.Len() != want {
				t.Fatalf("%d messages after recovery, want %d", m.Len(), want)
			}
		})
	}
}

func TestIncompleteJournalIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inbox")
	writeFile(t, path, spool61)
	for _, j := range []string{"", journalMagic, journalMagic + "orig 10 new 5 keep 0 extents 1\n0 10\nFrom ", journalMagic + "orig 10 new 5 keep 0 extents 0\nend 00000000\n"} {
		writeFile(t, journalPath(path), j)
		m, err := Open(path, Options{ReadOnly: true, UseFlock: true})
		must(t, err)
		m.Close()
		if _, err := os.Stat(journalPath(path)); err == nil {
			t.Fatalf("incomplete journal %q kept", j)
		}
		if readFile(t, path) != spool61 {
			t.Fatalf("incomplete journal %q touched the mailbox", j)
		}
	}
}
