// Package deploycheck tests the deployment recipes in deploy/ against the
// real tools they are written for: the inetd.conf lines run under a real
// inetd (Debian's openbsd-inetd, with tcpd for the Linux line) serving a
// real IMAP session through freshly built imapd and cryptauth binaries; the
// systemd units pass `systemd-analyze verify`; the xinetd service and the
// DWatch file hold what the manual says. It has no code of its own: only
// tests. Tests skip, saying why, only when the tool they drive is not
// installed (scripts/test-deps.sh installs them).
package deploycheck
