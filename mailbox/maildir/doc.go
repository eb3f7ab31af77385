// Package maildir stores a mailbox as a maildir directory (the DMail
// settings use_maildir, maildir_home, maildir_althome, maildir_suffix). It
// implements mailbox.Mailbox as mailbox/mbox does for drop files; the
// session reaches both through the same interface.
//
// # The directory
//
// A maildir is a directory with three subdirectories, as every maildir
// reader and writer expects:
//
//	tmp/   a deliverer writes a new message here, under a unique name
//	new/   ... then renames it here: delivered, not yet seen by an IMAP server
//	cur/   messages an IMAP session has taken in; flags are in the name
//
// A message's file name is "<base><sep>2,<info>": base is unique for the
// life of the message (deliverers build it from the time, the process and
// the host, e.g. "1733580000.M123P456Q7.host,S=1234,W=1260"), sep is ':'
// (';' on Windows, where ':' cannot be in a file name, as other Windows
// maildir tools do), and info lists the flags as letters in ASCII order:
//
//	D \Draft   F \Flagged   P (passed: forwarded)   R \Answered
//	S \Seen    T \Deleted   a..z keywords, by their slot in imapd-keywords
//
// Files in new/ have no info. A file's base never changes while it lives;
// only its info does, by rename(2) within cur/. ",S=<n>" in the base is
// the file size, ",W=<n>" the size with CRLF line ends (RFC822.SIZE), both
// written by imapd for the messages it stores; for other files imapd reads
// the file once to learn W and keeps it in the uid list.
//
// Messages are stored with LF line ends, as MTAs deliver them; a session
// reads them with CRLF line ends (a lone LF becomes CRLF).
//
// # imapd's own files (in the maildir directory, hidden from clients)
//
//	imapd-uidlist       UIDVALIDITY, UIDNEXT and the UID of every base
//	imapd-uidlist.lock  held while the uid list is read and rewritten
//	imapd-keywords      one keyword per line: line n is keyword letter 'a'+n
//
// imapd-uidlist is text:
//
//	imapd-uidlist 1 V<uidvalidity> N<uidnext>
//	<uid> W<crlf size> T<unix mtime> <base> [missing@<unix time>]
//	...
//
// in ascending UID order. It is only ever replaced whole: written to
// imapd-uidlist.tmp, synced, renamed over the old one, and the directory
// synced, all under imapd-uidlist.lock; so a crash leaves the old list or
// the new one, never a torn one. A base found in cur/ or new/ and missing
// from the list gets the next UID; a base in the list whose file is not
// found is marked "missing@<time>", and dropped when reads still do not
// find it ten seconds later (a directory read can miss a file renamed at
// that moment; under Wine several reads in a row can); EXPUNGE drops its
// own at once. A UID is therefore never given twice: UIDNEXT only grows,
// and a message keeps its UID for as long as its base exists.
//
// The lock file is created with O_EXCL and holds "<pid> <host>"; the rules
// are the dot-lock's (package platform/dotlock, as for mbox): a lock of this host whose process is
// gone is broken at once, any other one when it has not been touched for
// two minutes; its holder touches it every 30 seconds while it holds it
// (a first open of a big maildir another program wrote may take long), and
// a lock is broken by moving it aside and checking it is the stale one
// looked at, so a live lock is never broken. It is held for the few
// milliseconds a list update takes, never across a client command, so
// deliveries (which never take it) and other sessions are not held up.
//
// Files imapd stores itself: APPEND puts the message in new/ with its
// flags in the name (":2,S" on a file in new/), so that it is \Recent for
// the next session, as a delivery is; COPY, MOVE and RENAME INBOX put the
// copies in cur/ (not \Recent): UW's rule for mbox. A maildir keeps the
// internal date as the file's time: its zone is not kept (INTERNALDATE is
// shown in the server's zone).
//
// Keywords: at most 26 per maildir (the letters a..z), the convention
// Dovecot uses too; a 27th is refused with mailbox.ErrTooManyKeywords.
package maildir
