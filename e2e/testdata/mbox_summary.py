#!/usr/bin/env python3
"""Print one line per message of an mbox file, read with Python's own
mailbox module (an mbox reader independent of imapd):
subject|X-UID|Status|X-Status|X-Keywords. The UW "FOLDER INTERNAL DATA"
pseudo-message is printed as PSEUDO|X-IMAP."""
import mailbox
import sys

for msg in mailbox.mbox(sys.argv[1], create=False):
    subj = msg.get("Subject", "")
    if "FOLDER INTERNAL DATA" in subj and msg.get("X-IMAP"):
        print(f"PSEUDO|{msg.get('X-IMAP')}")
        continue
    kw = (msg.get("X-Keywords") or "").strip()
    print(f"{subj}|{msg.get('X-UID', '')}|{msg.get('Status', '')}|{msg.get('X-Status', '')}|{kw}")
