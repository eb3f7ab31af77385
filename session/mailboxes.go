package session

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/emersion/go-imap/v2"

	"imapd/config"
	"imapd/mailbox"
	"imapd/platform"
)

// Namespace: one personal namespace, "/" separated, as the legacy server.
func (s *Session) Namespace() (*imap.NamespaceData, error) {
	return &imap.NamespaceData{
		Personal: []imap.NamespaceDescriptor{{Prefix: "", Delim: '/'}},
	}, nil
}

// Create makes a message folder ("a"), or a folder of folders with a
// message folder inside ("a/b"), as the manual's user notes describe.
func (s *Session) Create(name string, options *imap.CreateOptions) error {
	if err := s.begin("CREATE"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if isInbox(name) {
		return no(imap.ResponseCodeAlreadyExists, "Can't create INBOX: it always exists")
	}
	if options != nil {
		if err := s.checkSpecialUse(name, options.SpecialUse); err != nil {
			return err
		}
	}
	path, err := s.tree.Create(name)
	if err != nil {
		return s.storageErr("CREATE", err)
	}
	if path != "" {
		if err := s.storage.Initialize(path); err != nil {
			return s.storageErr("CREATE", err)
		}
	}
	s.deps.Log.Debugf("create %q %s", name, s.who())
	return nil
}

// inUse reports whether a mailbox file is held by a session, this one
// included (the manual: a folder can't be deleted while it is in use).
func (s *Session) inUse(path string) bool {
	if s.sel != nil && s.sel.path == path {
		return true
	}
	return platform.InUse(path)
}

// Delete removes a message folder, or an empty folder of folders.
func (s *Session) Delete(name string) error {
	if err := s.begin("DELETE"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if isInbox(name) {
		return no(imap.ResponseCodeCannot, "Can't delete INBOX")
	}
	path, err := s.tree.Path(name)
	if err != nil {
		return s.storageErr("DELETE", err)
	}
	if s.inUse(path) {
		return no(imap.ResponseCodeInUse, "Can't delete mailbox %s: it is in use by another session; select another mailbox there first", name)
	}
	if err := s.recover(path, "DELETE"); err != nil {
		return err
	}
	if err := s.tree.Delete(name); err != nil {
		return s.storageErr("DELETE", err)
	}
	s.deps.Log.Debugf("delete %q %s", name, s.who())
	return nil
}

// Rename renames a folder. Renaming INBOX moves its messages into a new
// folder and leaves INBOX empty, as RFC 3501 asks.
func (s *Session) Rename(name, newName string, options *imap.RenameOptions) error {
	if err := s.begin("RENAME"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if isInbox(newName) {
		return no(imap.ResponseCodeAlreadyExists, "Can't rename to INBOX: it always exists")
	}
	path, err := s.tree.Path(name)
	if err != nil {
		return s.storageErr("RENAME", err)
	}
	if s.inUse(path) {
		return no(imap.ResponseCodeInUse, "Can't rename mailbox %s: it is in use by a session", name)
	}
	if held := s.heldBelow(path); held != "" && !isInbox(name) { // a maildir INBOX holds the folders; it is not moved
		return no(imap.ResponseCodeInUse, "Can't rename mailbox %s: %s in it is in use by a session", name, held)
	}
	if isInbox(name) {
		return s.renameInbox(path, newName)
	}
	if err := s.recover(path, "RENAME"); err != nil {
		return err
	}
	if err := s.tree.Rename(name, newName); err != nil {
		return s.storageErr("RENAME", err)
	}
	return nil
}

// heldBelow returns the name (below dir) of a message folder inside the
// directory dir that a session holds, or "": renaming dir would pull that
// folder away from under its session.
func (s *Session) heldBelow(dir string) string {
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	held := ""
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		// A held mbox folder is a file, a held maildir a directory.
		if p != dir && (d.Type().IsRegular() || d.IsDir()) && s.inUse(p) {
			if rel, err := filepath.Rel(dir, p); err == nil {
				held = filepath.ToSlash(rel)
			}
			return fs.SkipAll
		}
		return nil
	})
	return held
}

func (s *Session) renameInbox(inbox, newName string) error {
	dest, err := s.tree.Create(newName)
	if err != nil {
		return s.storageErr("RENAME", err)
	}
	if dest == "" {
		return no(imap.ResponseCodeCannot, "Can't rename INBOX to %s: name a message folder, not a folder of folders", newName)
	}
	if err := s.storage.Initialize(dest); err != nil {
		return s.storageErr("RENAME", err)
	}
	claim, _, err := platform.ClaimMailbox(inbox, false, func() {})
	if err != nil {
		return s.storageErr("RENAME", err)
	}
	defer claim.Release()
	if claim.ReadOnly() {
		return no(imap.ResponseCodeInUse, "Can't rename INBOX: it is in use by another session")
	}
	src, err := s.storage.Open(inbox, false)
	if err != nil {
		return s.storageErr("RENAME", err)
	}
	all := make([]int, src.Len())
	for i := range all {
		all[i] = i
	}
	if _, err := copyMessages(src, all, dest, s.storage, false); err != nil {
		src.Close()
		return s.storageErr("RENAME", err)
	}
	// Only what was copied is removed: mail delivered meanwhile stays.
	copied := make(map[uint32]bool, len(all))
	for _, i := range all {
		m := src.Message(i)
		copied[m.UID] = true
		if err := src.SetFlags(i, m.Flags|mailbox.Deleted, m.Keywords); err != nil {
			src.Close()
			return s.storageErr("RENAME", err)
		}
	}
	_, err = src.Expunge(func(uid uint32) bool { return copied[uid] })
	if cerr := src.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s.storageErr("RENAME", err)
	}
	return nil
}

// recover finishes a rewrite a crash interrupted in the mailbox file at
// path before the file is renamed or deleted: its crash journal is found by
// name, so it must not be left behind. A journal that turns out not to be
// this file's is set aside by mbox and only logged.
func (s *Session) recover(path, what string) error {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil // a folder of folders, or nothing: no journal of its own
	}
	err = s.storage.Recover(path)
	if errors.Is(err, mailbox.ErrOrphanJournal) {
		s.deps.Log.Errorf("%s %s: %v", what, s.who(), err)
		return nil
	}
	if err != nil {
		return s.storageErr(what, err)
	}
	return nil
}

// Subscribe adds a name to the subscription file.
func (s *Session) Subscribe(name string) error {
	if err := s.begin("SUBSCRIBE"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if err := s.tree.Subscribe(name); err != nil {
		return s.storageErr("SUBSCRIBE", err)
	}
	return nil
}

// Unsubscribe removes a name from the subscription file.
func (s *Session) Unsubscribe(name string) error {
	if err := s.begin("UNSUBSCRIBE"); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if err := s.tree.Unsubscribe(name); err != nil {
		return s.storageErr("UNSUBSCRIBE", err)
	}
	return nil
}

// specialUseOf is the RFC 6154 special use imapd_special_use gives the
// folder name, or "".
func (s *Session) specialUseOf(name string) imap.MailboxAttr {
	uses := s.deps.Config.ImapdSpecialUse
	if uses == nil {
		uses = config.SpecialUseDefault
	}
	for _, u := range uses {
		if u.Folder == name {
			return imap.MailboxAttr(u.Attr)
		}
	}
	return ""
}

// checkSpecialUse refuses a CREATE ... (USE (...)) this server cannot
// honour: a folder has the special use imapd_special_use gives its name,
// and only that one (RFC 6154 CREATE-SPECIAL-USE: NO [USEATTR], nothing
// created).
func (s *Session) checkSpecialUse(name string, uses []imap.MailboxAttr) error {
	if len(uses) == 0 {
		return nil
	}
	have := s.specialUseOf(name)
	if len(uses) == 1 && have != "" && strings.EqualFold(string(uses[0]), string(have)) {
		return nil
	}
	if have == "" {
		return no("USEATTR", "Can't create %s with a special use: this server gives special uses to configured folder names only", name)
	}
	return no("USEATTR", "Can't create %s with that special use: its special use is %s", name, have)
}

// selectable reports whether a LIST entry with these attributes names a
// mailbox that can be selected.
func selectable(attrs []imap.MailboxAttr) bool {
	for _, a := range attrs {
		if strings.EqualFold(string(a), string(imap.MailboxAttrNoSelect)) || strings.EqualFold(string(a), string(imap.MailboxAttrNonExistent)) {
			return false
		}
	}
	return true
}

// checkStatusItems refuses the STATUS items that are not offered: go-imap
// would write a nil count (and crash the connection) if we said OK. Every
// item go-imap parses is answered now (DELETED and DELETED-STORAGE since
// IMAP4rev2 is offered), so nothing is refused; status must fill in every
// item go-imap may ask for.
func checkStatusItems(options *imap.StatusOptions) error {
	return nil
}

// Status reports on a mailbox without selecting it.
func (s *Session) Status(name string, options *imap.StatusOptions) (*imap.StatusData, error) {
	if err := s.begin("STATUS"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if err := checkStatusItems(options); err != nil {
		return nil, err
	}
	return s.status(name, options, "STATUS")
}

// status is the STATUS data of mailbox name (what: the command, for
// errors). Caller holds mu.
func (s *Session) status(name string, options *imap.StatusOptions, what string) (*imap.StatusData, error) {
	path, err := s.tree.Path(name)
	if err != nil {
		return nil, s.storageErr(what, err)
	}
	var st mailbox.Status
	if s.sel != nil && s.sel.path == path {
		st = statusOf(s.sel.mbox)
	} else {
		if path, err = s.messageFolder(name, what); err != nil {
			return nil, err
		}
		st, err = s.storage.Stat(path, platform.InUse(path))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, no(imap.ResponseCodeNonExistent, "Can't get status of %s: no such mailbox", name)
		}
		if err != nil {
			return nil, s.storageErr(what, err)
		}
	}
	data := &imap.StatusData{Mailbox: name}
	if options.NumMessages {
		data.NumMessages = &st.Messages
	}
	if options.NumRecent {
		data.NumRecent = &st.Recent
	}
	if options.NumUnseen {
		data.NumUnseen = &st.Unseen
	}
	if options.UIDNext {
		data.UIDNext = imap.UID(st.UIDNext)
	}
	if options.UIDValidity {
		data.UIDValidity = st.UIDValidity
	}
	if options.Size {
		data.Size = &st.Size
	}
	if options.NumDeleted {
		data.NumDeleted = &st.Deleted
	}
	if options.DeletedStorage {
		data.DeletedStorage = &st.DeletedSize
	}
	return data, nil
}

func statusOf(mb mailbox.Mailbox) mailbox.Status {
	st := mailbox.Status{Messages: uint32(mb.Len()), UIDNext: mb.UIDNext(), UIDValidity: mb.UIDValidity()}
	for i := 0; i < mb.Len(); i++ {
		m := mb.Message(i)
		if m.Recent {
			st.Recent++
		}
		if m.Flags&mailbox.Seen == 0 {
			st.Unseen++
		}
		if m.Flags&mailbox.Deleted != 0 {
			st.Deleted++
			st.DeletedSize += m.Size
		}
		st.Size += m.Size
	}
	return st
}
