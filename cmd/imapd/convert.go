package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"

	"imapd/account"
	"imapd/folders"
	"imapd/mailbox"
	"imapd/mailbox/maildir"
	"imapd/mailbox/mbox"
	"imapd/platform"
)

// convert copies a user's drop file and folder files into maildirs where
// use_maildir would look for them (docs/maildir.md), keeping UIDVALIDITY,
// UIDs, flags, keywords and dates, so clients do not download anything
// again. It can be run again (after a crash, or to pick up what changed in
// the drop file meanwhile): each run brings the maildirs to the mbox's
// state, copying new messages, taking the flags copied ones have now, and
// removing copies of messages expunged since. Each folder is verified
// (every message's UID, flags, size and bytes) after it is copied; the mbox
// files are never changed or removed.
func (a *app) convert(user string, w io.Writer) int {
	cfg, _, err := a.load()
	if cfg == nil || err != nil {
		fmt.Fprintf(os.Stderr, "imapd: %v\n", err)
		return 1
	}
	mcfg := *cfg
	mcfg.UseMaildir = false
	src, err := account.Resolve(&mcfg, user, "", "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "imapd: -convert %s: %v\n", user, err)
		return 1
	}
	dcfg := *cfg
	dcfg.UseMaildir = true
	dst, err := account.Resolve(&dcfg, user, "", "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "imapd: -convert %s: %v\n", user, err)
		return 1
	}
	uid, gid, hasOwner := platform.FileOwner(src.DropFile)
	if _, err := os.Lstat(src.DropFile); err != nil {
		fmt.Fprintf(os.Stderr, "imapd: -convert %s: no drop file: %v\n", user, err)
		return 1
	}
	if err := (maildir.Store{}).CreateInbox(dst.Maildir); err != nil {
		fmt.Fprintf(os.Stderr, "imapd: -convert %s: %v\n", user, err)
		return 1
	}
	mopt := mbox.Options{ReadOnly: true, Hostname: a.host, UseFlock: cfg.UseFlock}
	dopt := maildir.Options{Hostname: a.host}
	from := folders.New(src.FolderRoot, src.DropFile, platform.SubscriptionFile())
	to := folders.NewMaildir(dst.Maildir, platform.SubscriptionFile())

	names := []string{"INBOX"}
	entries, err := from.List("", []string{"*"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "imapd: -convert %s: list folders: %v\n", user, err)
		return 1
	}
	for _, e := range entries {
		if e.Name != "INBOX" && !slices.Contains(e.Attrs, "\\Noselect") {
			names = append(names, e.Name)
		}
	}
	failed := false
	for _, name := range names {
		n, err := convertFolder(from, to, name, mopt, dopt)
		if err != nil {
			fmt.Fprintf(os.Stderr, "imapd: -convert %s: %s: %v\n", user, name, err)
			failed = true
			continue
		}
		fmt.Fprintf(w, "%-30s %d messages, verified\n", name, n)
	}
	if sub := filepath.Join(src.FolderRoot, platform.SubscriptionFile()); !failed {
		if b, err := os.ReadFile(sub); err == nil {
			target := filepath.Join(dst.Maildir, platform.SubscriptionFile())
			if _, err := os.Lstat(target); errors.Is(err, fs.ErrNotExist) {
				os.WriteFile(target, b, 0o600)
			}
		}
	}
	if hasOwner {
		if err := chownTree(dst.Maildir, uid, gid); err != nil {
			fmt.Fprintf(os.Stderr, "imapd: -convert %s: %v\n", user, err)
			failed = true
		}
	}
	if failed {
		return 1
	}
	fmt.Fprintf(w, "done: %s -> %s (the drop file and folder files are unchanged; remove them once the users' clients are checked)\n",
		src.DropFile, dst.Maildir)
	return 0
}

// convertFolder copies one mbox folder into its maildir and verifies it.
func convertFolder(from, to *folders.Tree, name string, mopt mbox.Options, dopt maildir.Options) (int, error) {
	srcPath, err := from.Path(name)
	if err != nil {
		return 0, err
	}
	dstPath, err := to.Path(name)
	if err != nil {
		return 0, err
	}
	if name != "INBOX" {
		if k, err := to.Kind(name); err != nil {
			return 0, err
		} else if k == folders.NotFound {
			if _, err := to.Create(name); err != nil {
				return 0, err
			}
		}
	}
	mb, err := mbox.Open(srcPath, mopt)
	if err != nil {
		return 0, err
	}
	defer mb.Close()
	im, err := maildir.NewImporter(dstPath, mb.UIDValidity(), dopt)
	if err != nil {
		return 0, err
	}
	present := make(map[uint32]bool, mb.Len())
	for i := range mb.Len() {
		m := mb.Message(i)
		present[m.UID] = true
		if im.Has(m.UID) {
			// Copied by an earlier run: take the flags it has now.
			if err := im.Update(m.UID, m.Flags, m.Keywords); err != nil {
				return 0, err
			}
			continue
		}
		r, err := mb.Open(i)
		if err != nil {
			return 0, err
		}
		err = im.Add(maildir.ImportMessage{UID: m.UID, Flags: m.Flags, Keywords: m.Keywords, Date: m.InternalDate, Body: r})
		r.Close()
		if err != nil {
			return 0, err
		}
	}
	if err := im.Prune(func(uid uint32) bool { return present[uid] }); err != nil {
		return 0, err
	}
	if err := im.Finish(mb.UIDNext()); err != nil {
		return 0, err
	}
	return mb.Len(), verify(mb, dstPath, dopt)
}

// verify compares every message of the maildir with the mbox's.
func verify(mb *mbox.Mailbox, dir string, dopt maildir.Options) error {
	dopt.ReadOnly = true
	md, err := maildir.Open(dir, dopt)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer md.Close()
	byUID := make(map[uint32]int, md.Len())
	for j := range md.Len() {
		byUID[md.Message(j).UID] = j
	}
	if md.UIDValidity() != mb.UIDValidity() || md.UIDNext() < mb.UIDNext() {
		return fmt.Errorf("verify: UIDVALIDITY %d/%d, UIDNEXT %d/%d", md.UIDValidity(), mb.UIDValidity(), md.UIDNext(), mb.UIDNext())
	}
	for i := range mb.Len() {
		a := mb.Message(i)
		j, ok := byUID[a.UID]
		if !ok {
			return fmt.Errorf("verify: UID %d missing", a.UID)
		}
		b := md.Message(j)
		if a.Flags != b.Flags || !slices.Equal(a.Keywords, b.Keywords) || a.Size != b.Size {
			return fmt.Errorf("verify: UID %d differs (flags %v/%v, keywords %v/%v, size %d/%d)", a.UID, a.Flags, b.Flags, a.Keywords, b.Keywords, a.Size, b.Size)
		}
		if err := sameBytes(mb, i, md, j); err != nil {
			return fmt.Errorf("verify: UID %d: %w", a.UID, err)
		}
	}
	return nil
}

func sameBytes(a mailbox.Mailbox, i int, b mailbox.Mailbox, j int) error {
	ra, err := a.Open(i)
	if err != nil {
		return err
	}
	defer ra.Close()
	rb, err := b.Open(j)
	if err != nil {
		return err
	}
	defer rb.Close()
	ba, err := io.ReadAll(ra)
	if err != nil {
		return err
	}
	bb, err := io.ReadAll(rb)
	if err != nil {
		return err
	}
	if !bytes.Equal(ba, bb) {
		return errors.New("content differs")
	}
	return nil
}

// chownTree gives the converted maildir to the drop file's owner (the
// conversion normally runs as root).
func chownTree(root string, uid, gid int) error {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		return nil
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
