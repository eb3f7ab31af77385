#!/usr/bin/env python3
"""Deliver messages into a drop file like an SMTP server (DMail DSMTP,
sendmail's mail.local): take <file>.lock, then flock(LOCK_EX) on the file,
append "From sender date" + message + blank line, fsync, unlock, remove
the dot-lock.

usage: appender.py [--link] [--id TAG] DROPFILE COUNT SENDER SUBJECT-PREFIX
With COUNT > 1 subjects get " #n" and the messages go one by one, each
under its own lock, so a reader can interleave. Message-IDs are
<TAG.n@appender> (TAG: the PID unless --id); prints "delivered COUNT".

The dot-lock holds our PID. By default it is made with O_CREAT|O_EXCL and
written after (DSMTP's way). With --link it is made the way liblockfile
and procmail do on NFS: a uniquely named file holding our PID is linked to
<file>.lock, so the lock is never seen empty and the soak
(e2e/soak_test.go) can tell it from one a killed server left."""
import argparse
import fcntl
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--link", action="store_true", help="make the dot-lock by link(2)")
ap.add_argument("--id", help="Message-ID tag (default: the PID)")
ap.add_argument("drop")
ap.add_argument("count", type=int)
ap.add_argument("sender")
ap.add_argument("subject")
args = ap.parse_args()
drop, count, sender, subject = args.drop, args.count, args.sender, args.subject
tag = args.id or str(os.getpid())
lock = drop + ".lock"
mine = f"{lock}.{os.getpid()}"  # --link: the file linked to the lock name


def try_lock():
    """One try at the dot-lock: False when it exists."""
    try:
        if args.link:
            os.link(mine, lock)
        else:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
        return True
    except FileExistsError:
        return False


def take_dotlock():
    if args.link:
        with open(mine, "w") as f:
            f.write(str(os.getpid()))
    try:
        # Bounded: 30 s, as a real MTA gives up and retries the delivery later.
        for _ in range(30000):
            if try_lock():
                return
            time.sleep(0.001)
        sys.exit("dot-lock held too long: " + lock)
    finally:
        if args.link:
            os.unlink(mine)


for n in range(1, count + 1):
    subj = subject if count == 1 else f"{subject} #{n}"
    date = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
    msg = (f"From {sender} {date}\n"
           f"Return-Path: <{sender}>\n"
           f"From: {sender}\nTo: alice@demo.example\nSubject: {subj}\n"
           f"Message-ID: <{tag}.{n}@appender>\n\n"
           f"Delivery {n} of {count}.\nFrom here on, a body line that is no separator.\n\n").encode()
    take_dotlock()
    try:
        fd = os.open(drop, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size > 0:
                # Make sure the previous message ends with a blank line.
                with open(drop, "rb") as r:
                    r.seek(max(0, size - 2))
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
