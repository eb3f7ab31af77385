package main

import (
	"imapd/account"
	"imapd/config"
	"imapd/mailbox"
	"imapd/mailbox/mbox"
)

// storeFor chooses a user's storage format from the configuration. Today
// every user has mbox drop files; maildir (use_maildir) is the next format
// to be wired here (mailbox/maildir).
func storeFor(cfg *config.Config, host string) func(*account.Account) mailbox.Store {
	st := mbox.Store{Options: mbox.Options{Hostname: host, UseFlock: cfg.UseFlock}}
	return func(*account.Account) mailbox.Store { return st }
}
