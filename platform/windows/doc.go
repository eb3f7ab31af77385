// Package windows holds imapd's Windows behaviour: default paths, the
// MAILBOX.LST subscription file name, the cross-process hold that gives a
// second session a mailbox read-only, the drop-file lock that keeps DMail's
// SMTP server off a drop file while imapd rewrites it, and the password check
// of authent_method nt_user. It is reached only through package platform.
// The files with code are built on Windows only; this one has no constraint,
// so the package exists everywhere.
//
// # Second session gets the mailbox read-only (HoldMailbox)
//
// The manual: "On Windows platforms, the second user will be given read
// access to the folder, but not write access"; the first session is not
// disturbed. UW's NT c-client did this with a lock file in %windir%\TEMP
// named after the mailbox path with '/', '\' and ':' turned into '!'. We do
// the same with a real Windows sharing mode: a session that wants a mailbox
// read-write opens that lock file with CreateFile, GENERIC_READ|GENERIC_WRITE
// and share mode FILE_SHARE_READ only, and keeps the handle for as long as
// it has the mailbox selected. Another holder's CreateFile (same process or
// any other imapd.exe) then fails with ERROR_SHARING_VIOLATION: that session
// gets the mailbox read-only. FILE_SHARE_READ (not 0) is on purpose: an
// administrator can still `type` the lock file, which holds the holder's
// process id. Nothing has to be cleaned up after a crash: Windows closes the
// handle when the process dies, and a lock file nobody has open is free.
// Lock files are left in place when released (deleting them would race with
// the next holder's open); there is one per mailbox ever held read-write.
//
// The lock directory is %windir%\TEMP (GetSystemWindowsDirectory, so every
// imapd.exe agrees whatever its environment), else os.TempDir() when that
// directory does not exist. Windows file names are case-insensitive, so
// "C:\Mail\Alice" and "c:\mail\alice" share one lock, as they share one
// file. A lock name longer than 200 characters (NTFS allows 255 per
// component) is cut to its last 180 characters after a hash of the whole,
// upper-cased name.
//
// # Keeping DSMTP off a drop file (LockDropFile)
//
// The 4.4.3z2 note: "IMAPD was not correctly locking out DSMTP from
// accessing the drop file in some situations". While imapd rewrites a drop
// file (expunge, flag checkpoint) it opens the drop file itself with share
// mode FILE_SHARE_READ and does the rewrite through that handle. For as long
// as it is open, any other open that asks for write access, delete or rename
// fails with ERROR_SHARING_VIOLATION: that is what DMail's DSMTP sees when it
// comes to append a message, and it retries (it meets the same error when
// DPOP or another writer has the file). Readers (DPOP listing, a read-only
// IMAP session) may still open it, so they can see a half-rewritten file
// exactly as with UW's in-place rewrite; they must take the mbox package's
// own lock if they need more. Because sharing is checked against every open
// handle, LockDropFile also fails while any other handle with write access
// is open, including one of the caller's own: the rewrite must go through
// the returned *os.File and no other write handle. How DSMTP itself opens
// the drop file is not documented (docs/compatibility.md); a DSMTP
// that opens without write access would not be kept off.
//
// # nt_user (LogonUser)
//
// authent_method nt_user (the Windows default) checks a Windows account
// password with advapi32's LogonUserW, logon type LOGON32_LOGON_NETWORK
// (the one meant for password checks: no profile is loaded and the account
// needs no "log on locally" right), default provider; the token is closed at
// once. golang.org/x/sys/windows has no LogonUser, so it is called through
// windows.NewLazySystemDLL. "DOMAIN\user" names are split; "user@domain"
// (UPN) names are passed whole with no domain; an empty domain lets Windows
// search the local account database and then trusted domains. Wine's
// LogonUserW is a stub that accepts every name and password (see the tests),
// so under Wine only the call path is tested, not a rejection.
package windows
