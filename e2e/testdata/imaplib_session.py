#!/usr/bin/env python3
"""Drive imapd with Python's imaplib, the way a simple client does, and
check every reply. Usage: imaplib_session.py HOST PORT USER PASSWORD
Exits non-zero with a message on the first unexpected reply."""
import imaplib
import re
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]


def ok(res, what):
    typ, data = res
    if typ != "OK":
        sys.exit(f"{what}: {typ} {data!r}")
    return data


def expect(cond, what):
    if not cond:
        sys.exit(f"check failed: {what}")


M = imaplib.IMAP4(host, port)
expect(re.match(rb"\S+ IMAP4rev1 v\S+ server ready", M.welcome[5:] if M.welcome.startswith(b"* OK ") else b""), f"greeting {M.welcome!r}")

# A wrong password is refused and the connection stays usable.
try:
    M.login(user, password + "x")
    sys.exit("wrong password accepted")
except imaplib.IMAP4.error as e:
    expect("LOGIN failed" in str(e), f"wrong password reply {e}")
ok(M.login(user, password), "LOGIN")

caps = ok(M.capability(), "CAPABILITY")[0].upper().split()
caps = [c.decode() for c in caps]
for c in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE", "UNSELECT", "CHILDREN", "ESEARCH", "STATUS=SIZE", "LITERAL+"):
    expect(c in caps, f"capability {c} in {caps}")

typ, data = M.select("INBOX")
expect(typ == "OK", f"SELECT {typ} {data}")
expect(int(data[0]) == 3, f"3 messages, got {data}")
expect(M.untagged_responses.get("RECENT") == [b"3"], f"RECENT {M.untagged_responses.get('RECENT')}")

# Headers we keep in the file are never shown.
data = ok(M.fetch("1:3", "(UID FLAGS RFC822.SIZE BODY.PEEK[])"), "FETCH")
bodies = [d[1] for d in data if isinstance(d, tuple)]
expect(len(bodies) == 3, f"3 bodies, got {len(bodies)}")
for b in bodies:
    for h in (b"X-UID", b"X-IMAPbase", b"X-Status", b"X-Keywords", b"\nStatus:"):
        expect(h not in b, f"hidden header {h} shown")
    expect(b"\r\n" in b and b"\n" not in b.replace(b"\r\n", b""), "CRLF line ends")
sizes = [int(re.search(rb"RFC822.SIZE (\d+)", d[0]).group(1)) for d in data if isinstance(d, tuple)]
expect(sizes == [len(b) for b in bodies], f"sizes {sizes} match bodies {[len(b) for b in bodies]}")
uids = [int(re.search(rb"UID (\d+)", d[0]).group(1)) for d in data if isinstance(d, tuple)]
expect(uids == sorted(uids) and len(set(uids)) == 3, f"uids {uids}")

data = ok(M.fetch("3", "(BODY.PEEK[TEXT])"), "FETCH TEXT")
expect(b">From the desk" in data[0][1], "the >From line is served as it is")

data = ok(M.fetch("1", "(ENVELOPE BODYSTRUCTURE)"), "FETCH ENVELOPE")
expect(b"Welcome to imapd" in data[0], f"envelope subject in {data[0]!r}")

ok(M.store("1", "+FLAGS", "(\\Seen \\Flagged)"), "STORE")
ok(M.store("2", "+FLAGS", "($Label1 Junk)"), "STORE keywords")
data = ok(M.fetch("2", "(FLAGS)"), "FETCH FLAGS")
expect(b"$Label1" in data[0] and b"Junk" in data[0], f"keywords kept {data}")

# Folders.
ok(M.create("Archive"), "CREATE Archive")
ok(M.create("Projects/2026"), "CREATE Projects/2026")
typ, data = M.create("Archive/Sub")
expect(typ == "NO", f"CREATE below a message folder refused: {typ} {data}")
typ, data = M.select("Projects")
expect(typ == "NO", f"SELECT of a folder of folders refused: {typ} {data}")
ok(M.select("INBOX"), "SELECT INBOX again")
typ, data = M.copy("1:2", "Archive")
expect(typ == "OK" and b"COPYUID" in data[0], f"COPY with COPYUID {typ} {data}")
typ, data = M.copy("1", "Nowhere")
expect(typ == "NO" and b"TRYCREATE" in data[0], f"COPY to a missing folder: {typ} {data}")
typ, data = M.list('""', "*")
names = b"\n".join(data)
expect(b'"Archive"' in names or b" Archive" in names, f"LIST shows Archive: {names}")
expect(b"\\Noselect" in names.replace(b"NoSelect", b"Noselect") and b"Projects" in names, f"Projects is \\NoSelect: {names}")
expect(b".mailboxlist" not in names and b"MAILBOX.LST" not in names, "subscription file hidden")
ok(M.subscribe("Archive"), "SUBSCRIBE")
typ, data = M.lsub('""', "*")
expect(b"Archive" in b"".join(data), f"LSUB {data}")
typ, data = M.delete("INBOX")
expect(typ == "NO", "DELETE INBOX refused")
typ, data = M.delete("Projects")
expect(typ == "NO", f"DELETE of a non-empty folder of folders refused {data}")

typ, data = M.append("Archive", "(\\Seen)", None, b"From: me@example.com\r\nSubject: appended\r\n\r\nFrom me, a line that is no separator.\r\n")
expect(typ == "OK" and b"APPENDUID" in data[0], f"APPEND {typ} {data}")
typ, data = M.append("Missing", None, None, b"Subject: x\r\n\r\nx\r\n")
expect(typ == "NO" and b"TRYCREATE" in data[0], f"APPEND to a missing folder {typ} {data}")

typ, data = M.status("Archive", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY)")
expect(typ == "OK" and b"MESSAGES 3" in data[0], f"STATUS Archive {data}")

typ, data = M.search(None, "SUBJECT", "Lunch")
expect(data[0].split() == [b"2"], f"SEARCH SUBJECT {data}")
typ, data = M.uid("SEARCH", "FLAGGED")
expect(len(data[0].split()) == 1, f"UID SEARCH FLAGGED {data}")

# Expunge.
ok(M.store("3", "+FLAGS", "(\\Deleted)"), "STORE Deleted")
typ, data = M.expunge()
expect(typ == "OK" and data == [b"3"], f"EXPUNGE {typ} {data}")
typ, data = M.select("INBOX")
expect(int(data[0]) == 2, f"2 left {data}")

# Bad input gets an answer and the session goes on.
try:
    imaplib.Commands["FROBNICATE"] = ("AUTH", "SELECTED")
    M._simple_command("FROBNICATE")
    sys.exit("unknown command accepted")
except imaplib.IMAP4.error as e:
    expect("BAD" in str(e) or "nknown" in str(e), f"unknown command reply {e}")
try:
    typ, data = M.fetch("99", "(FLAGS)")
    expect(typ in ("NO", "BAD"), f"FETCH of a missing message {typ}")
except imaplib.IMAP4.error as e:
    pass
ok(M.noop(), "NOOP after errors")

typ, data = M.logout()
expect(typ == "BYE", f"LOGOUT {typ} {data}")
expect(b"IMAP4rev1 server terminating connection" in data[0], f"BYE text {data}")
print("imaplib session: all checks passed")
