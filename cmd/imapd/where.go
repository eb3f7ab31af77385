package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"imapd/account"
	"imapd/auth"
)

// where prints where a user's mail is, as a session would find it: the
// INBOX drop file and the folder directory, and whether they exist. It is a
// migration aid: run it for a few users and compare with the legacy
// spool (hash_spool directories, invalid_chars encoding, virtual domains).
// With external authentication the authenticator is asked ("lookup"), as
// it decides the drop file.
func (a *app) where(user string, w io.Writer) int {
	cfg, _, err := a.load()
	if cfg == nil || err != nil {
		fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
		return 1
	}
	acct, err := account.Resolve(cfg, user, "", "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "imapd: %s: %v\n", user, err)
		return 1
	}
	source := "drop_path"
	if cfg.HashSpool > 0 {
		source += fmt.Sprintf(" + hash_spool %d", cfg.HashSpool)
	}
	if strings.EqualFold(cfg.AuthentMethod, "external") {
		ext, err := auth.NewExternal(cfg.AuthProcess(), cfg.AuthentTimeout)
		if err != nil {
			fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
			return 1
		}
		res, err := ext.Lookup(acct.AuthName)
		ext.Close()
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "imapd: the authenticator does not know %s: %v\n", acct.AuthName, err)
			return 1
		case res.DropFile != "":
			acct.UseDropFile(res.DropFile)
			source = "the authenticator's lookup"
		}
	}
	fmt.Fprintf(w, "user        %s\n", acct.User)
	if acct.Domain != "" {
		fmt.Fprintf(w, "domain      %s\n", acct.Domain)
	}
	fmt.Fprintf(w, "auth name   %s\n", acct.AuthName)
	if acct.Maildir != "" {
		fmt.Fprintf(w, "INBOX       %s (use_maildir; %s)\n", acct.Maildir, exists(acct.Maildir))
		fmt.Fprintf(w, "folders     %s (maildirs inside the INBOX maildir)\n", acct.Maildir)
		return 0
	}
	fmt.Fprintf(w, "INBOX       %s (%s; %s)\n", acct.DropFile, source, exists(acct.DropFile))
	root := acct.FolderRoot
	if cfg.ImapdMailboxName != "" && !strings.EqualFold(cfg.AuthentMethod, "external") {
		root = filepath.Join("~"+acct.User, cfg.ImapdMailboxName) + " (imapd_mailbox_name, for users of the password file)"
		fmt.Fprintf(w, "folders     %s\n", root)
		return 0
	}
	fmt.Fprintf(w, "folders     %s (%s)\n", root, exists(root))
	return 0
}

func exists(path string) string {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return "does not exist yet"
	case fi.IsDir():
		return "exists, a directory"
	default:
		return fmt.Sprintf("exists, %d bytes", fi.Size())
	}
}
