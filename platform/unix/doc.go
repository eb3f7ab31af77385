// Package unix holds imapd's unix behaviour, reached only through package
// platform:
//
//   - default paths and the .mailboxlist subscription file name;
//   - file identity by device and inode (FileID, Links), access times (Atime);
//   - UW's session lock /tmp/.<dev hex>.<ino hex> and its "kiss of death"
//     (TryLock, SessionLock, Held, SignalLetGo, NotifyLetGo), byte
//     compatible with UW imapd so both respect each other on one spool;
//   - with lock_id (several hosts over one spool), the cluster session lock
//     beside the mailbox instead (TryClusterLock, ClusterLock,
//     ClusterHeldBy; cluster.go says how it is made, asked for, refreshed
//     and broken);
//   - becoming the logged-in user (BecomeUser) and checking what that user
//     can reach (CanRead, CanEnter).
//
// The session lock, as UW makes it (docs/formats.md §5): the name is
// the mailbox's st_dev and st_ino in lower-case hex; the file is created
// O_RDWR|O_CREAT|O_EXCL mode 0666 (or opened when present), locked with
// flock(LOCK_EX|LOCK_NB), chmod 0666, and holds the holder's PID in ASCII
// without newline; it is unlinked on release. A lock name that is a symbolic
// link, has more than one hard link or is not a regular file is refused
// (never followed: O_NOFOLLOW), as UW refuses them. After the lock is taken
// the name must still be the locked file (else someone released and
// unlinked it meanwhile: try again).
//
// Decisions where UW is silent or unsafe:
//   - A waiter only signals a PID it can trust: on Linux the PID must hold a
//     flock on that very lock file in /proc/locks (matched by inode number),
//     on Solaris/illumos (fcntl locks, UW's SysV flock emulation) it
//     must be the holder F_GETLK reports. Elsewhere (BSD, macOS) it cannot
//     be checked, and then a root process does not signal at all: the lock
//     file is mode 0666, so anybody can write any PID into it, and root
//     would kill whatever process that is.
//   - A waiter marks the lock file it wants (futimes to now, which needs
//     only write access). A process holding several session locks (a
//     -listen daemon serving sessions in goroutines) lets go, on SIGUSR2,
//     only of those marked since it took them; a process holding one lets
//     go of it (that is what a UW waiter, which marks nothing, wants).
//   - The lock itself is platform/filelock's: flock(2), and on Solaris and
//     illumos (no flock) fcntl write locks on the whole file, as UW's
//     emulation there.
//   - Only a lock file owned by the mailbox's owner, by root or by the user
//     we run as counts. Anybody can create files in /tmp, and the name is
//     no secret (ls -i gives the inode): a file planted by another local
//     user, held locked, made every session of the owner read-only. Such a
//     file is removed when we may (we run as root) and ignored otherwise
//     (TryLock: ErrForeignLock, the session goes on read-write without a
//     session lock; the mailbox file's own locks still guard every
//     change); either way it is logged. Held ignores it too. On Linux,
//     where /proc/locks names the process holding the lock, a trusted file
//     locked only by processes of other uids is treated the same way (a
//     crashed session's file is mode 0666: anybody may lock it).
//
// The files with code are built on unix only; this one has no constraint,
// so the package exists everywhere.
package unix
