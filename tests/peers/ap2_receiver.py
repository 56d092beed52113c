#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A small AirPlay 2 realtime-audio receiver for tests (see tests/peers/README.md): RTSP with
GET /info, transient pair-setup, encrypted RTSP, SETUP/RECORD/SETPEERS/SET_PARAMETER/FLUSH/
TEARDOWN; PTP on UDP 319/320; 0xD7 anchors and 0xD5/0xD6 resends on its control port; audio
decrypted and decoded with FFmpeg's ALAC decoder. Writes the PCM (s16le) and a JSON summary.
Written from the protocol facts (PROTOCOLS.md, TESTBED.md), not from txpace's sender."""
import argparse
import json
import os
import plistlib
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ap2_proto as P  # noqa: E402
import ap2_events as E  # noqa: E402
from ap2_rtsp import Conn  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

FEATURES = (1 << 9) | (1 << 11) | (1 << 14) | (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20) | \
    (1 << 22) | (1 << 30) | (1 << 38) | (1 << 40) | (1 << 41) | (1 << 46) | (1 << 48)
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def log(msg):
    print("ap2_receiver: " + msg, file=sys.stderr, flush=True)


class State:
    """everything the summary reports; one lock for the threads that add to it"""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.args = args
        self.requests, self.errors, self.volumes, self.flushes = [], [], [], []
        self.client_ip = None
        self.pairing = {"attempts": 0, "result": None, "kind": None}
        self.session = {"setup": None, "refused": None, "stream": None, "teardowns": 0}
        self.feedback = 0
        self.shk = None
        self.audio = {"packets_received": 0, "decrypted": 0, "failed": 0, "duplicates": 0,
                      "dropped": [], "resend_requests": 0, "resend_seqs_requested": 0,
                      "resends_answered": 0, "resends_identical": 0, "resends_unrequested": 0,
                      "flushed_late": 0, "ssrc": None, "errors": []}
        self.segments = [self.new_segment()]
        self.arrivals = 0
        self.dropped_bytes = {}
        self.requested = set()
        self.control_src = None
        self.control = {"packets": 0, "anchors": 0, "unknown": 0, "source": None}
        self.anchors = []
        self.ptp = {"counts": {}, "order": [], "rejected": {}, "clock_identity": None,
                    "grandmaster_identity": None, "announce_seen": False, "two_step_syncs": 0,
                    "follow_up_unmatched": 0, "sources": [], "offset_ns": None}
        self.last_sync = None
        self.offsets = []
        self.events = {"connected": 0, "requests": 0, "answers": [], "errors": [],
                       "unexpected_bytes": 0}
        self.exit = None
        self.faults_applied = []

    @staticmethod
    def new_segment():
        return {"frames": {}, "first": None, "high": None, "first_rtptime": None}

    def error(self, msg):
        with self.lock:
            self.errors.append(msg)
        log(msg)


# ---------------------------------------------------------------- RTSP
class Receiver:
    def __init__(self, args):
        self.args, self.st, self.t0 = args, State(args), time.monotonic()
        self.shk = self.shared = None
        self.rng = random.Random(args.drop_seed)
        self.drop_index = set(args.drop_index)
        self.key = Ed25519PrivateKey.generate()
        fam = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
        self.rtsp = socket.socket(fam, socket.SOCK_STREAM)
        self.rtsp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.rtsp.bind((args.bind, args.port))
        self.rtsp.listen(4)
        self.events = socket.socket(fam, socket.SOCK_STREAM)
        self.events.bind((args.bind, 0))
        self.events.listen(2)
        self.event_port = self.events.getsockname()[1]
        self.data = self.udp(fam, args.bind, 0)
        self.ctl = self.udp(fam, args.bind, 0)
        self.ptp_ev = self.udp(fam, args.ptp_bind, args.ptp_event_port)
        self.ptp_gen = self.udp(fam, args.ptp_bind, args.ptp_general_port)
        self.udp_socks = [self.data, self.ctl, self.ptp_ev, self.ptp_gen]
        for u in self.udp_socks:
            u.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            u.setblocking(False)
        self.udp_lock = threading.RLock()
        self.done = threading.Event()
        self.write_lock = self.udp_lock  # one lock: a summary never interleaves with a datagram

    @staticmethod
    def udp(fam, addr, port):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        s.bind((addr, port))
        return s

    def info(self):
        pk = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        d = {"features": FEATURES, "statusFlags": 4, "deviceID": self.args.device_id,
             "pk": pk, "pi": "2e388006-13ba-4041-9a67-25dd4a43d536",
             "psi": "00000000-0000-4000-8000-000000000001", "name": self.args.name,
             "model": "ap2_receiver", "sourceVersion": "366.0", "protocolVersion": "1.1",
             "initialVolume": -20.0, "volumeControlType": 3, "vv": 2,
             "supportedFormats": {"audioStream": 0x40000}}
        if self.args.require_pin:
            d["features"] |= 1 << 51  # a HomeKit-pairing-only receiver
            d["features"] &= ~(1 << 48)
        return plistlib.dumps(d, fmt=plistlib.FMT_BINARY)

    # ---- TCP: buffered audio (type 103)
    def buffered_listen(self):
        """a TCP port for the records: u16 big-endian length (counting itself), then a packet
        sealed as a realtime one (bytes 1-3 a 23-bit sequence number, 8-11 the encoding)"""
        ls = socket.socket(self.rtsp.family, socket.SOCK_STREAM)
        ls.bind((self.args.bind, 0))
        ls.listen(1)
        threading.Thread(target=self.buffered_loop, args=(ls,), daemon=True).start()
        return ls.getsockname()[1]

    def buffered_loop(self, ls):
        st = self.st
        c, _ = ls.accept()
        buf = b""
        while True:
            more = c.recv(65536)
            if not more:
                break
            buf += more
            while len(buf) >= 2:
                n = struct.unpack(">H", buf[:2])[0]
                if n < 2 + 12 + 24:
                    with st.lock:
                        st.error("buffered: a record of %d bytes" % n)
                    return
                if len(buf) < n:
                    break
                rec, buf = buf[2:n], buf[n:]
                with st.lock:
                    st.audio["buffered_records"] = st.audio.get("buffered_records", 0) + 1
                    st.audio["buffered_ssrc"] = struct.unpack(">I", rec[8:12])[0]
                with self.udp_lock:
                    self.on_audio(rec)
                if self.args.fault == "close-data" and st.audio["buffered_records"] >= 100:
                    with st.lock:
                        st.faults_applied.append("closed the data connection")
                    c.close()
                    return

    # ---- UDP: audio, control, PTP
    def udp_loop(self):
        while not self.done.is_set():
            r, _, _ = select.select(self.udp_socks, [], [], 0.2)
            with self.udp_lock:
                self.udp_take(self.udp_socks if r else [])

    def udp_take(self, ready):
        """read what the ready sockets hold and handle it in the order of the kernel's arrival
        stamps (an Announce and a Sync on two sockets keep their order)"""
        # The sockets are read one after the other, so a later one can hold a datagram newer
        # than one still unread on an earlier one (a Follow_Up read before its Sync): read
        # until a whole pass finds nothing, then everything read is a complete prefix
        got, more = [], bool(ready)
        while more:
            more = False
            for s in ready:
                while True:
                    try:
                        msg, anc, _, src = s.recvmsg(65536, 64)
                    except BlockingIOError:
                        break
                    more = True
                    got.append((_stamp(anc) or 0, self.udp_socks.index(s), msg, src))
        for stamp, i, msg, src in sorted(got, key=lambda g: g[0]):
                if i == 0:
                    self.on_audio(msg)
                elif i == 1:
                    self.on_control(msg, src)
                else:
                    port = self.args.ptp_event_port if i == 2 else self.args.ptp_general_port
                    self.on_ptp(msg, src, port, stamp or None)

    def on_ptp(self, msg, src, port, stamp):
        st, p = self.st, None
        ptp = st.ptp
        with st.lock:
            why = None
            if st.client_ip is None or _ip(src[0]) != st.client_ip:
                why = "wrong_source"
            elif src[1] != port:
                why = "wrong_port"
            if why is None:
                try:
                    p = P.ptp_parse(msg)
                except ValueError:
                    why = "malformed"
            if why:
                ptp["rejected"][why] = ptp["rejected"].get(why, 0) + 1
                if [src[0], src[1]] not in ptp["sources"] and len(ptp["sources"]) < 8:
                    ptp["sources"].append([src[0], src[1]])
                return
            t = p["type"]
            want = 320 if t in ("follow_up", "announce", "signaling", "delay_resp") else 319
            if port != (self.args.ptp_general_port if want == 320 else self.args.ptp_event_port):
                ptp["rejected"]["wrong_channel"] = ptp["rejected"].get("wrong_channel", 0) + 1
                return
            ptp["counts"][t] = ptp["counts"].get(t, 0) + 1
            if len(ptp["order"]) < 64:
                ptp["order"].append(t)
            if t == "announce":
                ptp["announce_seen"] = True
                ptp["grandmaster_identity"] = p["grandmaster_identity"]
                ptp["clock_identity"] = p["clock_identity"]
                return
            if t not in ("sync", "follow_up"):
                return
            if not ptp["announce_seen"]:
                ptp["rejected"]["before_announce"] = ptp["rejected"].get("before_announce", 0) + 1
                return
            if t == "sync":
                if p["flags"] & 0x0200:
                    ptp["two_step_syncs"] += 1
                st.last_sync = (p["sequence"], p["clock_identity"], stamp)
                return
            ls = st.last_sync
            if not ls or ls[0] != p["sequence"] or ls[1] != p["clock_identity"]:
                ptp["follow_up_unmatched"] += 1
                return
            st.last_sync = None
            if ls[2] is not None:
                st.offsets.append(p["timestamp_ns"] + (p["correction"] >> 16) - ls[2])

    def on_control(self, msg, src):
        st = self.st
        with st.lock:
            st.control["packets"] += 1
            if st.control_src is None:
                st.control_src = src
                st.control["source"] = [src[0], src[1]]
        if len(msg) >= 2 and msg[1] & 0x7F == 0x57 and len(msg) >= 28:  # 0xD7 anchor
            f1, ptp_ns, f2 = struct.unpack(">IQI", msg[4:20])
            clock = msg[20:28].hex()
            with st.lock:
                st.control["anchors"] += 1
                if len(st.anchors) < 1000:
                    st.anchors.append({
                        "first": msg[0] == 0x90, "rtp_time": f1, "ptp_ns": ptp_ns,
                        "rtp_next": f2, "clock_identity": clock,
                        "matches_grandmaster": clock == st.ptp["grandmaster_identity"],
                        "t": round(time.monotonic() - self.t0, 6)})
            return
        if len(msg) > 4 and msg[1] & 0x7F == 0x56:  # 0xD6: a resent RTP packet
            self.on_audio(msg[4:], resend=True)
            return
        with st.lock:
            st.control["unknown"] += 1

    def on_audio(self, pkt, resend=False):
        st, a = self.st, self.st.audio
        if not resend:
            with st.lock:
                a["packets_received"] += 1
                n = a["packets_received"]
            if self.args.die_after and n >= self.args.die_after:
                self.finish("die-after", drain=False)
                os._exit(3)
        if self.shk is None or len(pkt) < 12:
            with st.lock:
                a["failed"] += 1
            return
        seq = struct.unpack(">H", pkt[2:4])[0]
        with st.lock:
            seg = st.segments[-1]
            ext = _extend(seq, seg)
            fresh = not resend and ext not in seg["frames"] and ext not in st.dropped_bytes
            if fresh:
                k = st.arrivals
                st.arrivals += 1
                if k in self.drop_index or (k > 0 and self.rng.random() < self.args.drop):
                    a["dropped"].append(seq)
                    st.dropped_bytes[ext] = pkt
                    return
        try:
            seq, ts, ssrc, frame = P.decrypt_audio(self.shk, pkt)
        except ValueError as e:
            with st.lock:
                a["failed"] += 1
                if len(a["errors"]) < 20:
                    a["errors"].append(str(e))
            return
        with st.lock:
            self.store(ext, ts, ssrc, frame, pkt, resend)

    def store(self, ext, ts, ssrc, frame, pkt, resend):
        st, a = self.st, self.st.audio
        a["decrypted"] += 1
        a["ssrc"] = ssrc
        seg = None
        for s in reversed(st.segments):
            if s["first"] is not None and s["first"] <= ext <= (s["high"] or ext):
                seg = s
                break
        if resend:
            if ext not in st.requested:
                a["resends_unrequested"] += 1
            a["resends_answered"] += 1
            if st.dropped_bytes.get(ext) == pkt:
                a["resends_identical"] += 1
            if seg is None or ext in seg["frames"]:
                a["duplicates"] += 1
                return
            seg["frames"][ext] = (ts, frame)
            return
        seg = st.segments[-1]
        if seg.get("closed_high") is not None and ext <= seg["closed_high"]:
            a["flushed_late"] += 1
            return
        if ext in seg["frames"]:
            a["duplicates"] += 1
            return
        if seg["first"] is None:
            seg["first"], seg["high"], seg["first_rtptime"] = ext, ext - 1, ts
        if ext > seg["high"] + 1:
            self.request_resend(seg["high"] + 1, ext - seg["high"] - 1)
        seg["high"] = max(seg["high"], ext)
        seg["frames"][ext] = (ts, frame)

    def request_resend(self, first, count):
        st, a = self.st, self.st.audio
        if st.control_src is None:
            a["errors"].append("resend of %d packets: no control packet seen yet" % count)
            return
        for k in range(count):
            st.requested.add(first + k)
        a["resend_requests"] += 1
        a["resend_seqs_requested"] += count
        req = b"\x80\xd5\x00\x01" + struct.pack(">HH", first & 0xFFFF, count)
        try:
            self.ctl.sendto(req, st.control_src)
        except OSError as e:
            a["errors"].append("resend request: %s" % e.strerror)

    def flush(self, rtp_info):
        f = {"rtp_info": rtp_info, "t": round(time.monotonic() - self.t0, 6)}
        for kv in rtp_info.split(";"):
            k, _, v = kv.partition("=")
            if k.strip() in ("seq", "rtptime") and v.strip().isdigit():
                f[k.strip()] = int(v)
        with self.st.lock:
            self.st.flushes.append(f)
            old = self.st.segments[-1]
            if old["first"] is not None:
                new = State.new_segment()
                new["closed_high"] = old["high"]
                new["base"] = old["high"]
                self.st.segments.append(new)

    # ---- RTSP connections and the event channel
    def serve(self):
        while not self.done.is_set():
            r, _, _ = select.select([self.rtsp, self.events], [], [], 0.2)
            if self.events in r:
                c, _ = self.events.accept()
                with self.st.lock:
                    self.st.events["connected"] += 1
                threading.Thread(target=E.converse, args=(c, self.shared, self.args.fault,
                                                          self.st.events), daemon=True).start()
            if self.rtsp not in r:
                continue
            c, addr = self.rtsp.accept()
            with self.st.lock:
                self.st.client_ip = _ip(addr[0])
            threading.Thread(target=self.conversation, args=(c, addr), daemon=True).start()

    def conversation(self, c, addr):
        conn = Conn(self, c, addr)
        how = conn.run()
        c.close()
        if conn.beyond_info or how != "client-closed":
            self.finish(how)
            if self.args.once:
                self.done.set()

    # ---- output
    def finish(self, how, drain=True):
        """the summary and the PCM, after everything already queued on the UDP sockets"""
        with self.write_lock:
            if drain:
                self.udp_take(self.udp_socks)
            with self.st.lock:
                self.st.exit = how
                pcm, segs, missing = self.decode()
                summary = self.summary(segs, missing)
                summary["audio"]["frames_written"] = len(pcm) // 4
            _atomic(self.args.pcm, pcm)
            _atomic(self.args.summary, (json.dumps(summary, indent=1) + "\n").encode())

    def decode(self):
        """every segment's frames in seq order through FFmpeg; a packet still missing after the
        resends is 352 frames of silence, as a real receiver plays it"""
        st, spf = self.st, 352
        frames, counts, segs, missing = [], [], [], []
        for s in st.segments:
            if s["first"] is None:
                continue
            info = {"first_seq": s["first"] & 0xFFFF, "last_seq": s["high"] & 0xFFFF,
                    "first_rtptime": s["first_rtptime"], "packets": len(s["frames"]),
                    "missing": []}
            for ext in range(s["first"], s["high"] + 1):
                f = s["frames"].get(ext)
                if f is None:
                    info["missing"].append(ext & 0xFFFF)
                    frames.append(None)
                    counts.append(spf)
                    continue
                try:
                    counts.append(P.alac_frame_samples(f[1], spf))
                    frames.append(f[1])
                except ValueError as e:
                    st.audio["errors"].append("seq %d: %s" % (ext & 0xFFFF, e))
                    frames.append(None)
                    counts.append(spf)
            missing += info["missing"]
            segs.append(info)
        real = [f for f in frames if f is not None]
        if not real:
            return b"", segs, missing
        caf = P.caf_alac(real, sum(c for f, c in zip(frames, counts) if f is not None))
        r = subprocess.run([self.args.ffmpeg, "-nostdin", "-v", "error", "-f", "caf", "-i",
                            "pipe:0", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"],
                           input=caf, capture_output=True)
        pcm = r.stdout
        want = sum(c for f, c in zip(frames, counts) if f is not None) * 4
        if r.returncode or len(pcm) != want:
            st.audio["errors"].append("ffmpeg: %d bytes for %d expected (exit %d): %s" % (
                len(pcm), want, r.returncode, r.stderr.decode(errors="replace").strip()[-200:]))
            return pcm, segs, missing
        out, pos = [], 0
        for f, c in zip(frames, counts):
            if f is None:
                out.append(b"\0" * (c * 4))
            else:
                out.append(pcm[pos:pos + c * 4])
                pos += c * 4
        return b"".join(out), segs, missing

    def summary(self, segs, missing):
        st = self.st
        a = dict(st.audio)
        a["missing_after_resends"] = missing
        a["segments"] = segs
        off = st.offsets
        ptp = dict(st.ptp)
        if off:
            ptp["offset_ns"] = {"count": len(off), "first": off[0], "last": off[-1],
                                "min": min(off), "max": max(off)}
        return {"version": 1, "exit": st.exit, "client": st.client_ip,
                "user_agent": getattr(st, "user_agent", None),
                "requests": st.requests, "pairing": st.pairing, "session": st.session,
                "volumes": st.volumes, "flushes": st.flushes, "feedback": st.feedback,
                "audio": a, "control": st.control, "anchors": st.anchors, "ptp": ptp,
                "events": st.events, "errors": st.errors, "faults_applied": st.faults_applied,
                "options": {"drop": self.args.drop, "drop_index": self.args.drop_index,
                            "fault": self.args.fault, "fault_on": self.args.fault_on,
                            "require_pin": self.args.require_pin,
                            "die_after": self.args.die_after}}


def _extend(seq, seg):
    """16-bit seq -> an unwrapped one, near the segment's highest (or its base after a flush)"""
    ref = seg["high"] if seg["first"] is not None else seg.get("base")
    if ref is None:
        return seq + 0x10000
    d = (seq - ref) & 0xFFFF
    return ref + (d - 0x10000 if d >= 0x8000 else d)


def _ip(a):
    return a[7:] if a.startswith("::ffff:") else a


def _stamp(anc):
    n = struct.calcsize("@ll")  # struct timespec: two longs
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= n:
            sec, ns = struct.unpack("@ll", data[:n])
            return sec * 1000000000 + ns
    return None


def _atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=7000, help="RTSP port (TCP)")
    ap.add_argument("--bind", default="0.0.0.0")
    ap.add_argument("--pcm", required=True, help="decoded audio, s16le stereo 44100")
    ap.add_argument("--summary", required=True, help="JSON summary")
    ap.add_argument("--name", default="ap2peer")
    ap.add_argument("--device-id", default="02:00:00:a2:00:01")
    ap.add_argument("--pin", default="3939", help="transient pair-setup PIN")
    ap.add_argument("--require-pin", action="store_true", help="answer 470 to transient M1")
    ap.add_argument("--fault", choices=["none", "refuse-pairing", "empty-setup", "garbage",
                                        "close-data", "event-garbage"], default="none",
                    help="close-data: close the buffered data connection after 100 records; "
                    "event-garbage: 80 bytes on the event connection, a frame that does not authenticate")
    ap.add_argument("--fault-on", choices=["info", "pair-setup", "setup", "record",
                                           "setrateanchortime"],
                    default="setup", help="which request --fault garbage answers")
    ap.add_argument("--die-after", type=int, default=0, metavar="N",
                    help="exit (status 3) when the Nth audio packet arrives")
    ap.add_argument("--drop", type=float, default=0.0, help="fraction of audio packets dropped")
    ap.add_argument("--drop-seed", type=int, default=1)
    ap.add_argument("--drop-index", type=lambda s: [int(x) for x in s.split(",") if x],
                    default=[], help="drop these arrivals (0-based, comma-separated)")
    ap.add_argument("--ptp-bind", default="0.0.0.0")
    ap.add_argument("--ptp-event-port", type=int, default=319)
    ap.add_argument("--ptp-general-port", type=int, default=320)
    ap.add_argument("--once", action="store_true", help="exit after the first session ends")
    ap.add_argument("--ffmpeg", default="ffmpeg")
    args = ap.parse_args()
    try:
        rx = Receiver(args)
    except OSError as e:
        print("ap2_receiver: cannot bind: %s" % e.strerror, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: rx.done.set())
    signal.signal(signal.SIGINT, lambda *_: rx.done.set())
    threading.Thread(target=rx.udp_loop, daemon=True).start()
    log("listening on RTSP %d, PTP %d/%d" % (rx.rtsp.getsockname()[1], args.ptp_event_port,
                                             args.ptp_general_port))
    rx.serve()
    if rx.st.exit is None:
        rx.finish("signal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
