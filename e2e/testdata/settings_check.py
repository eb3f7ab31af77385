#!/usr/bin/env python3
"""Check issue-11 settings through Python's imaplib.
Usage: settings_check.py HOST PORT USER PASSWORD CHECK
CHECK is one of:
  logins     log in and out 5 times, then once with a wrong password
  bulletin   the last INBOX message is the bulletin "Maintenance" from
             bulletin_from; prints its From line
  quota      APPEND under the quota works (and goes over), the next is NO [OVERQUOTA]
Prints "ok" at the end; exits non-zero with a message otherwise."""
import imaplib
import sys

host, port, user, password, check = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]


def ok(res, what):
    typ, data = res
    if typ != "OK":
        sys.exit(f"{what}: {typ} {data!r}")
    return data


if check == "logins":
    for i in range(5):
        M = imaplib.IMAP4(host, port)
        ok(M.login(user, password), f"login {i}")
        ok(M.select("INBOX", readonly=True), "select")
        M.logout()
    M = imaplib.IMAP4(host, port)
    try:
        M.login(user, password + "x")
        sys.exit("wrong password accepted")
    except imaplib.IMAP4.error:
        pass
    M.logout()
elif check == "bulletin":
    M = imaplib.IMAP4(host, port)
    ok(M.login(user, password), "login")
    data = ok(M.select("INBOX"), "select")
    n = int(data[0])
    data = ok(M.fetch(str(n), "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])"), "fetch")
    head = data[0][1].decode()
    if "Subject: Maintenance" not in head:
        sys.exit(f"last message is not the bulletin: {head!r}")
    print(head.splitlines()[0] if head.startswith("From") else [l for l in head.splitlines() if l.startswith("From")][0])
    M.logout()
elif check == "quota":
    M = imaplib.IMAP4(host, port)
    ok(M.login(user, password), "login")
    msg = b"Subject: big\r\n\r\n" + b"x" * 9000 + b"\r\n"
    ok(M.append("INBOX", None, None, msg), "append under quota")
    typ, data = M.append("INBOX", None, None, msg)
    if typ != "NO" or b"[OVERQUOTA]" not in data[0]:
        sys.exit(f"append over quota: {typ} {data!r}")
    M.logout()
else:
    sys.exit(f"unknown check {check}")
print("ok")
