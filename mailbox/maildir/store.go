package maildir

import (
	"fmt"
	"os"
	"path/filepath"

	"imapd/mailbox"
)

// Store is the maildir format as a mailbox.Store.
type Store struct{ Options Options }

var _ mailbox.Store = Store{}

func (s Store) opt(readOnly bool) Options {
	o := s.Options
	o.ReadOnly = readOnly
	return o
}

func (s Store) Open(path string, readOnly bool) (mailbox.Mailbox, error) {
	m, err := Open(path, s.opt(readOnly))
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (s Store) Stat(path string, readOnly bool) (mailbox.Status, error) {
	return Stat(path, s.opt(readOnly))
}

func (s Store) Initialize(path string) error { return Create(path, s.opt(false)) }

// CreateInbox makes the INBOX maildir, and the hash directories above it
// (mode 0711: enterable, not listable) when a new maildir_home lacks them.
func (s Store) CreateInbox(path string) error {
	if IsMaildir(path) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o711); err != nil {
		return fmt.Errorf("create maildir %s: %w", path, err)
	}
	return Create(path, s.opt(false))
}

func (s Store) AppendTo(path string, msgs []mailbox.NewMessage) (uint32, []uint32, error) {
	return AppendTo(path, msgs, s.opt(false))
}

// AppendHeld: a maildir takes appends while another session holds it; that
// session sees them at its next Sync.
func (s Store) AppendHeld(path string, msgs []mailbox.NewMessage) error {
	_, _, err := AppendTo(path, msgs, s.opt(false))
	return err
}

// Recover: nothing to finish; a crash leaves at most tmp/ files and a stale
// lock, both handled when the maildir is next opened.
func (s Store) Recover(string) error { return nil }
