#!/usr/bin/env python3
"""An IMAP IDLE client (imaplib, IDLE by hand as Python < 3.14 has none):
log in, SELECT INBOX, IDLE. It keeps the message count from what the
server says (EXISTS, EXPUNGE) and prints "COUNT <n>" on each change; on a
line "stop" on stdin it leaves IDLE (DONE), prints "UID <uid> <flags>" for
every message (UID FETCH 1:* FLAGS) and "END", and logs out.
Usage: idle_watch.py host port user password"""
import imaplib
import re
import sys
import threading

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
imap = imaplib.IMAP4(host, port)
imap.sock.settimeout(120)
imap.login(user, password)
typ, data = imap.select("INBOX")
assert typ == "OK", (typ, data)
count = int(data[0])
print(f"COUNT {count}", flush=True)

tag = b"W1"
imap.send(tag + b" IDLE\r\n")
line = imap.readline()
assert line.startswith(b"+"), line
print("IDLING", flush=True)

exists = re.compile(rb"^\* (\d+) EXISTS")
expunge = re.compile(rb"^\* (\d+) EXPUNGE")


def stopper():
    # The test says "stop": leave IDLE (the server then ends it with OK).
    for l in sys.stdin:
        if l.strip() == "stop":
            imap.send(b"DONE\r\n")
            return


threading.Thread(target=stopper, daemon=True).start()
idling = True
while True:
    line = imap.readline()
    if not line:
        sys.exit("server closed the connection")
    if line.startswith(tag + b" "):
        assert line.startswith(tag + b" OK"), line
        break
    if line.startswith(b"* BYE"):
        sys.exit(f"server said {line!r}")
    m = exists.match(line)
    if m:
        if int(m.group(1)) < count:
            sys.exit(f"EXISTS {m.group(1)} below the {count} known")
        count = int(m.group(1))
        print(f"COUNT {count}", flush=True)
    m = expunge.match(line)
    if m:
        n = int(m.group(1))
        if n < 1 or n > count:
            sys.exit(f"EXPUNGE {n} out of 1..{count}")
        count -= 1
        print(f"COUNT {count}", flush=True)

typ, data = imap.uid("FETCH", "1:*", "(FLAGS)")
assert typ == "OK", (typ, data)
n = 0
for item in data:
    if not item:
        continue
    m = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", item) or re.search(rb"FLAGS \(([^)]*)\) UID (\d+)", item)
    if not m:
        continue
    uid, flags = (m.group(1), m.group(2)) if m.re.pattern.startswith(b"UID") else (m.group(2), m.group(1))
    flags = " ".join(sorted(f for f in flags.decode().split() if f != "\\Recent"))
    print(f"UID {uid.decode()} {flags}", flush=True)
    n += 1
if n != count:
    sys.exit(f"{n} messages fetched, {count} known from IDLE")
print("END", flush=True)
imap.logout()
