#!/usr/bin/env python3
"""Independent reader for the kill -9 soak (e2e/soak_test.go). For each
mbox file named on the command line print "FILE <path>", then
"UIDVALIDITY <n>" when the file carries UID state, then one line per
message: <Message-ID>|<X-UID>|ok or torn. Messages are split on "From "
lines with a ctime date, as UW does. A message is torn when its text is not
whole: a soak message (X-Soak-Lines: N) must hold exactly the N body lines
"<id> line <k>", an appender delivery must end with its "From here on"
line. A missing file prints "MISSING"."""
import email.parser
import re
import sys

SEP = re.compile(rb"^From \S.* [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d(:\d\d)?( [A-Z]{3}| [+-]\d{4})? \d{4}( [+-]\d{4}| [A-Z]{3})?\s*$")

for path in sys.argv[1:]:
    print(f"FILE {path}")
    try:
        data = open(path, "rb").read()
    except FileNotFoundError:
        print("MISSING")
        continue
    msgs, cur = [], None
    for line in data.split(b"\n"):
        if line.startswith(b"From ") and SEP.match(line):
            cur = []
            msgs.append(cur)
        elif cur is not None:
            cur.append(line)
        elif line.strip():
            print("GARBAGE before the first From line")
    for i, lines in enumerate(msgs):
        raw = b"\n".join(lines)
        head, _, body = raw.partition(b"\n\n")
        msg = email.parser.BytesParser().parsebytes(head + b"\n\n", headersonly=True)
        if i == 0:
            base = msg.get("X-IMAPbase") or msg.get("X-IMAP")
            if base:
                print(f"UIDVALIDITY {base.split()[0].lstrip('0') or '0'}")
        if "FOLDER INTERNAL DATA" in (msg.get("Subject") or "") and msg.get("X-IMAP"):
            continue
        mid = (msg.get("Message-ID") or "").strip()
        uid = (msg.get("X-UID") or "").strip()
        state = "ok"
        text = [l for l in body.split(b"\n") if l.strip()]
        want = msg.get("X-Soak-Lines")
        if want is not None:
            tag = mid.strip("<>").encode()
            if text != [tag + b" line %d" % k for k in range(int(want))]:
                state = "torn"
        elif mid.endswith("@appender>"):
            if not text or not text[-1].startswith(b"From here on"):
                state = "torn"
        print(f"{mid}|{uid}|{state}")
