# SPDX-License-Identifier: GPL-2.0-only
"""The receiver's side of AirPlay 2's event connection, for tests/peers/ap2_receiver.py, from the
protocol facts (PROTOCOLS.md item 3; shairport-sync 5.2.1 read for facts): the sender connects
to SETUP's eventPort; the receiver sends RTSP *requests* there, encrypted as the RTSP channel is
but with salt Events-Salt, the receiver writing with Events-Write-Encryption-Key and reading
with Events-Read-Encryption-Key, and waits for each answer. As shairport-sync does, a POST
/command with a binary-plist updateInfo comes at once; then a second request with a CSeq, whose
answer must echo it."""
import plistlib
import socket
import struct

import ap2_proto as P


def _request(cseq=None, body=b""):
    head = b"POST /command RTSP/1.0\r\n"
    if cseq is not None:
        head += b"CSeq: %d\r\n" % cseq
    if body:
        head += b"Content-Type: application/x-apple-binary-plist\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


def _answer(c, ch, timeout=5.0):
    """the next answer's head (status line + headers) as text, or None"""
    c.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = c.recv(4096)
        if not data:
            return None
        buf += ch.feed(data)
    return buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def converse(c, shared, fault, rec):
    """one event connection (the caller counted it); what happened goes into the dict @rec
    (this thread is its one writer)"""
    try:
        if shared is None:
            rec["errors"].append("event connection before pairing")
            return
        if fault == "event-garbage":
            # a frame that says 60 bytes and comes whole (2 + 60 + 16 of 80) but does not
            # authenticate (random bytes would sometimes say more than 80 and just wait)
            c.sendall(struct.pack("<H", 60) + bytes(range(78)))
            rec["garbage_sent"] = 80
            c.settimeout(5.0)
            rec["closed_by_sender"] = c.recv(4096) == b""
            return
        ch = P.SecureChannel(shared, salt=b"Events-Salt", rx_info=b"Events-Read-Encryption-Key",
                             tx_info=b"Events-Write-Encryption-Key")
        body = plistlib.dumps({"type": "updateInfo", "value": {"name": "ap2peer"}},
                              fmt=plistlib.FMT_BINARY)
        for req in (_request(body=body), _request(cseq=7)):
            c.sendall(ch.seal(req))
            rec["requests"] += 1
            head = _answer(c, ch)
            if head is None:
                rec["errors"].append("the sender closed before answering")
                return
            rec["answers"].append(head)
        c.settimeout(None)
        while c.recv(4096):
            rec["unexpected_bytes"] += 1
    except (OSError, socket.timeout, P.FrameError) as e:
        rec["errors"].append(str(e))
    finally:
        c.close()
