#!/usr/bin/env python3
"""Drive imapd over TLS with Python's ssl and imaplib, checking every reply.
Usage: tls_client.py MODE HOST PORT CAFILE [REQUIRED]
MODE: implicit (IMAP4_SSL), starttls (IMAP4 + starttls()), or injection
(raw socket: "a STARTTLS" and "b CAPABILITY" in one write; b must never be
answered). REQUIRED=1: the server has imapd_tls_required true.
Exits non-zero with a message on the first unexpected reply."""
import imaplib
import socket
import ssl
import sys

mode, host, port, cafile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
required = len(sys.argv) > 5 and sys.argv[5] == "1"
ctx = ssl.create_default_context(cafile=cafile)
ctx.check_hostname = True
USER, PASSWORD = "alice", "alice-secret"


def ok(res, what):
    typ, data = res
    if typ != "OK":
        sys.exit(f"{what}: {typ} {data!r}")
    return data


def expect(cond, what):
    if not cond:
        sys.exit(f"check failed: {what}")


def session(M, sasl=False):
    """The part every mode shares once TLS runs; sasl: AUTHENTICATE PLAIN
    instead of LOGIN."""
    caps = M.capabilities
    expect("STARTTLS" not in caps, f"STARTTLS offered over TLS: {caps}")
    expect("LOGINDISABLED" not in caps, f"LOGINDISABLED over TLS: {caps}")
    expect("AUTH=PLAIN" in caps, f"no AUTH=PLAIN over TLS: {caps}")
    if sasl:
        ok(M.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (USER, PASSWORD)).encode()), "AUTHENTICATE PLAIN")
    else:
        ok(M.login(USER, PASSWORD), "LOGIN")
    data = ok(M.select("INBOX"), "SELECT")
    expect(data == [b"3"], f"SELECT INBOX: {data}")
    data = ok(M.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"), "FETCH")
    expect(b"Welcome to imapd" in data[0][1], f"FETCH: {data}")
    M.logout()


if mode == "implicit":
    M = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)
    expect(M.sock.version() in ("TLSv1.2", "TLSv1.3"), f"TLS version {M.sock.version()}")
    session(M, sasl=True)
elif mode == "starttls":
    M = imaplib.IMAP4(host, port)
    caps = M.capabilities
    expect("STARTTLS" in caps, f"no STARTTLS before TLS: {caps}")
    if required:
        expect("LOGINDISABLED" in caps, f"no LOGINDISABLED with TLS required: {caps}")
        expect(not any(c.startswith("AUTH=") for c in caps), f"AUTH= offered before TLS: {caps}")
        try:
            M.login(USER, PASSWORD)
            sys.exit("LOGIN accepted before TLS")
        except imaplib.IMAP4.error as e:
            expect("PRIVACYREQUIRED" in str(e), f"LOGIN before TLS: {e}")
        try:
            M.authenticate("PLAIN", lambda _: ("\0%s\0%s" % (USER, PASSWORD)).encode())
            sys.exit("AUTHENTICATE accepted before TLS")
        except imaplib.IMAP4.error as e:
            expect("PRIVACYREQUIRED" in str(e), f"AUTHENTICATE before TLS: {e}")
    else:
        expect("AUTH=PLAIN" in caps and "LOGINDISABLED" not in caps, f"capabilities before TLS: {caps}")
    ok(M.starttls(ssl_context=ctx), "STARTTLS")
    session(M)
elif mode == "injection":
    s = socket.create_connection((host, port), timeout=20)

    def readline():
        # Byte by byte: nothing after the line may be read in clear, so
        # that anything the server wrongly sent after the OK meets the
        # TLS handshake and fails it.
        b = b""
        while not b.endswith(b"\n"):
            c = s.recv(1)
            if not c:
                break
            b += c
        return b

    greeting = readline()
    expect(greeting.startswith(b"* OK "), f"greeting {greeting!r}")
    s.sendall(b"a STARTTLS\r\nb CAPABILITY\r\nc LOGIN alice alice-secret\r\n")
    line = readline()
    expect(line == b"a OK Begin TLS negotiation now\r\n", f"STARTTLS: {line!r}")
    t = ctx.wrap_socket(s, server_hostname=host)
    t.sendall(b"d NOOP\r\n")
    tf = t.makefile("rb")
    line = tf.readline()
    expect(line == b"d OK NOOP completed\r\n", f"first answer over TLS: {line!r} (injected commands ran?)")
    t.sendall(b"e LOGOUT\r\n")
    rest = tf.read()
    expect(b"b OK" not in rest and b"c OK" not in rest, f"injected commands answered: {rest!r}")
else:
    sys.exit(f"unknown mode {mode}")
print("ok")
