// Package demo builds a small, complete DMail installation in a directory:
// a spool with mail for demo users, a password file with crypt()ed
// passwords served by cryptauth over the external authentication protocol,
// and the dmail.conf that ties them together. `imapd -demo` runs on it; the
// end-to-end tests use it too.
package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// User is a demo account.
type User struct {
	Name, Password string
}

// Users are the demo accounts.
var Users = []User{{"alice", "alice-secret"}, {"bob", "bob-secret"}}

// Site is a demo installation.
type Site struct {
	Dir      string // everything lives below here
	Config   string // dmail.conf
	Spool    string // drop_path
	Log      string // log_path
	Password string // cryptauth's password file
}

// Setup writes a demo installation into dir (which must exist). cryptauth
// is the path of the cryptauth binary; its -add mode hashes the passwords.
// extraConf lines are appended to dmail.conf.
func Setup(dir, cryptauth string, extraConf ...string) (*Site, error) {
	s := &Site{
		Dir:      dir,
		Config:   filepath.Join(dir, "dmail.conf"),
		Spool:    filepath.Join(dir, "spool"),
		Log:      filepath.Join(dir, "log"),
		Password: filepath.Join(dir, "passwd"),
	}
	for _, d := range []string{s.Spool, s.Log} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	for _, u := range Users {
		out, err := exec.Command(cryptauth, "-add", s.Password, u.Name, u.Password).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("demo: cryptauth -add %s: %v: %s", u.Name, err, out)
		}
	}
	conf := []string{
		"# dmail.conf written by imapd -demo",
		"host_domain demo.example",
		"drop_path " + s.Spool,
		"log_path " + s.Log,
		"log_level info",
		"authent_method external",
		fmt.Sprintf("authent_process %s -file %s -drop_path %s", cryptauth, s.Password, s.Spool),
		"authent_timeout 10",
	}
	conf = append(conf, extraConf...)
	if err := os.WriteFile(s.Config, []byte(strings.Join(conf, "\n")+"\n"), 0o644); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.Spool, "alice"), []byte(SampleMail(sampleDate)), 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return s, nil
}

// SampleMail is a drop file of three messages as the SMTP server writes
// them, the first dated t.
func SampleMail(t time.Time) string {
	var b strings.Builder
	for _, m := range sampleMessages(t) {
		fmt.Fprintf(&b, "From %s %s\n%s\n", m.from, m.date.Format("Mon Jan _2 15:04:05 2006"), m.text)
	}
	return b.String()
}

type sample struct {
	from, text string
	date       time.Time
}

// sampleMessages are the messages of SampleMail, without From line and
// separating blank line.
func sampleMessages(t time.Time) []sample {
	msgs := []struct{ from, subject, body string }{
		{"carol@example.com", "Welcome to imapd", "Hello Alice,\n\nThis message sits in a DMail drop file.\n\nFrom here on, it is served over IMAP.\n"},
		{"dave@example.com", "Lunch on Friday?", "Shall we meet at noon?\n"},
		{"erin@example.com", "Quarterly report", "The report is attached in spirit.\n>From the desk of Erin.\n"},
	}
	var out []sample
	for i, m := range msgs {
		d := t.Add(time.Duration(i) * time.Hour)
		var b strings.Builder
		fmt.Fprintf(&b, "Return-Path: <%s>\n", m.from)
		fmt.Fprintf(&b, "Received: from mx.example.com by demo.example ; %s\n", d.Format(time.RFC1123Z))
		fmt.Fprintf(&b, "From: %s\nTo: alice@demo.example\nSubject: %s\n", m.from, m.subject)
		fmt.Fprintf(&b, "Message-ID: <m%d@example.com>\nDate: %s\n\n%s", i+1, d.Format(time.RFC1123Z), m.body)
		out = append(out, sample{from: m.from, text: b.String(), date: d})
	}
	return out
}

// sampleDate is the date of the first demo message.
var sampleDate = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// DropFile is the drop file of a demo user.
func (s *Site) DropFile(user string) string { return filepath.Join(s.Spool, user) }

// MaildirInbox makes dir a user's INBOX as a maildir (use_maildir): the
// demo messages are delivered into dir/new/ as an MTA does (tmp/, then
// rename), dated as in the drop file, and the drop file is removed.
func (s *Site) MaildirInbox(user, dir string) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	for i, m := range sampleMessages(sampleDate) {
		name := fmt.Sprintf("%d.M%dP%d.demo", m.date.Unix(), i, os.Getpid())
		if err := DeliverMaildir(dir, name, []byte(m.text), m.date); err != nil {
			return err
		}
	}
	if err := os.Remove(s.DropFile(user)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// DeliverMaildir delivers one message into the maildir dir as an MTA does:
// written to tmp/<name>, dated (when date is set), renamed to new/<name>.
func DeliverMaildir(dir, name string, msg []byte, date time.Time) error {
	tmp := filepath.Join(dir, "tmp", name)
	if err := os.WriteFile(tmp, msg, 0o600); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	if !date.IsZero() {
		if err := os.Chtimes(tmp, date, date); err != nil {
			return fmt.Errorf("deliver: %w", err)
		}
	}
	if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	return nil
}
