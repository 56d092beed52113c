# SPDX-License-Identifier: GPL-2.0-only
"""A tiny AirPlay 1 (RAOP) receiver written from the protocol (PROTOCOLS.md), for
test_airplay.sh and bench/raop_service.sh: it answers the session's setup (OPTIONS, ANNOUNCE,
SETUP, RECORD, SET_PARAMETER), takes the audio, and while the stream runs it asks the sender for
timing (0xD2, from its timing port) and for resends (0xD5, one packet each, from its control
port) at a steady rate, timing each reply by kernel receive stamps. What it does with the
sender's RTSP requests once the audio flows is the test's choice:

usage: raop_rx.py ADDR PORT [--delay MS] [--stall] [--status CODE] [--hz N] [--bound MS]
                            [--alt-every K] [--max-s S]
  --delay MS     answer each request made mid-stream MS late (a slow receiver)
  --stall        never answer a request made mid-stream (a receiver whose RTSP side hangs)
  --status CODE  answer the first request made mid-stream with CODE (e.g. 500) instead of 200
  --hz N         timing and resend requests a second, each (default 50)
  --bound MS     what the summary calls late (default 200: see test_airplay.sh)
  --alt-every K  every K-th timing request from another port of ours: the reply must still come
                 to the timing port we named in SETUP
  --max-s S      give up after S seconds (default 60)

It prints "listening" once the RTSP port is open, and at the end (the sender closed the RTSP
connection) one JSON object: the mid-stream requests with their arrival and answer times, and for
timing and resend requests: "all" (every request made once the audio flowed) and "outstanding"
(those made while a request of the sender's was unanswered, at least --bound before the
connection closed, so each had the time to be answered in bound), each {"asked", "answered",
"late" (answered in more than --bound, or not at all), "p50_ms", "p99_ms", "max_ms"}."""
import argparse
import json
import select
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = 35


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_REALTIME)     # the clock of SO_TIMESTAMPNS


def udp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    s.setblocking(False)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    return s


def recv_stamped(s):
    """(datagram, kernel arrival time in ns) or (None, None)."""
    try:
        data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(16))
    except (BlockingIOError, ConnectionRefusedError):
        return None, None
    t = now_ns()
    for level, kind, d in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(d) >= 16:
            sec, nsec = struct.unpack("qq", d[:16])
            t = sec * 1000000000 + nsec
    return data, t


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return round(v[min(len(v) - 1, int(p / 100 * len(v)))] / 1e6, 3)


def summary(asked, bound_ns, keep):
    """asked: [(sent_ns, rtt_ns or None)] filtered by keep(sent_ns)."""
    sel = [(t, r) for t, r in asked if keep(t)]
    rtts = [r for _, r in sel if r is not None]
    return {"asked": len(sel), "answered": len(rtts),
            "late": sum(1 for _, r in sel if r is None or r > bound_ns),
            "p50_ms": pct(rtts, 50), "p99_ms": pct(rtts, 99),
            "max_ms": round(max(rtts) / 1e6, 3) if rtts else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("addr")
    ap.add_argument("port", type=int)
    ap.add_argument("--delay", type=float, default=0)
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--hz", type=float, default=50)
    ap.add_argument("--bound", type=float, default=200)
    ap.add_argument("--alt-every", type=int, default=0)
    ap.add_argument("--max-s", type=float, default=60)
    a = ap.parse_args()
    bound = int(a.bound * 1e6)

    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lst.bind((a.addr, a.port))
    lst.listen(1)
    print("listening", flush=True)
    conn, peer = lst.accept()
    conn.setblocking(False)
    audio, ctl, tim, alt = udp(a.addr), udp(a.addr), udp(a.addr), udp(a.addr)
    port = {s: s.getsockname()[1] for s in (audio, ctl, tim)}
    sender_ctl = sender_tim = None

    rbuf = b""
    pending = []            # [answer_at_ns, bytes, request record]; None answer_at = never
    requests = []           # mid-stream requests: {"method", "cseq", "t", "answered", "status"}
    streaming = False       # the first audio packet has arrived
    newest = None           # newest audio sequence number
    timing, resend = [], []  # [sent_ns, rtt_ns or None]
    tim_wait = {}            # transmit stamp we put in a request -> index in timing
    rtx_wait = {}            # seq asked -> [indexes in resend]
    alt_replies = alt_asked = 0
    next_ask = 0
    n_asked = 0
    closed = None
    refused = False
    end = time.monotonic() + a.max_s

    def outstanding_at(t):
        return any(r["t"] <= t and (r["answered"] is None or r["answered"] > t) for r in requests)

    def answer(req, code=200, extra=""):
        reason = {200: "OK", 500: "Internal Server Error"}.get(code, "Refused")
        return (f"RTSP/1.0 {code} {reason}\r\nCSeq: {req['cseq']}\r\n{extra}"
                "Server: raop_rx.py\r\n\r\n").encode()

    while closed is None and time.monotonic() < end:
        t = now_ns()
        # the timing and resend requests, at the rate asked, once the session is set up
        if sender_tim and t >= next_ask:
            next_ask = t + int(1e9 / a.hz)
            n_asked += 1
            stamp = struct.pack(">Q", 0x8000000000000000 | n_asked)
            req = bytes([0x80, 0xD2, 0x00, 0x07]) + bytes(20) + stamp
            use_alt = a.alt_every and n_asked % a.alt_every == 0
            if streaming:
                tim_wait[stamp] = len(timing)
                timing.append([now_ns(), None])
                alt_asked += bool(use_alt)
            (alt if use_alt else tim).sendto(req, (peer[0], sender_tim))
            if streaming and newest is not None and sender_ctl:
                seq = (newest - 5) & 0xFFFF
                rtx_wait.setdefault(seq, []).append(len(resend))
                resend.append([now_ns(), None])
                ctl.sendto(bytes([0x80, 0xD5, 0x00, 0x01]) + struct.pack(">HH", seq, 1),
                           (peer[0], sender_ctl))
        # answers due
        for p in [p for p in pending if p[0] is not None and p[0] <= t]:
            conn.sendall(p[1])
            p[2]["answered"] = now_ns()
            pending.remove(p)
        waits = [next_ask - t] if sender_tim else []
        waits += [p[0] - t for p in pending if p[0] is not None]
        timeout = max(0, min(waits)) / 1e9 if waits else 0.05
        ready = select.select([conn, audio, ctl, tim, alt], [], [], min(timeout, 0.05))[0]
        for s in ready:
            if s is conn:
                try:
                    d = conn.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    d = b""
                if not d:
                    closed = now_ns()
                    break
                rbuf += d
                while b"\r\n\r\n" in rbuf:
                    head, rest = rbuf.split(b"\r\n\r\n", 1)
                    lines = head.decode(errors="replace").split("\r\n")
                    hdr = {k.strip().lower(): v.strip() for k, _, v in
                           (ln.partition(":") for ln in lines[1:])}
                    blen = int(hdr.get("content-length", "0"))
                    if len(rest) < blen:
                        break
                    rbuf = rest[blen:]
                    method = lines[0].split(" ")[0]
                    req = {"method": method, "cseq": hdr.get("cseq"), "t": now_ns(),
                           "answered": None, "status": 200}
                    extra = ""
                    if method == "SETUP":
                        for kv in hdr.get("transport", "").split(";"):
                            k, _, v = kv.partition("=")
                            if k == "control_port":
                                sender_ctl = int(v)
                            elif k == "timing_port":
                                sender_tim = int(v)
                        extra = (f"Transport: RTP/AVP/UDP;unicast;interleaved=0-1;mode=record;"
                                 f"control_port={port[ctl]};timing_port={port[tim]};"
                                 f"server_port={port[audio]}\r\nSession: 1\r\n")
                    elif method == "RECORD":
                        extra = "Audio-Latency: 11025\r\n"
                    elif method == "OPTIONS":
                        extra = ("Public: ANNOUNCE, SETUP, RECORD, FLUSH, TEARDOWN, OPTIONS, "
                                 "SET_PARAMETER\r\n")
                    if not streaming:
                        conn.sendall(answer(req, 200, extra))
                        continue
                    requests.append(req)
                    if a.stall:
                        pending.append([None, b"", req])
                    elif a.status != 200 and not refused:
                        refused = True
                        req["status"] = a.status
                        conn.sendall(answer(req, a.status))
                        req["answered"] = now_ns()
                    else:
                        pending.append([req["t"] + int(a.delay * 1e6), answer(req, 200, extra),
                                        req])
            elif s is audio:
                while True:
                    d, _ = recv_stamped(audio)
                    if d is None:
                        break
                    if len(d) >= 12 and d[1] & 0x7F == 0x60:
                        q = d[2] << 8 | d[3]
                        if newest is None or (q - newest) & 0xFFFF < 0x8000:
                            newest = q
                        streaming = True
            elif s is ctl:
                while True:
                    d, ts = recv_stamped(ctl)
                    if d is None:
                        break
                    if len(d) >= 8 and d[1] & 0x7F == 0x56:
                        q = d[6] << 8 | d[7]
                        for i in rtx_wait.get(q, []):
                            if resend[i][1] is None:
                                resend[i][1] = ts - resend[i][0]
                                break
            elif s in (tim, alt):
                while True:
                    d, ts = recv_stamped(s)
                    if d is None:
                        break
                    if s is alt:
                        alt_replies += 1
                    if len(d) >= 32 and d[1] & 0x7F == 0x53 and bytes(d[8:16]) in tim_wait:
                        i = tim_wait.pop(bytes(d[8:16]))
                        timing[i][1] = ts - timing[i][0]
    if closed is None:
        closed = now_ns()

    def keep_all(t):
        return True

    def keep_out(t):
        return outstanding_at(t) and t <= closed - bound

    t0 = requests[0]["t"] if requests else closed
    print(json.dumps({
        "requests": [{"method": r["method"], "status": r["status"],
                      "after_ms": round((r["t"] - t0) / 1e6, 3),
                      "answered_ms": None if r["answered"] is None
                      else round((r["answered"] - r["t"]) / 1e6, 3)} for r in requests],
        "closed_ms": round((closed - t0) / 1e6, 3),
        "timing": {"all": summary(timing, bound, keep_all),
                   "outstanding": summary(timing, bound, keep_out)},
        "resend": {"all": summary(resend, bound, keep_all),
                   "outstanding": summary(resend, bound, keep_out)},
        "alt_asked": alt_asked, "alt_replies": alt_replies,
        "ports": {"audio": port[audio], "control": port[ctl], "timing": port[tim]},
    }))


if __name__ == "__main__":
    sys.exit(main())
