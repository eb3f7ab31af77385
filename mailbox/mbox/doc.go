// Package mbox owns the UW-compatible mbox storage: DMail drop files (the
// INBOX) and the folder files under <drop>.mbx/, read and written byte for
// byte as UW imapd (and so DMail IMAPD) does, shared safely with the SMTP
// and POP3 servers that append to and read the same files. It implements
// mailbox.Mailbox; it knows nothing of IMAP sessions.
//
// # Format
//
// Messages start at a "From " line that passes UW's VALID date test (see
// fromDate); a body line such as "From me" does not split a message. A
// non-empty file whose first non-blank line is not such a line is not a
// mailbox (mailbox.ErrNotMailbox). Each message carries its state in the
// status headers Status (R \Seen, O not \Recent), X-Status (D F A T),
// X-Keywords and X-UID; the first message carries "X-IMAPbase: <uidvalidity>
// <uidlast> <keywords>", unless the file starts with the "FOLDER INTERNAL
// DATA" pseudo-message, whose "X-IMAP: %010d %010d <keywords>" line holds
// that state instead and which no client ever sees. The keyword list defines
// keyword slot order (30 at most). Status headers are hidden from clients
// and from RFC822.SIZE; sizes count LF as CRLF; ">From" is never unescaped.
// INTERNALDATE is the From line's date (local time when it has no zone).
//
// UIDs follow UW (docs/compatibility.md, "UIDs"): without UID state the UIDVALIDITY is the
// time of the first stamping and UIDs are given in file order; an X-UID must
// exceed the previous one (else a new UIDVALIDITY and renumbering); a message
// without X-UID gets ++uidlast; an X-UID above uidlast raises it. A new
// UIDVALIDITY (first stamping, CREATE, renumbering) is the time but above
// the previous one and above the user's high-water mark
// (Options.ValidityFile, validity.go), which it then raises: a mailbox
// deleted and created again in the same second, or after a clock step,
// still gets a greater one. The mark file holds one decimal number, is
// replaced by rename under its dot-lock, and is best effort (no folder
// directory: no mark).
//
// # What we write
//
// Rewrites put the status block at the end of each header in the order
// X-IMAPbase, Status, X-Status, X-Keywords (space-padded so the block up to
// the end of that line is 50 bytes, 80 with X-IMAPbase), X-UID, keep every
// From line byte for byte, and end each message with one blank line
// (docs/formats.md §2). CREATE writes the pseudo-message (Initialize, §3); a
// rewrite that would leave the file empty writes one too, keeping
// UIDVALIDITY and uidlast (§3); once present it is kept. A pseudo-message
// is never added to a mailbox that has messages (the POP3 server would
// deliver it): there the first message carries X-IMAPbase. APPEND writes a
// new From line "From <sender> <ctime> <+zone>" (or keeps the one of a
// copied message), turns CRLF into LF and NUL into 0x80, escapes lines
// starting "From " with '>', renames incoming status headers to
// X-Original-<name> and adds the status block with X-UID (§4). Appended
// messages are \Recent for the next reader (no "O"); copies (NewMessage
// with FromLine) get "O", as UW's COPY. AppendRaw writes UW's raw layout for
// a mailbox another process holds read-write.
//
// Invariant, stronger than UW: whenever a read-write Mailbox holds the locks
// (Open, Sync finding mail, Checkpoint, Expunge, Append), it persists
// UIDVALIDITY/uidlast and an X-UID on every message before letting go, so
// the file always agrees with what the session told its client. This stays
// cheap: new mail sits at the end, so only the tail is rewritten, and the
// uidlast in X-IMAP (fixed width) or X-IMAPbase (absorbed by the X-Keywords
// padding) is patched in place. A read-write open claims \Recent: the
// messages without "O" are \Recent for it, and get "O" at that first write.
//
// # Locking
//
// Around every write: the dot-lock <file>.lock, then the file lock
// (platform/filelock: flock(2), fcntl(2) on Solaris and illumos as UW
// there) on the file, exclusive, when Options.UseFlock (dmail.conf
// use_flock). Reads (a read-only open, STATUS, a read-only session's look
// at new mail) take the file lock shared and no dot-lock (lockRead), so
// readers never queue behind each other: every writer that honours
// use_flock (imapd, UW c-client, the DMail servers) takes the file lock
// exclusively to write, so it waits while a reader holds it, and nothing
// it writes can be half seen. The dot-lock is looked at once the reader
// holds the file lock and has noted the size: if one exists (a writer is
// at work or waits for the readers to finish, or a UW reader, which takes
// both) the reader lets go and queues for the dot-lock as a writer does,
// so writers are not starved; a writer that honours only the dot-lock (an
// MTA appending) and starts after that look only writes after the noted
// size, and the reader reads nothing beyond it. Without use_flock, or on
// Windows, readers take the dot-lock as writers do. A read-write open
// takes both locks, as it may write. Every lock is retried until
// Options.LockTimeout, then mailbox.ErrLocked: a lock this process gives
// up wakes its waiters here at once; one another process holds is looked
// at every millisecond (a dot-lock's name by lstat(2), its content and age
// every 25 ms). No lock is held between calls. Message bodies (Open) are read without
// locks, as UW does. On windows the mailbox itself is never file-locked
// (locks there are mandatory and would shut the POP3 and SMTP servers out
// of the file): the dot-lock is the only lock. The /tmp/.<dev>.<ino>
// session lock and the kiss of death are not in this package (platform).
//
// The dot-lock we make holds one line, "<pid> <host>\n": our process ID in
// decimal, a space, Options.LockID (dmail.conf lock_id) or else the host
// name (with blanks, '/', '\' and ':' made '_'), a newline; mode 0666 so
// that other users' servers may break it. It never exists empty or half
// written: the line is written to a file of our own first,
// <file>.lock.<time>.<pid>.<seq>.<host> (UW's "hitching post"), which is
// then hard-linked to <file>.lock (link fails when the lock exists, over NFS
// too; success is judged by the link count) and removed. Where the file
// system has no hard links, the lock is made with O_EXCL and written at
// once. UW c-client and its mlock program leave their dot-locks empty,
// procmail writes "0", liblockfile a PID and a newline: none of those is
// ours.
//
// Another program's dot-lock is broken:
//   - at once when it is ours to judge and its holder is provably gone: the
//     content is exactly "<pid> <host>\n" with our own host (lock_id), and
//     no process pid exists here (kill(pid, 0) fails with ESRCH; on Windows
//     OpenProcess/GetExitCodeProcess), or pid is this very process but the
//     lock is not one this process holds (left by an earlier process with
//     the same PID, as after a container restart);
//   - after 5 minutes (mtime older than UW's LOCKTIMEOUT) whatever it holds:
//     another host's lock, an empty one (UW, DMail's servers), anything
//     we cannot read or parse.
//
// A symbolic link at the lock name is refused. A lock is broken by renaming
// it to a name of ours first and checking it is still the file we judged
// (else it is put back), so that a lock another process has just made
// survives; every break is logged (platform.Warnf). Our own dot-lock is
// removed only while it is still the file we made (inode and mtime). When
// the directory does not let us create the dot-lock (a spool directory
// without mode 1777), we go on with the file lock alone, as UW does after
// its "Mailbox vulnerable" warning. docs/locks.md says the same for
// administrators.
//
// # Rewrites and crash safety
//
// Checkpoint and Expunge first pick up mail delivered meanwhile (it must
// survive), then rewrite the file in place (same inode, owner and mode: the
// servers and the session lock depend on them), starting at the first
// message whose bytes change; a change that keeps a status block's length
// is a patch of that block alone. Before writing, every From line in the
// rewritten range and every patched block is checked against what we
// parsed: if another program changed the file, nothing is written and the
// mailbox reports mailbox.ErrChanged (so does Sync when the file shrank, was
// replaced, or the data at the old end is not a From line, or when the file
// kept its size but its mtime changed and the From lines of the first,
// middle and last known message are no longer where they were). The original
// bytes go to a journal first (journal.go: .imapd-journal.<name> next to
// the mailbox, tied to the file by device and inode; Recover runs it and
// must be called before a mailbox file is renamed or deleted), which also serves as the copy
// source, so the copy order never matters; a growing file is extended
// before anything is overwritten (a full disk fails cleanly). A change that
// only replaces status blocks by blocks of the same length (the usual flag
// change) is patched in place without a journal (commitPatches): any crash
// then leaves every message intact, some with old flags. After a
// rewrite atime is set to now and mtime a second earlier, as UW does.
//
// Files are parsed sequentially with a bounded buffer, keeping per-message
// offsets only; message text is streamed from the file on demand.
//
// # Index
//
// What a parse finds is kept in an index file per mailbox
// (Options.IndexDir, normally <folder root>/.imapd-index; index.go,
// docs/index-cache.md), never in the mailbox: an open of a file with the
// identity, size and modification time the index was written for, whose
// pseudo-message and first, middle and last From lines are in place, takes
// its state from the index; a file that only grew has its new tail parsed,
// as Sync does; anything else is parsed whole. The index is a cache: a
// missing, corrupt, truncated or foreign one is ignored and rewritten, it
// is removed before any rewrite of the bytes it describes, and it is
// written (by rename) only from a state that is exactly the file's.
// Lines longer than 64 KiB are never separators nor status headers.
package mbox
