#!/usr/bin/env python3
"""Deliver messages into a maildir like an MTA (qmail's rules, as Postfix
and Exim do): write the message to tmp/<unique>, fsync, rename it into
new/. No lock: a maildir deliverer takes none.

usage: maildir_appender.py MAILDIR COUNT SENDER SUBJECT-PREFIX
With COUNT > 1 subjects get " #n" and the messages go one by one, so a
reader can interleave."""
import os
import socket
import sys
import time

box, count, sender, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
host = socket.gethostname().replace("/", "\\057").replace(":", "\\072")

for n in range(1, count + 1):
    subj = subject if count == 1 else f"{subject} #{n}"
    now = time.time()
    name = f"{int(now)}.M{int(now * 1e6) % 1000000}P{os.getpid()}Q{n}.{host}"
    body = (f"Return-Path: <{sender}>\nFrom: {sender}\nTo: alice@demo.example\n"
            f"Subject: {subj}\nMessage-ID: <{name}@test>\n\nDelivered into new/.\n")
    tmp = os.path.join(box, "tmp", name)
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.write(fd, body.encode())
    os.fsync(fd)
    os.close(fd)
    os.rename(tmp, os.path.join(box, "new", name))
