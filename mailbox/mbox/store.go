package mbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"imapd/mailbox"
)

// Store is the mbox format as a mailbox.Store: Options for every call, but
// ReadOnly, which each call gives.
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

func (s Store) Initialize(path string) error { return Initialize(path, s.opt(false)) }

func (s Store) CreateInbox(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create drop file %s: %w", path, err)
	}
	return f.Close()
}

func (s Store) AppendTo(path string, msgs []mailbox.NewMessage) (uint32, []uint32, error) {
	return AppendTo(path, msgs, s.opt(false))
}

func (s Store) AppendHeld(path string, msgs []mailbox.NewMessage) error {
	return AppendRaw(path, msgs, s.opt(false))
}

func (s Store) Recover(path string) error { return Recover(path, s.opt(false)) }
