// Package dotlock is the one dot-lock of imapd: a lock file beside what it
// guards, holding "<pid> <host>\n", used by the mbox store (<mailbox>.lock,
// the lock the POP3/SMTP servers and MTAs honour, and the uidvalidity
// mark's lock) and the maildir store (imapd-uidlist.lock, the uidvalidity
// lock). It owns the content format and its parsing, making a lock (whole,
// through a hitching post and link(2), or with O_EXCL), judging whether a
// lock someone holds may be broken (its holder, a process of this host, is
// gone; or it is older than the format's stale age), breaking a stale lock
// without ever breaking a live one (moved aside and checked), the
// bookkeeping of the locks this process holds (a holder removes only its
// own lock; a lock naming our PID that we do not hold is an earlier
// process's), keeping a held lock young (for formats that refresh), and
// the wait for a lock another holder gives up (a lock this process gives
// up wakes its waiters at once: Released, Wake, also used by the mbox
// file lock's wait). Each format passes its
// policy (stale age, refresh, how the lock is made, its mode) as Options,
// with the platform's probe of a process and its warning sink.
//
// Its maker (Hitch: a hitching post linked to the lock name, success
// judged by the link) also makes the cluster session lock of
// platform/unix, which keeps its own rules (requests appended to the file,
// the file server's clock). It lives under platform, below the stores and
// platform/unix, and imports no package of imapd. See docs/locks.md.
package dotlock
