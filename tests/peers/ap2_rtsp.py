# SPDX-License-Identifier: GPL-2.0-only
"""The RTSP side of tests/peers/ap2_receiver.py, from the protocol facts (PROTOCOLS.md): one
connection's requests (GET /info, transient and PIN pair-setup, pair-verify, SETUP, RECORD,
SETPEERS, SET_PARAMETER, FLUSH, TEARDOWN, ...), encrypted after pairing, with the faults the
tests ask for."""
import plistlib
import time

import ap2_proto as P

GARBAGE = b"\x13\x37 this is not RTSP \xff\xfe\x00" * 8


def parse_request(buf):
    """-> (method, path, headers, body, rest) or None while incomplete"""
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        if len(buf) > 65536:
            raise ValueError("request head over 64 KiB")
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith(("RTSP/", "HTTP/")):
        raise ValueError("request line %r" % lines[0][:80])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    n = int(hdrs.get("content-length", "0") or 0)
    if n < 0 or n > 1 << 20:
        raise ValueError("Content-Length %d" % n)
    if len(rest) < n:
        return None
    return parts[0], parts[1], hdrs, rest[:n], rest[n:]


def response(cseq, status=200, reason="OK", headers=(), body=b"", ctype=None):
    out = "RTSP/1.0 %d %s\r\nCSeq: %s\r\nServer: AirTunes/366.0\r\n" % (status, reason, cseq)
    for k, v in headers:
        out += "%s: %s\r\n" % (k, v)
    if ctype and body:
        out += "Content-Type: %s\r\n" % ctype
    out += "Content-Length: %d\r\n\r\n" % len(body)
    return out.encode() + body


class Conn:
    """one RTSP connection: plain until pairing ends, then encrypted"""

    def __init__(self, rx, sock, addr):
        self.rx, self.st, self.sock, self.addr = rx, rx.st, sock, addr
        self.chan = None
        self.pending = None  # the cipher set up by M4, used from the next request on
        self.srp = None
        self.beyond_info = False  # a connection that only asked for /info ends no session

    def send(self, data):
        if self.chan:
            data = self.chan.seal(data)
        self.sock.sendall(data)

    def run(self):
        buf = b""
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    return "client-closed"
                buf += self.chan.feed(data) if self.chan else data
                while True:
                    r = parse_request(buf)
                    if r is None:
                        break
                    buf = r[4]
                    if self.handle(*r[:4]) == "stop":
                        return "teardown"
                    if self.pending and not buf:
                        self.chan, self.pending = self.pending, None
        except P.FrameError as e:
            self.st.error("rtsp: " + str(e))
            return "bad-frame"
        except (ValueError, UnicodeError) as e:
            self.st.error("rtsp: bad request: %s" % e)
            return "bad-request"
        except OSError as e:
            return "client-closed (%s)" % e.strerror

    def fault(self, where):
        a = self.rx.args
        if a.fault == "garbage" and a.fault_on == where:
            with self.st.lock:
                self.st.faults_applied.append("garbage answer to " + where)
            self.sock.sendall(GARBAGE)
            return True
        return False

    def handle(self, method, path, hdrs, body):
        st = self.st
        with st.lock:
            st.requests.append({"method": method, "path": path, "encrypted": bool(self.chan),
                                "t": round(time.monotonic() - self.rx.t0, 6)})
        cseq = hdrs.get("cseq", "0")
        key = method + " " + path.split("?")[0]
        if key != "GET /info":
            self.beyond_info = True
        if key == "GET /info":
            if self.fault("info"):
                return None
            with st.lock:
                st.user_agent = hdrs.get("user-agent")
            return self.send(response(cseq, body=self.rx.info(), ctype="application/x-apple-binary-plist"))
        if key == "POST /pair-setup":
            return self.pair_setup(cseq, hdrs, body)
        if key == "POST /pair-verify":
            return self.send(response(cseq, 470, "Connection Authorization Required"))
        if not self.chan:  # everything after /info and pairing is encrypted
            st.error("rtsp: %s before pairing" % key)
            return self.send(response(cseq, 403, "Forbidden"))
        if method == "SETUP":
            return self.setup(cseq, hdrs, body)
        if method == "TEARDOWN":
            return self.teardown(cseq, body)
        if method == "SET_PARAMETER":
            return self.set_parameter(cseq, hdrs, body)
        if method == "GET_PARAMETER":
            return self.send(response(cseq, body=b"volume: -20.000000\r\n", ctype="text/parameters"))
        if method == "FLUSH":
            self.rx.flush(hdrs.get("rtp-info", ""))
            return self.send(response(cseq))
        if method == "RECORD":
            if self.fault("record"):
                return None
            return self.send(response(cseq, headers=[("Audio-Latency", "0")]))
        if key == "POST /feedback":
            with st.lock:
                st.feedback += 1
            return self.send(response(cseq))
        if method in ("SETRATEANCHORTIME", "FLUSHBUFFERED"):
            if self.fault(method.lower()):
                return None
            try:
                got = _plain(plistlib.loads(body))
            except Exception:
                got = {"unreadable": True}
            tl = got.get("networkTimeTimelineID")
            if isinstance(tl, int):  # a PTP clock identity as a u64 (plistlib reads it signed)
                got["timeline_id"] = "%016x" % (tl & (1 << 64) - 1)
            with st.lock:
                st.session.setdefault(method.lower(), []).append(got)
            return self.send(response(cseq))
        if method in ("SETPEERS", "SETPEERSX", "OPTIONS") \
                or method == "POST":
            return self.send(response(cseq, headers=[("Public", "ANNOUNCE, SETUP, RECORD, "
                "PAUSE, FLUSH, TEARDOWN, OPTIONS, GET_PARAMETER, SET_PARAMETER, POST, GET")]
                if method == "OPTIONS" else ()))
        st.error("rtsp: %s not known" % key)
        return self.send(response(cseq, 501, "Not Implemented"))

    def pair_setup(self, cseq, hdrs, body):
        st, a = self.st, self.rx.args
        if self.fault("pair-setup"):
            return None
        try:
            t = P.tlv_decode(body)
        except P.TLVError as e:
            st.error("pair-setup: " + str(e))
            return self.send(response(cseq, 400, "Bad Request"))
        state = t.get(P.T_STATE, b"\0")[0]
        ctype = "application/octet-stream"
        if state == 1:
            with st.lock:
                st.pairing["attempts"] += 1
                st.pairing["kind"] = "transient" if t.get(P.T_FLAGS) == b"\x10" else "pin"
                st.pairing["method"] = t.get(P.T_METHOD, b"\xff")[0]
                st.pairing["hkp"] = hdrs.get("x-apple-hkp")
            if a.require_pin:
                st.pairing["result"] = "pin-required"
                return self.send(response(cseq, 470, "Connection Authorization Required"))
            if a.fault == "refuse-pairing":
                st.pairing["result"] = "refused"
                return self.send(response(cseq, body=P.tlv_encode(
                    [(P.T_STATE, 2), (P.T_ERROR, P.E_AUTHENTICATION)]), ctype=ctype))
            if st.pairing["kind"] != "transient":
                st.pairing["result"] = "unsupported (PIN pairing)"
                return self.send(response(cseq, body=P.tlv_encode(
                    [(P.T_STATE, 2), (P.T_ERROR, P.E_UNAVAILABLE)]), ctype=ctype))
            self.srp = P.SRPServer("Pair-Setup", a.pin)
            return self.send(response(cseq, body=P.tlv_encode(
                [(P.T_STATE, 2), (P.T_SALT, self.srp.salt), (P.T_PUBLIC_KEY, self.srp.public())]),
                ctype=ctype))
        if state == 3 and self.srp:
            proof = self.srp.verify(t.get(P.T_PUBLIC_KEY, b""), t.get(P.T_PROOF, b""))
            if proof is None:
                st.pairing["result"] = "bad-proof"
                return self.send(response(cseq, body=P.tlv_encode(
                    [(P.T_STATE, 4), (P.T_ERROR, P.E_AUTHENTICATION)]), ctype=ctype))
            st.pairing["result"] = "ok"
            self.send(response(cseq, body=P.tlv_encode([(P.T_STATE, 4), (P.T_PROOF, proof)]),
                               ctype=ctype))
            self.rx.shared = self.srp.K
            self.pending = P.SecureChannel(self.srp.K)
            return None
        st.error("pair-setup: state %d out of order" % state)
        return self.send(response(cseq, body=P.tlv_encode(
            [(P.T_STATE, state + 1), (P.T_ERROR, P.E_UNKNOWN)]), ctype=ctype))

    def setup(self, cseq, hdrs, body):
        st, a = self.st, self.rx.args
        try:
            req = plistlib.loads(body) if body else {}
            if not isinstance(req, dict):
                raise ValueError("not a dictionary")
        except Exception as e:
            st.error("SETUP: body is not a plist: %s" % e)
            return self.send(response(cseq, 400, "Bad Request"))
        if "streams" in req:
            return self.setup_stream(cseq, req)
        if self.fault("setup"):
            return None
        info = {k: req.get(k) for k in ("timingProtocol", "name", "groupUUID",
                                         "groupContainsGroupLeader", "timingPeerInfo")}
        with st.lock:
            st.session["setup"] = _plain(info)
        refuse = None
        tpi = req.get("timingPeerInfo")
        if req.get("timingProtocol") != "PTP":
            refuse = "timingProtocol %r (only PTP is handled)" % req.get("timingProtocol")
        elif not isinstance(tpi, dict) or not isinstance(tpi.get("Addresses"), list):
            refuse = "no timingPeerInfo with Addresses"
        if refuse or a.fault == "empty-setup":
            st.session["refused"] = refuse or "fault: empty-setup"
            return self.send(response(cseq))  # shairport-sync 5: 200, empty body
        me = self.sock.getsockname()[0]
        reply = {"eventPort": self.rx.event_port, "timingPort": 0,
                 "timingPeerInfo": {"Addresses": [me], "ID": me}}
        return self.send(response(cseq, body=plistlib.dumps(reply, fmt=plistlib.FMT_BINARY),
                                  ctype="application/x-apple-binary-plist"))

    def setup_stream(self, cseq, req):
        st = self.st
        s = req["streams"][0] if isinstance(req["streams"], list) and req["streams"] else {}
        if not isinstance(s, dict):
            s = {}
        got = {k: s.get(k) for k in ("type", "ct", "spf", "sr", "audioFormat", "controlPort",
                                      "latencyMin", "latencyMax", "isMedia")}
        shk = s.get("shk")
        got["shk_len"] = len(shk) if isinstance(shk, bytes) else None
        with st.lock:
            st.session["stream"] = _plain(got)
        # type 96 realtime (UDP), or 103 buffered (TCP records; this peer decodes ALAC only)
        kind = 103 if s.get("type") == 103 else 96
        bad = [k for k, v in (("type", kind), ("ct", 2), ("spf", 352)) if s.get(k) != v]
        if s.get("sr", 44100) != 44100:
            bad.append("sr")
        if got["shk_len"] != 32:
            bad.append("shk")
        if not isinstance(s.get("controlPort"), int):
            bad.append("controlPort")
        if bad:
            st.error("SETUP stream: unexpected %s" % ", ".join(bad))
            return self.send(response(cseq, 400, "Bad Request"))
        self.rx.shk = shk
        reply = {"streams": [{"type": 96, "dataPort": self.rx.data.getsockname()[1],
                              "controlPort": self.rx.ctl.getsockname()[1]}]}
        if kind == 103:
            reply["streams"][0].update(type=103, dataPort=self.rx.buffered_listen(),
                                       audioBufferSize=8 << 20)
        return self.send(response(cseq, body=plistlib.dumps(reply, fmt=plistlib.FMT_BINARY),
                                  ctype="application/x-apple-binary-plist"))

    def set_parameter(self, cseq, hdrs, body):
        text = body.decode("latin-1", "replace")
        for line in text.splitlines():
            k, _, v = line.partition(":")
            if k.strip().lower() == "volume":
                try:
                    with self.st.lock:
                        self.st.volumes.append(float(v))
                except ValueError:
                    self.st.error("SET_PARAMETER: volume %r" % v.strip())
        return self.send(response(cseq))

    def teardown(self, cseq, body):
        stream_only = False
        try:
            stream_only = bool(body) and "streams" in plistlib.loads(body)
        except Exception:
            pass
        with self.st.lock:
            self.st.session["teardowns"] += 1
        self.send(response(cseq))
        return None if stream_only else "stop"


def _plain(v):
    """plist values -> JSON-able ones (bytes as hex)"""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    return v


# ---------------------------------------------------------------- the receiver
