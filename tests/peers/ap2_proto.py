# SPDX-License-Identifier: GPL-2.0-only
"""AirPlay 2 receiver-side building blocks for the test peer, written from the protocol facts in
PROTOCOLS.md / TESTBED.md (not from txpace's sender): TLV8, SRP-6a server (RFC 5054 3072-bit
group, SHA-512), HKDF-SHA512 keys, the encrypted RTSP framing, PTP message parsing, ALAC frame
headers and a CAF wrapper so that FFmpeg's ALAC decoder can decode the received frames."""
import hashlib
import os
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# ---------------------------------------------------------------- TLV8
T_METHOD, T_IDENTIFIER, T_SALT, T_PUBLIC_KEY, T_PROOF = 0x00, 0x01, 0x02, 0x03, 0x04
T_ENCRYPTED, T_STATE, T_ERROR, T_SIGNATURE, T_FLAGS = 0x05, 0x06, 0x07, 0x0A, 0x13
E_UNKNOWN, E_AUTHENTICATION, E_UNAVAILABLE = 0x01, 0x02, 0x06


class TLVError(ValueError):
    pass


def tlv_decode(data):
    """TLV8 -> {type: bytes}; items of one type that follow each other are joined (fragments)."""
    out, i, last = {}, 0, None
    while i < len(data):
        if i + 2 > len(data):
            raise TLVError("TLV8 item header cut at byte %d" % i)
        t, n = data[i], data[i + 1]
        if i + 2 + n > len(data):
            raise TLVError("TLV8 item 0x%02x says %d bytes, %d left" % (t, n, len(data) - i - 2))
        v = data[i + 2:i + 2 + n]
        if t == last and t in out:
            out[t] += v
        elif t in out:
            raise TLVError("TLV8 item 0x%02x repeated" % t)
        else:
            out[t] = v
        last = t
        i += 2 + n
    return out


def tlv_encode(items):
    """[(type, bytes or int)] -> TLV8, values over 255 bytes split into fragments."""
    out = bytearray()
    for t, v in items:
        if isinstance(v, int):
            v = bytes([v])
        if not v:
            out += bytes([t, 0])
        for k in range(0, len(v), 255):
            chunk = v[k:k + 255]
            out += bytes([t, len(chunk)]) + chunk
    return bytes(out)


# ---------------------------------------------------------------- SRP-6a server
N_3072 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E"
    "3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF"
    "5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D3"
    "9A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08"
    "CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF69558171839"
    "95497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DB"
    "EF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA"
    "06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB31"
    "43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF", 16)
G_3072 = 5


def _b(n, length=0):
    """big-endian bytes of n: minimal length, or left-padded to length"""
    return n.to_bytes(max(length, (n.bit_length() + 7) // 8, 1), "big")


def _h(*parts):
    return hashlib.sha512(b"".join(parts)).digest()


class SRPServer:
    """RFC 5054 SRP-6a, SHA-512: k = H(N | PAD(g)), x = H(s | H(I ":" P)), u = H(PAD(A) | PAD(B)),
    K = H(S), M1 = H(H(N) xor H(g) | H(I) | s | A | B | K), M2 = H(A | M1 | K); numbers hashed
    in their minimal big-endian form except where PAD() says otherwise."""

    def __init__(self, user, password, N=N_3072, g=G_3072, salt=None, secret=None):
        self.N, self.g, self.I = N, g, user.encode()
        self.nlen = (N.bit_length() + 7) // 8
        self.salt = salt if salt is not None else os.urandom(16)
        x = int.from_bytes(_h(self.salt, _h(self.I + b":" + password.encode())), "big")
        self.v = pow(g, x, N)
        self.k = int.from_bytes(_h(_b(N), _b(g, self.nlen)), "big")
        self.b = int.from_bytes(secret if secret is not None else os.urandom(32), "big")
        self.B = (self.k * self.v + pow(g, self.b, N)) % N
        self.K = None

    def public(self):
        return _b(self.B)

    def verify(self, A_bytes, m1):
        """the client's A and proof -> the server proof, or None when the proof is wrong"""
        N, A = self.N, int.from_bytes(A_bytes, "big")
        if A % N == 0:
            return None
        u = int.from_bytes(_h(_b(A, self.nlen), _b(self.B, self.nlen)), "big")
        S = pow(A * pow(self.v, u, N) % N, self.b, N)
        K = _h(_b(S))
        hng = bytes(a ^ b for a, b in zip(_h(_b(N)), _h(_b(self.g))))
        want = _h(hng, _h(self.I), self.salt, _b(A), _b(self.B), K)
        if m1 != want:
            return None
        self.K = K
        return _h(_b(A), m1, K)


# ---------------------------------------------------------------- keys and framing
def hkdf_sha512(secret, salt, info, length=32):
    return HKDF(algorithm=hashes.SHA512(), length=length, salt=salt, info=info).derive(secret)


def nonce64(counter):
    return b"\0\0\0\0" + struct.pack("<Q", counter)


class FrameError(ValueError):
    pass


class SecureChannel:
    """Encrypted RTSP: blocks of <= 1024 plaintext bytes, u16 LE length (the AAD) + ciphertext +
    16-byte tag, nonce 4 zero bytes + u64 LE counter, one counter per direction from 0."""

    def __init__(self, shared, salt=b"Control-Salt", rx_info=b"Control-Write-Encryption-Key",
                 tx_info=b"Control-Read-Encryption-Key"):
        self.rx = ChaCha20Poly1305(hkdf_sha512(shared, salt, rx_info))
        self.tx = ChaCha20Poly1305(hkdf_sha512(shared, salt, tx_info))
        self.rx_n = self.tx_n = 0
        self.buf = b""

    def feed(self, data):
        """ciphertext bytes in -> the plaintext of every complete block"""
        self.buf += data
        out = b""
        while len(self.buf) >= 2:
            n = struct.unpack("<H", self.buf[:2])[0]
            if n == 0 or n > 1024:
                raise FrameError("encrypted block says %d bytes (1..1024 allowed)" % n)
            if len(self.buf) < 2 + n + 16:
                break
            blk, self.buf = self.buf[2:2 + n + 16], self.buf[2 + n + 16:]
            try:
                out += self.rx.decrypt(nonce64(self.rx_n), blk, struct.pack("<H", n))
            except Exception:
                raise FrameError("encrypted block %d does not authenticate" % self.rx_n)
            self.rx_n += 1
        return out

    def seal(self, data):
        out = b""
        for k in range(0, len(data), 1024):
            chunk = data[k:k + 1024]
            aad = struct.pack("<H", len(chunk))
            out += aad + self.tx.encrypt(nonce64(self.tx_n), chunk, aad)
            self.tx_n += 1
        return out


def decrypt_audio(shk, pkt):
    """RTP packet -> (seq, rtptime, ssrc, ALAC frame); raises ValueError when it does not open.
    Layout: 12-byte clear header, ChaCha20-Poly1305-IETF(shk, AAD = bytes 4..11) ciphertext, the
    16-byte tag, 8 trailing nonce bytes (nonce = 4 zero bytes + those 8)."""
    if len(pkt) <= 12 + 16 + 8:
        raise ValueError("audio packet of %d bytes (needs more than 36)" % len(pkt))
    seq, ts, ssrc = struct.unpack(">HII", pkt[2:12])
    try:
        frame = ChaCha20Poly1305(shk).decrypt(b"\0\0\0\0" + pkt[-8:], pkt[12:-8], pkt[4:12])
    except Exception:
        raise ValueError("audio packet seq %d does not authenticate" % seq)
    return seq, ts, ssrc, frame


# ---------------------------------------------------------------- PTP (IEEE 1588-2008)
PTP_TYPES = {0x0: "sync", 0x1: "delay_req", 0x2: "pdelay_req", 0x3: "pdelay_resp",
             0x8: "follow_up", 0x9: "delay_resp", 0xA: "pdelay_resp_follow_up",
             0xB: "announce", 0xC: "signaling", 0xD: "management"}


def ptp_parse(msg):
    """-> dict with type, version, length, domain, flags, correction, clock_identity, port,
    sequence and, for Sync/Follow_Up/Announce, the timestamp (ns) and Announce fields"""
    if len(msg) < 34:
        raise ValueError("PTP message of %d bytes (header is 34)" % len(msg))
    t = msg[0] & 0x0F
    length = struct.unpack(">H", msg[2:4])[0]
    if msg[1] & 0x0F != 2:
        raise ValueError("PTP version %d (2 expected)" % (msg[1] & 0x0F))
    if length > len(msg) or length < 34:
        raise ValueError("PTP messageLength %d for %d bytes" % (length, len(msg)))
    p = {"type": PTP_TYPES.get(t, "type%d" % t), "domain": msg[4],
         "flags": struct.unpack(">H", msg[6:8])[0],
         "correction": struct.unpack(">q", msg[8:16])[0],
         "clock_identity": msg[20:28].hex(), "port": struct.unpack(">H", msg[28:30])[0],
         "sequence": struct.unpack(">H", msg[30:32])[0]}
    if t in (0x0, 0x8, 0xB):
        if length < 44:
            raise ValueError("PTP %s of %d bytes (44 at least)" % (p["type"], length))
        hi, lo, ns = struct.unpack(">HII", msg[34:44])
        p["timestamp_ns"] = ((hi << 32) | lo) * 1000000000 + ns
    if t == 0xB:
        if length < 64:
            raise ValueError("PTP announce of %d bytes (64 expected)" % length)
        p["grandmaster_priority1"] = msg[47]
        p["grandmaster_identity"] = msg[53:61].hex()
        p["steps_removed"] = struct.unpack(">H", msg[61:63])[0]
    return p


# ---------------------------------------------------------------- ALAC and CAF
def alac_frame_samples(frame, spf):
    """samples in one ALAC frame, from its first element's header (partial-frame flag + count)"""
    if len(frame) < 3:
        raise ValueError("ALAC frame of %d bytes" % len(frame))
    bits = int.from_bytes(frame[:8].ljust(8, b"\0"), "big")
    tag = bits >> 61
    if tag not in (0, 1):  # SCE or CPE
        raise ValueError("ALAC frame starts with element %d" % tag)
    partial = (bits >> (64 - 20)) & 1
    if not partial:
        return spf
    if len(frame) < 8:
        raise ValueError("ALAC partial frame too short for its sample count")
    return (bits >> (64 - 23 - 32)) & 0xFFFFFFFF  # after 3+4+12+1+2+1 header bits


def alac_cookie(spf=352, depth=16, channels=2, rate=44100):
    """ALACSpecificConfig: frames, version 0, depth, pb 40, mb 10, kb 14, channels, max run
    255, max frame bytes 0, average bit rate 0, sample rate"""
    return struct.pack(">IBBBBBBHIII", spf, 0, depth, 40, 10, 14, channels, 255, 0, 0, rate)


def _ber(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def caf_alac(frames, valid_frames, spf=352, channels=2, rate=44100):
    """ALAC frames -> a CAF file (desc, kuki, pakt, data) that FFmpeg's caf demuxer reads"""
    desc = struct.pack(">d4sIIIII", float(rate), b"alac", 1, 0, spf, channels, 0)
    kuki = alac_cookie(spf, 16, channels, rate)
    pakt = struct.pack(">qqii", len(frames), valid_frames, 0, 0) + b"".join(
        _ber(len(f)) for f in frames)
    data = struct.pack(">I", 0) + b"".join(frames)
    out = b"caff" + struct.pack(">HH", 1, 0)
    for name, body in ((b"desc", desc), (b"kuki", kuki), (b"pakt", pakt), (b"data", data)):
        out += name + struct.pack(">q", len(body)) + body
    return out
