#!/usr/bin/env python3
"""Deliver messages into a drop file like an SMTP server (DMail DSMTP,
sendmail's mail.local): take <file>.lock (O_CREAT|O_EXCL, retried), then
flock(LOCK_EX) on the file, append "From sender date" + message + blank
line, fsync, unlock, remove the dot-lock.

usage: appender.py DROPFILE COUNT SENDER SUBJECT-PREFIX
With COUNT > 1 subjects get " #n" and the messages go one by one, each
under its own lock, so a reader can interleave."""
import fcntl
import os
import sys
import time

drop, count, sender, subject = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lock = drop + ".lock"


def take_dotlock():
    # Bounded: 30 s, as a real MTA gives up and retries the delivery later.
    for _ in range(30000):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return
        except FileExistsError:
            time.sleep(0.001)
    sys.exit("dot-lock held too long: " + lock)


for n in range(1, count + 1):
    subj = subject if count == 1 else f"{subject} #{n}"
    date = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
    msg = (f"From {sender} {date}\n"
           f"Return-Path: <{sender}>\n"
           f"From: {sender}\nTo: alice@demo.example\nSubject: {subj}\n"
           f"Message-ID: <{os.getpid()}.{n}@appender>\n\n"
           f"Delivery {n} of {count}.\nFrom here on, a body line that is no separator.\n\n").encode()
    take_dotlock()
    try:
        fd = os.open(drop, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.fstat(fd)
            if st.st_size > 0:
                # Make sure the previous message ends with a blank line.
                with open(drop, "rb") as r:
                    r.seek(max(0, st.st_size - 2))
                    tail = r.read()
                if not tail.endswith(b"\n\n"):
                    msg = (b"\n" if tail.endswith(b"\n") else b"\n\n") + msg
            os.write(fd, msg)
            os.fsync(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
    finally:
        os.unlink(lock)
print(f"delivered {count}")
