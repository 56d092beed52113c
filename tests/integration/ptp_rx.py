#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""AirPlay 2 PTP receiver side for test_aptp.sh, written from IEEE 1588-2008 (clause 13) and
nqptp's rules (PROTOCOLS.md), not from txpace's code.

  ptp_rx.py listen ADDR          bind UDP 319 and 320 on ADDR; one JSON line per datagram with
                                 the kernel's receive stamp (SO_TIMESTAMPNS, CLOCK_REALTIME) and
                                 CLOCK_MONOTONIC read right after recvmsg; until SIGTERM
  ptp_rx.py check LOG REPORT MAC CLOCK   PASS/FAIL lines about what LOG holds
"""
import json
import select
import signal
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def listen(addr):
    socks = []
    for port in (319, 320):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind((addr, port))
        socks.append((s, port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        r, _, _ = select.select([s for s, _ in socks], [], [])
        for s, port in socks:
            if s not in r:
                continue
            data, anc, _, src = s.recvmsg(2048, 256)
            mono = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            rt = None
            for lvl, typ, d in anc:
                if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS:
                    sec, ns = struct.unpack("qq", d[:16])
                    rt = sec * 10**9 + ns
            print(json.dumps({"port": port, "src": src[0], "sport": src[1], "hex": data.hex(),
                              "rx_rt": rt, "rx_mono": mono}), flush=True)


# IEEE 1588-2008 13.3: the common header
def header(b):
    return {
        "type": b[0] & 0x0F, "version": b[1] & 0x0F, "length": struct.unpack(">H", b[2:4])[0],
        "domain": b[4], "flags": struct.unpack(">H", b[6:8])[0],
        "correction": struct.unpack(">q", b[8:16])[0], "clock_id": b[20:28].hex(),
        "port": struct.unpack(">H", b[28:30])[0], "seq": struct.unpack(">H", b[30:32])[0],
        "control": b[32], "log_interval": struct.unpack("b", b[33:34])[0],
    }


# 5.3.3 Timestamp: UInteger48 secondsField, UInteger32 nanosecondsField
def timestamp(b):
    return (struct.unpack(">H", b[0:2])[0] << 32 | struct.unpack(">I", b[2:6])[0]) * 10**9 + \
        struct.unpack(">I", b[6:10])[0]


SYNC, FOLLOW_UP, ANNOUNCE = 0x0, 0x8, 0xB


def check(log, report, mac, clock):
    pkts = [json.loads(line) for line in open(log) if line.strip()]
    rep = json.load(open(report))["ptp"]
    failed = []

    def ok(name, cond, why=""):
        print(("PASS " if cond else "FAIL ") + name + ("" if cond else ": " + why))
        if not cond:
            failed.append(name)

    m = bytes.fromhex(mac.replace(":", ""))
    eui = (m[:3] + b"\xff\xfe" + m[3:]).hex()
    for p in pkts:
        p["b"] = bytes.fromhex(p["hex"])
        p["h"] = header(p["b"])
    types = [p["h"]["type"] for p in pkts]
    ok("ptp: messages arrived", len(pkts) > 10, "%d" % len(pkts))
    if not pkts:
        return 1
    ok("ptp: the first message is an Announce", types[0] == ANNOUNCE, "type %d" % types[0])
    ok("ptp: an Announce before the first Sync",
       ANNOUNCE in types and SYNC in types and types.index(ANNOUNCE) < types.index(SYNC))
    ports = {(p["h"]["type"], p["sport"], p["port"]) for p in pkts}
    ok("ptp: Sync 319->319, Announce and Follow_Up 320->320",
       ports <= {(SYNC, 319, 319), (FOLLOW_UP, 320, 320), (ANNOUNCE, 320, 320)}, str(ports))
    ok("ptp: PTPv2, domain 0, messageLength = datagram length",
       all(p["h"]["version"] == 2 and p["h"]["domain"] == 0 and p["h"]["length"] == len(p["b"])
           for p in pkts))
    ok("ptp: clock identity is the EUI-64 of %s" % mac,
       all(p["h"]["clock_id"] == eui for p in pkts), pkts[0]["h"]["clock_id"] + " vs " + eui)
    ok("ptp: report's clock_id", rep["clock_id"] == eui, rep["clock_id"])
    ann = [p for p in pkts if p["h"]["type"] == ANNOUNCE]
    syncs = [p for p in pkts if p["h"]["type"] == SYNC]
    fus = [p for p in pkts if p["h"]["type"] == FOLLOW_UP]
    # 13.5 Announce body at offset 34
    good_ann = True
    for p in ann:
        b = p["b"]
        gm, steps, src = b[53:61].hex(), struct.unpack(">H", b[61:63])[0], b[63]
        good_ann &= len(b) >= 64 and gm == eui and steps == 0 and b[47] == 248 and \
            b[52] == 248 and b[48] == 248 and src in (0x40, 0xA0) and p["h"]["control"] == 5 \
            and p["h"]["log_interval"] == 0
    ok("ptp: Announce grandmaster = our identity, stepsRemoved 0, priorities 248, class 248",
       good_ann)
    ok("ptp: Sync two-step flag, controlField 0, Follow_Up controlField 2, logInterval -3",
       all(p["h"]["flags"] & 0x0200 and p["h"]["control"] == 0 and p["h"]["log_interval"] == -3
           for p in syncs) and
       all(p["h"]["control"] == 2 and p["h"]["log_interval"] == -3 for p in fus))
    # sequence ids: per message type, consecutive; each Sync's Follow_Up next, same seq
    def consecutive(ps):
        return all((b["h"]["seq"] - a["h"]["seq"]) & 0xFFFF == 1 for a, b in zip(ps, ps[1:]))
    ok("ptp: Announce and Sync sequence ids consecutive", consecutive(ann) and consecutive(syncs))
    pairs, bad = [], 0
    order = [p for p in pkts if p["h"]["type"] in (SYNC, FOLLOW_UP)]
    for a, b in zip(order, order[1:]):
        if a["h"]["type"] == SYNC:
            if b["h"]["type"] != FOLLOW_UP or b["h"]["seq"] != a["h"]["seq"]:
                bad += 1
            else:
                pairs.append((a, b))
    ok("ptp: every Sync followed by its Follow_Up (same sequence id)",
       bad == 0 and len(pairs) >= len(syncs) - 1 and len(fus) <= len(syncs),
       "%d bad, %d pairs of %d syncs" % (bad, len(pairs), len(syncs)))
    # the stamp: after the Sync's pre-send time (its originTimestamp), before the Sync arrived,
    # after the previous datagram arrived (which left before this Sync was sent)
    key = "rx_rt" if clock == "realtime" else "rx_mono"
    win, lat = 0, []
    idx = {id(p): i for i, p in enumerate(pkts)}
    for s, f in pairs:
        pot = timestamp(f["b"][34:44])
        est = timestamp(s["b"][34:44])
        prev = pkts[idx[id(s)] - 1][key] if idx[id(s)] > 0 else 0
        if s[key] is not None and prev < pot <= s[key] and est <= pot:
            win += 1
        lat.append(s[key] - pot)
    ok("ptp: preciseOriginTimestamp within the Sync's window (%s)" % key,
       pairs and win == len(pairs), "%d of %d" % (win, len(pairs)))
    if lat:
        lat.sort()
        print("INFO ptp: Sync arrival - preciseOriginTimestamp (%s): median %d ns, max %d ns"
              % (key, lat[len(lat) // 2], lat[-1]))
    span = (pkts[-1]["rx_mono"] - pkts[0]["rx_mono"]) / 1e9
    ok("ptp: about 1 Announce/s (%d in %.2f s)" % (len(ann), span),
       span - 1 <= len(ann) <= span + 2)
    ok("ptp: about 8 Syncs/s (%d in %.2f s)" % (len(syncs), span),
       8 * span - 3 <= len(syncs) <= 8 * span + 2)
    ok("ptp: report counts what arrived",
       rep["announces"] == len(ann) and rep["syncs"] == len(syncs) and
       rep["follow_ups"] == len(fus), json.dumps(rep))
    ok("ptp: every Follow_Up from a transmit stamp",
       rep["stamps_sw"] + rep["stamps_hw"] == rep["follow_ups"] and rep["stamps_missing"] == 0,
       json.dumps(rep))
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1] == "listen":
        listen(sys.argv[2])
    else:
        sys.exit(check(*sys.argv[2:6]))
