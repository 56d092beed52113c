#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Self-test of tests/peers/ap2_receiver.py without a sender: its /info answer, the pairing
replies of its fault modes, a wrong SRP proof, RTSP before pairing, the PTP acceptance rules
(source address, port pairs, Announce first, Follow_Up matching), and its decoding path (ALAC
escape frames built here from PROTOCOLS.md's bit layout, through its CAF wrapper and FFmpeg),
its audio decryption and its encrypted RTSP framing against keys derived here with hmac/hashlib.
Loopback only: the peer listens on 127.0.0.2, the test speaks from 127.0.0.1 (and 127.0.0.3 as a
stranger). Prints PASS/FAIL lines and a closing count."""
import hashlib
import hmac
import json
import os
import plistlib
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import ap2_proto as P  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305  # noqa: E402

RESULTS = [0, 0]
TMP = tempfile.mkdtemp(prefix="txpace-ap2peer.")


def check(name, ok, detail=""):
    RESULTS[0 if ok else 1] += 1
    print(("PASS " if ok else "FAIL ") + name + ("" if ok or not detail else ": " + detail))


def free_udp_port(addr):
    """a port free on both 127.0.0.1 and 127.0.0.2 (the PTP ports must match on both ends)"""
    for _ in range(50):
        p = random.randint(20000, 60000)
        try:
            for a in (addr, "127.0.0.1"):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((a, p))
                s.close()
            return p
        except OSError:
            continue
    raise SystemExit("no free UDP port")


class Peer:
    def __init__(self, tag, *opts):
        self.ev, self.gen = free_udp_port("127.0.0.2"), free_udp_port("127.0.0.2")
        self.summary = os.path.join(TMP, tag + ".json")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "ap2_receiver.py"), "--bind", "127.0.0.2",
             "--port", "0", "--ptp-bind", "127.0.0.2", "--ptp-event-port", str(self.ev),
             "--ptp-general-port", str(self.gen), "--pcm", os.path.join(TMP, tag + ".s16le"),
             "--summary", self.summary] + list(opts), stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()  # "ap2_receiver: listening on RTSP <port>, ..."
        if "listening on RTSP" not in line:
            raise SystemExit("peer did not start: " + line)
        self.port = int(line.split("RTSP ")[1].split(",")[0])

    def connect(self):
        s = socket.create_connection(("127.0.0.2", self.port), timeout=5,
                                     source_address=("127.0.0.1", 0))
        return Client(s)

    def stop(self):
        """SIGTERM; the peer handles what is queued, writes its summary and exits"""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        with open(self.summary) as f:
            return json.load(f)


class Client:
    def __init__(self, sock):
        self.sock, self.cseq, self.buf = sock, 0, b""

    def request(self, method, path, body=b"", headers=()):
        self.cseq += 1
        head = "%s %s RTSP/1.0\r\nCSeq: %d\r\n" % (method, path, self.cseq)
        for k, v in headers:
            head += "%s: %s\r\n" % (k, v)
        self.sock.sendall((head + "Content-Length: %d\r\n\r\n" % len(body)).encode() + body)
        return self.reply()

    def reply(self):
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                return None, {}, self.buf
            self.buf += d
            if not b"RTSP/1.0 ".startswith(self.buf[:9]):
                return None, {}, self.buf
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        if not lines[0].startswith(b"RTSP/1.0 "):
            return None, {}, self.buf
        hdrs = {k.strip().lower(): v.strip() for k, _, v in
                (ln.decode().partition(":") for ln in lines[1:])}
        n = int(hdrs.get("content-length", 0))
        while len(rest) < n:
            rest += self.sock.recv(65536)
        self.buf = rest[n:]
        return int(lines[0].split()[1]), hdrs, rest[:n]

    def m1(self):
        return self.request("POST", "/pair-setup", P.tlv_encode(
            [(P.T_METHOD, 0), (P.T_STATE, 1), (P.T_FLAGS, 0x10)]),
            [("Content-Type", "application/octet-stream"), ("X-Apple-HKP", "4")])


def test_info_and_pairing():
    peer = Peer("pair", "--name", "SelfTest", "--device-id", "02:00:00:00:00:42")
    c = peer.connect()
    st, hdrs, body = c.request("GET", "/info", headers=[("User-Agent", "AirPlay/665.13.1")])
    info = plistlib.loads(body) if st == 200 and body.startswith(b"bplist00") else {}
    f = info.get("features", 0)
    check("info: a binary plist with features bits 41 (PTP) and 48 (transient pairing)",
          bool(f >> 41 & 1 and f >> 48 & 1), "status %s, features %#x" % (st, f))
    check("info: deviceID, name and a 32-byte pk",
          info.get("deviceID") == "02:00:00:00:00:42" and info.get("name") == "SelfTest"
          and len(info.get("pk", b"")) == 32, repr({k: info.get(k) for k in ("deviceID", "name")}))
    st, _, _ = c.request("SETUP", "rtsp://127.0.0.1/1", plistlib.dumps({"timingProtocol": "PTP"}))
    check("SETUP before pairing is refused (403)", st == 403, "status %s" % st)
    st, _, body = c.m1()
    t = P.tlv_decode(body) if st == 200 else {}
    B = int.from_bytes(t.get(P.T_PUBLIC_KEY, b""), "big")
    check("pair-setup M2: state 2, a 16-byte salt, 1 < B < N (3072-bit group)",
          t.get(P.T_STATE) == b"\x02" and len(t.get(P.T_SALT, b"")) == 16 and 1 < B < P.N_3072
          and len(t[P.T_PUBLIC_KEY]) <= 384, "status %s, items %s" % (st, sorted(t)))
    A = pow(P.G_3072, int.from_bytes(os.urandom(32), "big"), P.N_3072)
    st, _, body = c.request("POST", "/pair-setup", P.tlv_encode(
        [(P.T_STATE, 3), (P.T_PUBLIC_KEY, A.to_bytes(384, "big")), (P.T_PROOF, os.urandom(64))]),
        [("Content-Type", "application/octet-stream")])
    t = P.tlv_decode(body) if st == 200 else {}
    check("pair-setup M3 with a wrong proof: M4 state 4 error 2 (authentication), as "
          "shairport-sync 5 answers", t == {P.T_STATE: b"\x04", P.T_ERROR: b"\x02"}, repr(t))
    c.sock.close()
    s = peer.stop()
    check("summary: requests in order, pairing result bad-proof, X-Apple-HKP seen",
          [r["method"] + " " + r["path"] for r in s["requests"]] == [
              "GET /info", "SETUP rtsp://127.0.0.1/1", "POST /pair-setup", "POST /pair-setup"]
          and s["pairing"]["result"] == "bad-proof" and s["pairing"]["hkp"] == "4",
          json.dumps(s["pairing"]))


def test_faults():
    peer = Peer("pin", "--require-pin")
    c = peer.connect()
    _, _, body = c.request("GET", "/info")
    f = plistlib.loads(body)["features"]
    st, _, _ = c.m1()
    check("--require-pin: 470 to transient M1, features without bit 48", st == 470
          and not f >> 48 & 1, "status %s" % st)
    c.sock.close()
    check("--require-pin: summary says pin-required", peer.stop()["pairing"]["result"] ==
          "pin-required")
    peer = Peer("refuse", "--fault", "refuse-pairing")
    c = peer.connect()
    st, _, body = c.m1()
    check("--fault refuse-pairing: M2 is state 2 error 2", st == 200 and P.tlv_decode(body) ==
          {P.T_STATE: b"\x02", P.T_ERROR: b"\x02"}, "status %s body %r" % (st, body[:16]))
    c.sock.close()
    peer.stop()
    peer = Peer("garbage", "--fault", "garbage", "--fault-on", "info")
    c = peer.connect()
    st, _, raw = c.request("GET", "/info")
    check("--fault garbage --fault-on info: the answer is not RTSP", st is None and raw
          and not raw.startswith(b"RTSP/"), repr(raw[:20]))
    c.sock.close()
    peer.stop()


def ptp(t, seq, flags=0, ts_ns=0, clock=b"\x02\x11\x22\xff\xfe\x33\x44\x55", length=None):
    body = struct.pack(">HII", (ts_ns // 10**9) >> 32, (ts_ns // 10**9) & 0xFFFFFFFF,
                       ts_ns % 10**9)
    if t == 0xB:
        body += struct.pack(">hBBBBHB8sHB", 37, 0, 128, 248, 0xFE, 0xFFFF, 128, clock, 0, 0xA0)
    n = 34 + len(body) if length is None else length
    return struct.pack(">BBHBBHq4s8sHHBb", t, 2, n, 0, 0, flags, 0, b"\0" * 4, clock, 1, seq,
                       {0: 0, 8: 2, 0xB: 5}[t], 0) + body


def test_ptp_rules():
    peer = Peer("ptp")
    c = peer.connect()  # the RTSP client's address (127.0.0.1) is the only accepted source
    c.request("GET", "/info")

    def sock(addr, port):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        return s
    ev, gen = sock("127.0.0.1", peer.ev), sock("127.0.0.1", peer.gen)
    other, stranger = sock("127.0.0.1", 0), sock("127.0.0.3", peer.gen)
    to_ev, to_gen = ("127.0.0.2", peer.ev), ("127.0.0.2", peer.gen)
    ev.sendto(ptp(0x0, 1, 0x0200), to_ev)               # Sync before any Announce
    other.sendto(ptp(0xB, 1), to_gen)                   # source port != destination port
    stranger.sendto(ptp(0xB, 1), to_gen)                # not the RTSP client
    gen.sendto(b"\x0b\x02\x00", to_gen)                 # malformed
    gen.sendto(ptp(0xB, 2), to_gen)                     # Announce: accepted
    ev.sendto(ptp(0x8, 9), to_ev)                       # a Follow_Up on the event port
    for k in range(3):                                  # two-step Sync + matching Follow_Up
        ev.sendto(ptp(0x0, 10 + k, 0x0200), to_ev)
        gen.sendto(ptp(0x8, 10 + k, 0, 1_700_000_000_000_000_000 + k * 125_000_000), to_gen)
    ev.sendto(ptp(0x0, 20, 0x0200), to_ev)
    gen.sendto(ptp(0x8, 21), to_gen)                    # Follow_Up of another Sync
    c.sock.close()
    s = peer.stop()["ptp"]
    rej = s["rejected"]
    check("ptp: wrong source port, stranger address, malformed and Follow_Up-on-event rejected",
          rej.get("wrong_port") == 1 and rej.get("wrong_source") == 1 and
          rej.get("malformed") == 1 and rej.get("wrong_channel") == 1, json.dumps(rej))
    check("ptp: the Sync before the first Announce is not used", rej.get("before_announce") == 1)
    # (the event and general ports are two sockets: which one's datagram is handled first when
    # both hold some depends on the moment the peer reads them, so only the counts and the
    # messages accepted are asserted, not their interleaving; seen once on a loaded machine)
    check("ptp: counts, and the messages accepted (sync, announce, sync/follow_up pairs)",
          s["counts"] == {"sync": 5, "announce": 1, "follow_up": 4} and sorted(s["order"]) ==
          sorted(["sync", "announce"] + ["sync", "follow_up"] * 4),
          json.dumps(s["counts"]) + " " + json.dumps(s["order"]))
    check("ptp: 3 Follow_Ups matched (offsets taken), 1 unmatched, grandmaster from Announce",
          (s["offset_ns"] or {}).get("count") == 3 and s["follow_up_unmatched"] == 1 and
          s["grandmaster_identity"] == "021122fffe334455", json.dumps(s["offset_ns"]))


def escape_frame(pcm):
    """an uncompressed ALAC stereo frame (PROTOCOLS.md's layout), partial when short"""
    n = len(pcm) // 4
    bits = "001" + "0000" + "0" * 12 + ("1" if n < 352 else "0") + "00" + "1"
    if n < 352:
        bits += format(n, "032b")
    bits += "".join(format(v & 0xFFFF, "016b") for v in struct.unpack("<%dh" % (2 * n), pcm))
    bits += "111"
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")


def test_decoding():
    rnd = random.Random(5)
    pcm = bytes(rnd.getrandbits(8) for _ in range((3 * 352 + 100) * 4))
    frames = [escape_frame(pcm[k:k + 352 * 4]) for k in range(0, len(pcm), 352 * 4)]
    counts = [P.alac_frame_samples(f, 352) for f in frames]
    check("alac: frame sample counts read from the headers (352, 352, 352, 100)",
          counts == [352, 352, 352, 100], repr(counts))
    r = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "caf", "-i", "pipe:0", "-f",
                        "s16le", "pipe:1"], input=P.caf_alac(frames, sum(counts)),
                       capture_output=True)
    check("alac: CAF wrapper + FFmpeg decode escape frames bit-exact", r.stdout == pcm,
          "%d bytes of %d, %s" % (len(r.stdout), len(pcm), r.stderr[-100:]))
    shk, frame = os.urandom(32), frames[0]
    hdr = struct.pack(">BBHII", 0x80, 0x60, 4242, 123456, 0xABCD)
    tail = struct.pack("<Q", 4242)
    pkt = hdr + ChaCha20Poly1305(shk).encrypt(b"\0" * 4 + tail, frame, hdr[4:12]) + tail
    got = P.decrypt_audio(shk, pkt)
    check("audio: decrypts (AAD header bytes 4..11, 8 trailing nonce bytes)",
          got == (4242, 123456, 0xABCD, frame))
    bad = pkt[:5] + bytes([pkt[5] ^ 1]) + pkt[6:]
    try:
        P.decrypt_audio(shk, bad)
        check("audio: a changed timestamp byte does not authenticate", False)
    except ValueError:
        check("audio: a changed timestamp byte does not authenticate", True)


def hkdf(key, salt, info):
    """RFC 5869 with SHA-512 from the standard library, 32 bytes"""
    prk = hmac.new(salt, key, hashlib.sha512).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha512).digest()[:32]


def test_framing():
    K = os.urandom(64)
    ch = P.SecureChannel(K)
    w = ChaCha20Poly1305(hkdf(K, b"Control-Salt", b"Control-Write-Encryption-Key"))
    r = ChaCha20Poly1305(hkdf(K, b"Control-Salt", b"Control-Read-Encryption-Key"))
    msg = bytes(range(256)) * 9  # 2304 bytes: blocks of 1024, 1024, 256
    wire, out = b"", b""
    for k, i in enumerate(range(0, len(msg), 1024)):
        aad = struct.pack("<H", len(msg[i:i + 1024]))
        wire += aad + w.encrypt(b"\0" * 4 + struct.pack("<Q", k), msg[i:i + 1024], aad)
    for i in range(0, len(wire), 700):  # arrives in pieces
        out += ch.feed(wire[i:i + 700])
    check("rtsp framing: sender blocks (HKDF from hmac/hashlib) decrypt in pieces", out == msg)
    sealed, lens, plain, k = ch.seal(msg), [], b"", 0
    while sealed:
        n = struct.unpack("<H", sealed[:2])[0]
        lens.append(n)
        plain += r.decrypt(b"\0" * 4 + struct.pack("<Q", k), sealed[2:2 + n + 16], sealed[:2])
        sealed, k = sealed[2 + n + 16:], k + 1
    check("rtsp framing: replies in blocks of <= 1024 with the read key and a counter from 0",
          plain == msg and lens == [1024, 1024, 256], repr(lens))
    try:
        P.SecureChannel(K).feed(b"\x00\x08" + os.urandom(8 + 16))
        check("rtsp framing: a forged block is an error", False)
    except P.FrameError:
        check("rtsp framing: a forged block is an error", True)


def main():
    for t in (test_info_and_pairing, test_faults, test_ptp_rules, test_decoding, test_framing):
        try:
            t()
        except Exception as e:  # a broken peer fails the test, it does not stop the others
            check(t.__name__, False, "%s: %s" % (type(e).__name__, e))
    subprocess.run(["rm", "-rf", TMP])
    print("%d passed, %d failed" % tuple(RESULTS))
    return 1 if RESULTS[1] else 0


if __name__ == "__main__":
    sys.exit(main())
