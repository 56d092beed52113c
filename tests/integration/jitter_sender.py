# SPDX-License-Identifier: GPL-2.0-only
"""An RTP L24 stereo 48 kHz 1 ms sender with a bad network: every packet up to 3 ms late, and a
stall: packets STALL_FROM..STALL_TO-1 are held and then released in one burst. The payload is the
ramp (sample i = i mod 2^24), so a receiver can tell exactly which samples it got.

usage: jitter_sender.py DEST_IP PORT PACKETS STALL_FROM STALL_TO"""
import random
import socket
import struct
import sys
import time

dest, port, n, s_from, s_to = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
rng = random.Random(67)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)


def packet(k):
    base = k * 96
    payload = b"".join(((base + i) & 0xFFFFFF).to_bytes(3, "big") for i in range(96))
    return struct.pack(">BBHII", 0x80, 96, k & 0xFFFF, (1000 + k * 48) & 0xFFFFFFFF, 0x5EED) + payload


start = time.monotonic() + 0.05
last = 0.0
held = []
for k in range(n):
    due = max(last, start + k * 0.001 + rng.uniform(0, 0.003))
    if s_from <= k < s_to:
        held.append(packet(k))
        continue
    delay = due - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    for p in held:          # the stall ends: everything held leaves at once
        sock.sendto(p, (dest, port))
    held = []
    sock.sendto(packet(k), (dest, port))
    last = due
