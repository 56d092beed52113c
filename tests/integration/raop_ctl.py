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
           receiver's negotiated control port).
       raop_ctl.py timing RTSP_PORT MAX_S
           Watch lo (kernel stamps, each datagram once: as it is sent) until SIGINT or MAX_S:
           every timing request (0xD2) and the replies (0xD3), paired in order, and the RTSP
           requests to RTSP_PORT with their answers. Prints "watching" once it is, then, for the
           requests made once the audio flows, {"requests": N, "answered": N, "unasked": N
           (replies beyond all requests), "max_delay_ms": F,
           "delays_ms": [...], "during_rtsp": N (requests that came while an RTSP request was
           unanswered), "rtsp_requests": N, "request_ports": [...], "reply_ports": [...],
           "misordered": N (replies whose transmit time is before their receive time),
           "after_teardown": N (requests after the TEARDOWN was sent: not counted above),
           "setup_requests": N, "setup_delays_ms": [...] (those before the first audio packet,
           null where unanswered)}."""
import json
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35


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


def ip_payload(frame):
    """(proto, sport, dport, payload) of an IPv4 TCP/UDP frame on lo, or None."""
    if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = 14 + (frame[14] & 0x0F) * 4
    proto = frame[14 + 9]
    if proto == 17 and len(frame) >= ip + 8:
        return proto, *struct.unpack(">HH", frame[ip:ip + 4]), frame[ip + 8:]
    if proto == 6 and len(frame) >= ip + 20:
        return proto, *struct.unpack(">HH", frame[ip:ip + 4]), frame[ip + (frame[ip + 12] >> 4) * 4:]
    return None


def timing(rtsp_port, max_s):
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sniff.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sniff.bind(("lo", 0))
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    asked = []              # [request time, reply time or None], in order
    rtsp_open = 0           # RTSP requests sent and not yet answered
    teardown = streaming = False
    out = {"requests": 0, "answered": 0, "unasked": 0, "during_rtsp": 0, "rtsp_requests": 0,
           "request_ports": [], "reply_ports": [], "misordered": 0, "after_teardown": 0}
    print("watching", flush=True)
    end = time.monotonic() + max_s
    while not stop and time.monotonic() < end:
        try:
            if not select.select([sniff], [], [], 0.1)[0]:
                continue
            frame, anc, _, addr = sniff.recvmsg(65536, socket.CMSG_SPACE(16))
        except InterruptedError:
            continue
        if addr[2] != PACKET_OUTGOING:
            continue            # lo shows each packet twice: as sent, and as received
        t = next((sec * 1000000000 + ns for lvl, kind, d in anc
                  if lvl == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS
                  for sec, ns in [struct.unpack("qq", d[:16])]), time.time_ns())
        p = ip_payload(frame)
        if p is None:
            continue
        proto, sport, dport, pl = p
        if proto == 6:
            if dport == rtsp_port and pl[:1].isalpha() and pl.split(b" ", 1)[0].isupper():
                out["rtsp_requests"] += 1
                rtsp_open += 1
                teardown = teardown or pl.startswith(b"TEARDOWN ")
            elif sport == rtsp_port and pl.startswith(b"RTSP/1.0 "):
                rtsp_open = max(0, rtsp_open - 1)
            continue
        if len(pl) > 100 and pl[0] == 0x80 and pl[1] & 0x7F == 0x60:
            streaming = True        # the first audio packet: the session's setup is over
        if len(pl) != 32 or pl[0] != 0x80 or pl[2:4] != b"\x00\x07":
            continue
        if pl[1] == 0xD2 and teardown:
            out["after_teardown"] += 1  # the session is over: no reply owed
        elif pl[1] == 0xD2:
            asked.append([t, None, streaming])
            out["requests"] += streaming
            out["during_rtsp"] += streaming and rtsp_open > 0
            if sport not in out["request_ports"]:
                out["request_ports"].append(sport)
        elif pl[1] == 0xD3:
            # shairport-sync's requests carry no timestamps (all zero): replies pair by order
            a = next((a for a in asked if a[1] is None), None)
            if a is None:
                out["unasked"] += 1
            else:
                a[1] = t
            if dport not in out["reply_ports"]:
                out["reply_ports"].append(dport)
            rx, tx = struct.unpack(">QQ", pl[16:32])
            out["misordered"] += tx < rx
    delays = [(a[1] - a[0]) / 1e6 for a in asked if a[1] is not None and a[2]]
    out["answered"] = len(delays)
    out["max_delay_ms"] = round(max(delays), 3) if delays else None
    out["delays_ms"] = [round(d, 3) for d in delays]
    setup = [(a[1] - a[0]) / 1e6 if a[1] else None for a in asked if not a[2]]
    out["setup_requests"] = len(setup)
    out["setup_delays_ms"] = [d if d is None else round(d, 3) for d in setup]
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "stranger":
        stranger(args[0], args[1], int(args[2]), int(args[3]), float(args[4]))
    elif cmd == "flood":
        flood(args[0], args[1], int(args[2]), float(args[3]))
    elif cmd == "timing":
        timing(int(args[0]), float(args[1]))
    else:
        sys.exit(__doc__)
