// Package storage picks each user's mailbox store (the on-disk format)
// from the configuration; cmd/imapd and the tests wire it into the session.
package storage

import (
	"path/filepath"

	"imapd/account"
	"imapd/config"
	"imapd/mailbox"
	"imapd/mailbox/maildir"
	"imapd/mailbox/mbox"
)

// For chooses a user's storage format from the configuration: maildir
// for users the account package gave a maildir (use_maildir), mbox drop
// files for everyone else.
func For(cfg *config.Config, host string) func(*account.Account) mailbox.Store {
	mb := mbox.Store{Options: mbox.Options{Hostname: host, UseFlock: cfg.UseFlock, LockID: cfg.LockID}}
	md := maildir.Store{Options: maildir.Options{Hostname: host}}
	return func(a *account.Account) mailbox.Store {
		if a.Maildir != "" {
			s := md
			// New UIDVALIDITYs stay above every one this user's
			// maildirs had (maildir.ValidityFileName).
			s.Options.ValidityFile = filepath.Join(a.Maildir, maildir.ValidityFileName)
			return s
		}
		s := mb
		if a.FolderRoot != "" {
			// New UIDVALIDITYs stay above every one this user's
			// mailboxes had (mbox.ValidityFileName).
			s.Options.ValidityFile = filepath.Join(a.FolderRoot, mbox.ValidityFileName)
			// The index files that spare a parse of unchanged mailboxes
			// (hidden from LIST: ".imapd" names are the server's).
			s.Options.IndexDir = filepath.Join(a.FolderRoot, mbox.IndexDirName)
		}
		return s
	}
}
