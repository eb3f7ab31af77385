// Package unix holds imapd's unix behaviour: default paths, the
// .mailboxlist subscription file, file identity by device and inode. It is
// reached only through package platform. The files with code are built on
// unix only; this one has no constraint, so the package exists everywhere.
package unix
