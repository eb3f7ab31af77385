#!/usr/bin/env python3
"""Print one line per message of an imapd maildir, read independently of
imapd, in the form mbox_summary.py prints a drop file:
subject|UID|Status|X-Status|keywords. UIDs come from imapd-uidlist (the
format in mailbox/maildir/doc.go), keyword names from imapd-keywords;
flags from the ":2," info of the file names (";2," on Windows), written
as UW's status letters: Status R (seen) O (in cur/: seen by a session),
X-Status D (deleted) F (flagged) A (answered) T (draft). Messages are in
UID order, then files not listed yet. The uid list's header is printed
first as PSEUDO|<uidvalidity> <last uid, 10 digits>, the way UW's
pseudo message carries them."""
import email.parser
import os
import sys

box = sys.argv[1]
sep = ";" if os.name == "nt" else ":"
uids, order, pseudo = {}, [], None
try:
    with open(os.path.join(box, "imapd-uidlist")) as f:
        head = f.readline().split()
        v = int(head[2][1:])
        nxt = int(head[3][1:])
        pseudo = f"PSEUDO|{v} {nxt - 1:010d}"
        for line in f:
            p = line.split()
            if len(p) >= 4:
                uids[p[3]] = p[0]
                order.append(p[3])
except FileNotFoundError:
    pass
keywords = []
try:
    with open(os.path.join(box, "imapd-keywords")) as f:
        keywords = [l.rstrip("\n") for l in f]
except FileNotFoundError:
    pass
files = {}
for sub in ("cur", "new"):
    for name in os.listdir(os.path.join(box, sub)):
        base, _, info = name.partition(sep + "2,")
        files[base] = (sub, name, info)
order = [b for b in order if b in files] + sorted(b for b in files if b not in uids)
if pseudo:
    print(pseudo)
for base in order:
    sub, name, info = files[base]
    with open(os.path.join(box, sub, name), "rb") as f:
        msg = email.parser.BytesParser().parse(f, headersonly=True)
    status = ("R" if "S" in info else "") + ("O" if sub == "cur" else "")
    xstatus = "".join(u for m, u in (("T", "D"), ("F", "F"), ("R", "A"), ("D", "T")) if m in info)
    kw = " ".join(keywords[ord(c) - ord("a")] for c in info if "a" <= c <= "z" and ord(c) - ord("a") < len(keywords))
    print(f"{msg.get('Subject', '')}|{uids.get(base, '')}|{status}|{xstatus}|{kw}")
