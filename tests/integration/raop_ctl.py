# SPDX-License-Identifier: GPL-2.0-only
"""Other hosts on an AirPlay (RAOP) sender's control and timing ports, for test_airplay.sh.

usage: raop_ctl.py stranger BIND SENDER CONTROL_PORT TIMING_PORT LISTEN_S
           From BIND (any port): a retransmit request for everything (0x80 0xD5, first 0, count
           0xFFFF) to CONTROL_PORT and a timing request to TIMING_PORT, then listen LISTEN_S
           seconds. Prints what came back: {"datagrams": N, "bytes": N, "resends": N}.
       raop_ctl.py flood BIND SENDER CONTROL_PORT SECONDS
           From BIND (the receiver's address): follow the audio on lo for its newest sequence
           number, then for SECONDS send 200 requests a second, each for the 64 packets before
           it. Prints {"requests": N, "packets_asked": N, "newest": SEQ, "came_back": N}, the
           last being the datagrams that reached the requesting socket (resends belong on the
           receiver's negotiated control port)."""
import json
import select
import socket
import struct
import sys
import time

ETH_P_ALL = 3


def stranger(bind, sender, ctl, tim, listen_s):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    s.sendto(bytes([0x80, 0xD5, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xFF]), (sender, ctl))
    s.sendto(bytes([0x80, 0xD2, 0x00, 0x07]) + bytes(20) + struct.pack(">Q", 0x83AA7E8012345678),
             (sender, tim))
    got = {"datagrams": 0, "bytes": 0, "resends": 0}
    end = time.monotonic() + listen_s
    while (left := end - time.monotonic()) > 0:
        if not select.select([s], [], [], left)[0]:
            break
        try:
            b = s.recv(65536)
        except ConnectionRefusedError:     # an ICMP error is not an answer
            continue
        got["datagrams"] += 1
        got["bytes"] += len(b)
        got["resends"] += len(b) > 4 and b[1] & 0x7F == 0x56
    print(json.dumps(got))


def audio_seq(frame):
    """The RTP sequence number of an audio packet (PT 96, 0x80 0x60/0xE0) on lo, or None."""
    if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
        return None
    p = 14 + (frame[14] & 0x0F) * 4 + 8
    if frame[p] != 0x80 or frame[p + 1] & 0x7F != 0x60 or len(frame) - p < 100:
        return None
    return frame[p + 2] << 8 | frame[p + 3]


def flood(bind, sender, ctl, seconds):
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.bind(("lo", 0))
    sniff.setblocking(False)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((bind, 0))
    s.setblocking(False)
    newest, end = None, time.monotonic() + 10
    while newest is None and time.monotonic() < end:
        if select.select([sniff], [], [], 0.5)[0]:
            newest = audio_seq(sniff.recv(65536))
    if newest is None:
        sys.exit("no audio seen on lo within 10 s")
    out = {"requests": 0, "packets_asked": 0, "came_back": 0}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            while True:
                q = audio_seq(sniff.recv(65536))
                if q is not None and (q - newest) & 0xFFFF < 0x8000:
                    newest = q
        except BlockingIOError:
            pass
        try:
            while s.recv(65536):
                out["came_back"] += 1
        except (BlockingIOError, ConnectionRefusedError):
            pass
        first = (newest - 64) & 0xFFFF
        try:
            s.sendto(bytes([0x80, 0xD5, 0x00, 0x01]) + struct.pack(">HH", first, 64), (sender, ctl))
        except (ConnectionRefusedError, BlockingIOError):  # gone (ICMP), or a full buffer
            break
        out["requests"] += 1
        out["packets_asked"] += 64
        time.sleep(0.005)                  # the flood's rate, 200 a second: no synchronisation
    out["newest"] = newest
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "stranger":
        stranger(args[0], args[1], int(args[2]), int(args[3]), float(args[4]))
    elif cmd == "flood":
        flood(args[0], args[1], int(args[2]), float(args[3]))
    else:
        sys.exit(__doc__)
