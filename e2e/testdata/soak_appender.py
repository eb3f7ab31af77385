#!/usr/bin/env python3
"""The soak's concurrent delivery (e2e/soak_test.go): like appender.py
(dot-lock, then flock, append, fsync, unlock), but the dot-lock is taken
the way liblockfile and procmail do on NFS: a uniquely named file holding
our PID is linked to <drop>.lock, so the lock is never seen empty and the
soak can tell it from one a killed server left.

usage: soak_appender.py DROPFILE COUNT TAG
Message-IDs are <TAG.n@appender>; prints "delivered COUNT"."""
import fcntl
import os
import sys
import time

drop, count, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = drop + ".lock"
mine = f"{drop}.lock.{os.getpid()}"


def take_dotlock():
    with open(mine, "w") as f:
        f.write(str(os.getpid()))
    try:
        for _ in range(30000):  # 30 s, as an MTA gives up and retries later
            try:
                os.link(mine, lock)
                return
            except FileExistsError:
                time.sleep(0.001)
        sys.exit("dot-lock held too long: " + lock)
    finally:
        os.unlink(mine)


for n in range(1, count + 1):
    date = time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime())
    msg = (f"From smtp@example.com {date}\n"
           f"From: smtp@example.com\nTo: alice@demo.example\nSubject: {tag} #{n}\n"
           f"Message-ID: <{tag}.{n}@appender>\n\n"
           f"Delivery {n} of {count}.\nFrom here on, a body line that is no separator.\n\n").encode()
    take_dotlock()
    try:
        fd = os.open(drop, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size > 0:
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
