#!/usr/bin/env python3
"""The IMAP client of e2e/cluster_test.go: logs in and APPENDs COUNT
messages to INBOX, one by one, without selecting it (so it runs beside the
sessions that hold the mailbox). Each message is in the soak format that
mbox_ids.py checks for tearing: Message-ID <TAG.n@imap>, X-Soak-Lines: 5,
body lines "<TAG.n@imap> line k".

usage: cluster_imap_append.py HOST PORT USER PASSWORD COUNT TAG
Prints "appended COUNT"; exits non-zero on any reply but OK."""
import imaplib
import sys

host, port, user, password, count, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
M = imaplib.IMAP4(host, port)
typ, data = M.login(user, password)
if typ != "OK":
    sys.exit(f"login: {typ} {data!r}")
for n in range(1, count + 1):
    mid = f"{tag}.{n}@imap"
    body = "".join(f"{mid} line {k}\r\n" for k in range(5))
    msg = (f"From: client@example.com\r\nTo: alice@demo.example\r\nSubject: {tag} #{n}\r\n"
           f"Message-ID: <{mid}>\r\nX-Soak-Lines: 5\r\n\r\n{body}").encode()
    typ, data = M.append("INBOX", None, None, msg)
    if typ != "OK":
        sys.exit(f"append {n}: {typ} {data!r}")
M.logout()
print(f"appended {count}")
