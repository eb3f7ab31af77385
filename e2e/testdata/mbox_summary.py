#!/usr/bin/env python3
"""Print one line per message of a UW/DMail mbox file, read independently
of imapd: messages are split on "From " lines that carry a ctime date (as
UW does: a body line "From here on" is no separator), headers are parsed
with Python's email package. Output: subject|X-UID|Status|X-Status|X-Keywords.
The UW "FOLDER INTERNAL DATA" pseudo-message is printed as PSEUDO|<X-IMAP>."""
import email.parser
import re
import sys

SEP = re.compile(rb"^From \S.* [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d(:\d\d)?( [A-Z]{3}| [+-]\d{4})? \d{4}( [+-]\d{4}| [A-Z]{3})?\s*$")

data = open(sys.argv[1], "rb").read()
msgs, cur = [], None
for line in data.split(b"\n"):
    if SEP.match(line):
        cur = []
        msgs.append(cur)
    elif cur is not None:
        cur.append(line)
    elif line.strip():
        sys.exit("data before the first From line")
for lines in msgs:
    msg = email.parser.BytesParser().parsebytes(b"\n".join(lines), headersonly=True)
    subj = msg.get("Subject", "")
    if "FOLDER INTERNAL DATA" in subj and msg.get("X-IMAP"):
        print(f"PSEUDO|{msg.get('X-IMAP')}")
        continue
    kw = (msg.get("X-Keywords") or "").strip()
    print(f"{subj}|{(msg.get('X-UID') or '').strip()}|{(msg.get('Status') or '').strip()}|{(msg.get('X-Status') or '').strip()}|{kw}")
