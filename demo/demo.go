// Package demo builds a small, complete DMail installation in a directory:
// a spool with mail for demo users, a password file with crypt()ed
// passwords served by cryptauth over the external authentication protocol,
// and the dmail.conf that ties them together. `imapd -demo` runs on it; the
// end-to-end tests use it too.
package demo

import (
	"fmt"
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
	if err := os.WriteFile(filepath.Join(s.Spool, "alice"), []byte(SampleMail(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))), 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return s, nil
}

// SampleMail is a drop file of three messages as the SMTP server writes
// them, the first dated t.
func SampleMail(t time.Time) string {
	var b strings.Builder
	msgs := []struct{ from, subject, body string }{
		{"carol@example.com", "Welcome to imapd", "Hello Alice,\n\nThis message sits in a DMail drop file.\n\nFrom here on, it is served over IMAP.\n"},
		{"dave@example.com", "Lunch on Friday?", "Shall we meet at noon?\n"},
		{"erin@example.com", "Quarterly report", "The report is attached in spirit.\n>From the desk of Erin.\n"},
	}
	for i, m := range msgs {
		d := t.Add(time.Duration(i) * time.Hour)
		fmt.Fprintf(&b, "From %s %s\n", m.from, d.Format("Mon Jan _2 15:04:05 2006"))
		fmt.Fprintf(&b, "Return-Path: <%s>\n", m.from)
		fmt.Fprintf(&b, "Received: from mx.example.com by demo.example ; %s\n", d.Format(time.RFC1123Z))
		fmt.Fprintf(&b, "From: %s\nTo: alice@demo.example\nSubject: %s\n", m.from, m.subject)
		fmt.Fprintf(&b, "Message-ID: <m%d@example.com>\nDate: %s\n\n%s\n", i+1, d.Format(time.RFC1123Z), m.body)
	}
	return b.String()
}

// DropFile is the drop file of a demo user.
func (s *Site) DropFile(user string) string { return filepath.Join(s.Spool, user) }
