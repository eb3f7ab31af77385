package session

import (
	"strings"

	"github.com/emersion/go-imap/v2"

	"imapd/mailbox"
)

// IMAP4rev2 (RFC 9051) once a client enabled it: go-imap changes its own
// answers (ESEARCH to every SEARCH, no RECENT in SELECT, [CLOSED], UTF-8
// mailbox names); the session drops \Recent from FETCH FLAGS, which
// IMAP4rev2 no longer has. The search keys RECENT, NEW and OLD, gone from
// IMAP4rev2's grammar, are refused by the server's input guard.

// rev2Conn is a Conn that can tell whether the client enabled IMAP4rev2
// (server's conn does; a Conn without the method never has).
type rev2Conn interface {
	IMAP4rev2() bool
}

// rev2 reports whether the client enabled IMAP4rev2 on this connection.
func (s *Session) rev2() bool {
	c, ok := s.conn.(rev2Conn)
	return ok && c.IMAP4rev2()
}

// shown is message m as FETCH FLAGS shows it: without \Recent under
// IMAP4rev2.
func (s *Session) shown(m mailbox.Message) mailbox.Message {
	if m.Recent && s.rev2() {
		m.Recent = false
	}
	return m
}

// selectList is the LIST response SELECT and EXAMINE send under IMAP4rev2
// (RFC 9051 6.3.2: "The server MUST return a LIST response with the
// mailbox name"): the mailbox as LIST shows it. nil under IMAP4rev1 (or if
// the name cannot be listed, which a just selected mailbox can). Caller
// holds mu.
func (s *Session) selectList(name string) *imap.ListData {
	if !s.rev2() {
		return nil
	}
	entries, err := s.listAll("", []string{name}, false)
	if err != nil {
		s.deps.Log.Debugf("SELECT %q %s: LIST: %v", name, s.who(), err)
		return nil
	}
	for _, e := range entries {
		if e.Name == name || strings.EqualFold(name, "INBOX") && strings.EqualFold(e.Name, "INBOX") {
			return &imap.ListData{Attrs: e.Attrs, Delim: e.Delim, Mailbox: e.Name}
		}
	}
	return nil
}
