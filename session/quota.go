package session

import (
	"github.com/emersion/go-imap/v2"

	"imapd/folders"
	"imapd/quota"
)

// quotaState is user_quota for a logged-in user (package quota).
type quotaState struct {
	limitKB int64
	usage   *quota.Usage
}

// setQuota finds the user's limit at login; info is the authenticator's
// info field.
func (s *Session) setQuota(info string) {
	kb, ok := quota.Limit(s.deps.Config, info)
	if !ok {
		s.quota = nil
		return
	}
	s.quota = &quotaState{limitKB: kb, usage: quota.NewUsage(s.acct.DropFile, s.acct.FolderRoot)}
}

// overQuota refuses APPEND, COPY and MOVE of a user at or over their
// quota; one under it may go over with this command (the legacy rule). A
// usage that cannot be measured is logged and lets the command go on.
func (s *Session) overQuota(what string) error {
	q := s.quota
	if q == nil {
		return nil
	}
	used, err := q.usage.Bytes()
	if err != nil {
		s.deps.Log.Errorf("%s: quota: %v", s.who(), err)
		return nil
	}
	if used >= q.limitKB*1024 {
		s.deps.Log.Infof("%s: %s refused: over quota (%d of %d KB)", s.who(), what, quota.KB(used), q.limitKB)
		return no(imap.ResponseCodeOverQuota, "%s refused: mailbox is over quota (%d of %d KB used)", what, quota.KB(used), q.limitKB)
	}
	return nil
}

// quotaWrote tells the usage that the session wrote to path.
func (s *Session) quotaWrote(path string) {
	if s.quota != nil {
		s.quota.usage.Wrote(path)
	}
}

// QuotaRoot is for the QUOTA extension (RFC 9208), which the server's
// command layer answers: the quota root of mailbox (the user has one, named
// "", holding every mailbox), the usage and the limit of its STORAGE
// resource in kbytes. ok is false when the user has no quota (user_quota
// false, or no limit for them): then there is no quota root. mailbox ""
// asks about the root itself (GETQUOTA ""); a mailbox that does not exist
// is an error (NO [NONEXISTENT]). Before login it is an error too.
func (s *Session) QuotaRoot(mailbox string) (root string, usedKB, limitKB int64, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acct == nil {
		return "", 0, 0, false, no("", "Not logged in")
	}
	if mailbox != "" && !isInbox(mailbox) {
		kind, err := s.tree.Kind(mailbox)
		if err != nil {
			return "", 0, 0, false, s.storageErr("GETQUOTAROOT", err)
		}
		if kind == folders.NotFound {
			return "", 0, 0, false, no(imap.ResponseCodeNonExistent, "No such mailbox %s", mailbox)
		}
	}
	q := s.quota
	if q == nil {
		return "", 0, 0, false, nil
	}
	used, err := q.usage.Bytes()
	if err != nil {
		s.deps.Log.Errorf("%s: quota: %v", s.who(), err)
		return "", 0, 0, false, no(imap.ResponseCodeUnavailable, "Cannot measure the mailbox usage now")
	}
	return "", quota.KB(used), q.limitKB, true, nil
}
