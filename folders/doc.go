// Package folders owns the mailbox namespace of one user: IMAP mailbox
// names and the files behind them, the LIST/LSUB/CREATE/DELETE/RENAME rules,
// "dual use", the subscription file, and name safety. It never reads or
// writes message content (package mailbox does); it creates only empty
// files and directories.
//
// # Model
//
// INBOX (any case) is the user's drop file, a path given to New; it lives
// elsewhere (e.g. /var/spool/mail/bob). Every other name is a path below
// the folder root (by default "<dropfile>.mbx/", or "~/mail" with
// imapd_mailbox_name), separator "/". A folder holds messages (a regular
// file, listed \Noinferiors) or folders (a directory, listed \Noselect),
// never both (DMail manual, "Folders within other folders"; UW dummy
// driver):
//
//   - CREATE a makes an empty file (0600, O_EXCL); CREATE a/b makes the
//     directory a (0700) and the file a/b; CREATE a/ makes only the
//     directory. CREATE below a message folder, of an existing name or of
//     INBOX is refused. The root itself is made (0700) on the first CREATE
//     or SUBSCRIBE; its parent must exist.
//   - DELETE removes a file, or a directory only when it is empty (never
//     recursively); INBOX can't be deleted.
//   - RENAME makes missing directories above the target and refuses an
//     existing target or a move into the source's own subtree. RENAME of
//     INBOX is the session's job (ErrInboxRename): it moves the messages.
//   - "INBOX/x" is an ordinary path below the root (a directory named
//     INBOX), as in UW, so folders clients made below INBOX stay reachable.
//     Such a root directory is not listed itself; INBOX is then listed with
//     \HasChildren or \HasNoChildren instead of \Noinferiors.
//
// # Names on disk
//
// go-imap gives UTF-8 names; UW stores the modified UTF-7 wire name as the
// file name, so each level is encoded (RFC 3501 section 5.1.3,
// "Entwürfe" -> "Entw&APw-rfe") on the way to the disk and decoded for
// LIST. The decoder is strict (canonical form only). An on-disk name that
// is not valid modified UTF-7 is listed by its raw bytes when they are
// printable ASCII (e.g. "R&D" made from a shell), and that raw name also
// opens it; otherwise (e.g. Latin-1 bytes) it is not listed: no client
// could name it.
//
// # Safety
//
// No name escapes the folder root (the DMail 4.4.3z security fix). Refused:
// "." and ".." levels, absolute names, names starting with "~" or "#",
// empty levels ("a//b"), control characters (C0, DEL, C1; so NUL, CR, LF),
// backslash, invalid UTF-8, levels over 255 bytes on disk, more than
// MaxDepth (20) levels; on Windows also : * ? " < > |, trailing dots or
// spaces and device names (NUL, COM1 ...). Every operation walks the
// existing levels with Lstat and refuses symbolic links and anything that
// is not a regular file or directory; it never follows them. File system
// calls go through os.Root, so even a link swapped in after the check can't
// lead outside the root. The root itself may not be a symbolic link (its
// parents may). CheckFile, which the session calls before opening a folder
// file or the drop file, also refuses files with more than one hard link
// (not on Windows, which does not report the count through Lstat). Paths
// returned by Path and Create are checked but then opened by path; when the
// server does not run as the user (imapd_become_user false) a user with a
// shell could still race a link in between, as with UW.
//
// # LIST and LSUB
//
// Patterns: "*" matches anything, "%" anything but "/"; the reference is
// prefixed to the pattern as UW does (plain concatenation; a pattern
// starting with "/", "~" or "#" replaces it and matches nothing here).
// INBOX matches case-insensitively and is listed last, with a NIL
// delimiter and \Noinferiors (as UW). Directories: \Noselect plus
// \HasChildren or \HasNoChildren (counting only entries LIST would show);
// listed "a/" when only that form matches. Files: \Noinferiors plus
// \Marked when the file is not empty and atime < mtime (new mail since the
// last read; UW compares atime with ctime, which misfires with sub-second
// times), else \Unmarked. LIST "" "" gives (\Noselect) "/" "". Symbolic
// links and special files are not listed. "*" descends at most MaxDepth
// levels.
//
// Never listed, and refused as names: the subscription file (in the root;
// DMail 4.4.3w), lock files (names ending in ".lock" or containing
// ".lock."), this program's own files (names starting with ".imapd"; other
// packages must name their internal files so), UW's ".mlbxlsttmp", and a
// root entry named INBOX in any case. Other dot-files are listed, as UW
// does. Name comparisons for these rules ignore case.
//
// # Subscriptions
//
// The subscription file (name given to New: ".mailboxlist" on unix,
// "MAILBOX.LST" on Windows) lives in the folder root: one on-disk
// (modified UTF-7) name per line, LF-terminated, INBOX stored as "INBOX",
// created 0644 (less the umask). Subscribe appends a line; the mailbox must
// exist. Unsubscribe rewrites the file through ".imapd-subscriptions.tmp"
// and a rename. Both are idempotent: subscribing twice or unsubscribing a
// name that is not subscribed succeeds without change (UW says NO; clients
// gain nothing from that). LSUB follows UW: subscribed names with no
// attributes, INBOX \Noinferiors, and for a pattern ending in "%" the
// superior levels as \Noselect.
//
// # Errors
//
// Every refusal is an *Error carrying an IMAP response code and a text
// naming the mailbox as the client did, ready for "NO [CODE] text".
package folders
