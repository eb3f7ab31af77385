package mbox

import "imapd/mailbox"

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

func (s Store) AppendTo(path string, msgs []mailbox.NewMessage) (uint32, []uint32, error) {
	return AppendTo(path, msgs, s.opt(false))
}

func (s Store) AppendHeld(path string, msgs []mailbox.NewMessage) error {
	return AppendRaw(path, msgs, s.opt(false))
}

func (s Store) Recover(path string) error { return Recover(path, s.opt(false)) }
