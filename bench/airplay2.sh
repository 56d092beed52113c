#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2 against AirPlay 1, interleaved in the same rounds over the same veth, each to a real
# receiver (shairport-sync 5 built with AirPlay 2 + nqptp, by hand; Debian's 3.3.8 for RAOP):
# departure error at the sender (SND stamp - launch) p50/p99/p99.9, the process's CPU, wake-ups
# and RSS from each report; the AirPlay 2 / RAOP p99 ratio per round and its median. With
# CALLGRIND=1 also instructions per packet inside each profile's packetize (ALAC + ChaCha20-
# Poly1305 + packetize vs ALAC + AES + packetize) and for the whole run.
# usage: bench/airplay2.sh [SECONDS_PER_RUN (10)] [ROUNDS (3)] [extra send options]
#   PROFILES="airplay2" bench/airplay2.sh 600 1: the 10-minute stream alone (its max and late)
#   WITNESS=1: cyclictest (rt-tests) beside the runs, a SCHED_FIFO 79 thread on each CPU waking
#   every 1 ms: its worst wake-up per CPU and how often it was over 5 ms, i.e. what the machine
#   (a VM's host) did to any real-time thread, against the sender's own lateness (extra options
#   go to send, e.g. --cpu 1 to put the pacer on one CPU)
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10}
ROUNDS=${2:-3}
shift 2 2>/dev/null || shift $#
. tests/integration/lib.sh
command -v nqptp >/dev/null && shairport_bin AIRPLAY2 >/dev/null ||
	{ echo "bench/airplay2.sh: needs an AirPlay 2 shairport-sync and nqptp (see TESTBED.md)" >&2; exit 1; }
start_airplay2 BenchAP2 && start_airplay1_beside BenchAP1 || exit 1
ffmpeg -v error -f lavfi -i "anoisesrc=d=$SECS:c=pink:r=44100:a=0.3:seed=3" -ac 2 -c:a pcm_s16le "$T/in.wav"
OUT=${OUT_DIR:-$T/out}	# (OUT_DIR=DIR keeps the reports)
mkdir -p "$OUT"
if [ "${WITNESS:-0}" = 1 ]; then
	command -v cyclictest >/dev/null || { echo "bench/airplay2.sh: WITNESS=1 needs cyclictest (rt-tests)" >&2; exit 1; }
	nprof=$(wc -w <<<"${PROFILES:-raop airplay2}")
	cyclictest -m -S -p 79 -i 1000 -D $((SECS * ROUNDS * nprof + 30)) -q -h 100000 \
		--histfile="$OUT/witness.hist" >/dev/null 2>&1 &
	WPID=$!
	PIDS+=("$WPID")
fi
PROFILES=${PROFILES:-raop airplay2}
for r in $(seq 1 "$ROUNDS"); do
	for p in $PROFILES; do
		port=$([ $p = raop ] && echo 5000 || echo 7000)
		in_priv "$TXP" "$TXPACE" send --profile $p --quiet --report "$OUT/$p.$r.json" "$@" \
			"$RX4:$port" "$T/in.wav" 2>"$OUT/$p.$r.err" ||
			{ echo "round $r $p failed: $(tail -n 2 "$OUT/$p.$r.err")" >&2; exit 1; }
	done
done
if [ "${CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null; then
	for p in $PROFILES; do
		port=$([ $p = raop ] && echo 5000 || echo 7000)
		fn=$([ $p = raop ] && echo raop_packetize || echo ap2_packetize)
		in_priv "$TXP" valgrind --tool=callgrind --callgrind-out-file="$OUT/cg.$p" \
			--toggle-collect="$fn" "$TXPACE" send --profile $p --quiet --backend sleep \
			--seconds 2 "$RX4:$port" "$T/in.wav" >/dev/null 2>"$OUT/cg.$p.txt"
		in_priv "$TXP" valgrind --tool=callgrind --callgrind-out-file=/dev/null "$TXPACE" send \
			--profile $p --quiet --backend sleep --seconds 2 "$RX4:$port" "$T/in.wav" \
			>/dev/null 2>"$OUT/cgall.$p.txt"
	done
fi
if [ -n "${WPID:-}" ]; then
	kill -INT "$WPID" 2>/dev/null
	wait "$WPID" 2>/dev/null
fi
python3 - "$OUT" "$ROUNDS" "$PROFILES" <<'PY'
import json, os, re, statistics, sys
out, rounds, profiles = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
med = statistics.median
rows, ratios, maxes = {}, [], {}
for r in range(1, rounds + 1):
    got = {}
    for p in profiles:
        j = json.load(open(f"{out}/{p}.{r}.json"))
        d, c = j["departure_error_us"], j.get("cost", {})
        secs = j["packets"] * 352 / 44100
        rows.setdefault(p, []).append((d["p50"], d["p99"], d["p999"],
            100 * c.get("process_cpu_ms", 0) / 1000 / secs, c.get("wakeups_per_s", 0),
            c.get("rss_kib", 0) / 1024, j["late"]))
        got[p] = d["p99"]
        maxes.setdefault(p, []).append((d["max"], j["late"], j["packets"]))
    if len(got) == 2:
        ratios.append(got["airplay2"] / got["raop"] if got["raop"] else float("nan"))
print(f"{'':10} {'p50 us':>8} {'p99 us':>8} {'p99.9 us':>9} {'CPU %':>6} {'wake/s':>7} {'RSS MB':>7} {'late':>5}   (medians of {rounds} rounds)")
for p, v in rows.items():
    print(f"{p:10} " + " ".join(f"{med([x[i] for x in v]):{w}.{pr}f}" for i, (w, pr) in
          enumerate([(8, 1), (8, 1), (9, 1), (6, 2), (7, 0), (7, 1), (5, 0)])))
for p, v in maxes.items():
    print(f"{p}: max departure error per round (us): " + ", ".join(f"{m:.0f} ({l} late of {n})" for m, l, n in v))
if ratios:
    print("airplay2 / raop p99 per round: " + ", ".join(f"{x:.2f}" for x in ratios) + f"; median {med(ratios):.2f}")
wh = f"{out}/witness.hist"
if os.path.exists(wh):
    over, mx = {}, []
    for line in open(wh):
        if line.startswith("# Max Latencies:"):
            mx = [int(x) for x in line.split(":")[1].split()]
        elif not line.startswith("#") and line.strip():
            f = [int(x) for x in line.split()]
            for cpu, n in enumerate(f[1:]):
                if f[0] > 5000:
                    over[cpu] = over.get(cpu, 0) + n
    print("witness (cyclictest, SCHED_FIFO 79 on each CPU, 1 ms): worst wake-up per CPU (us): " +
          ", ".join(f"CPU {i} {m}{'+' if m >= 100000 else ''}" for i, m in enumerate(mx)) +
          "; wake-ups over 5 ms: " + ", ".join(f"CPU {i} {over.get(i, 0)}" for i in range(len(mx))))
    for p in profiles:
        for r in range(1, rounds + 1):
            w = json.load(open(f"{out}/{p}.{r}.json"))["machine"]["wake_late_us"]
            print(f"{p} round {r}: the pacer's own worst wake-up {w['max']:.0f} us (p99.9 {w['p999']:.0f})")
for p in profiles:
    fn, fa = f"{out}/cg.{p}.txt", f"{out}/cgall.{p}.txt"
    if os.path.exists(fn):
        m, a = re.search(r"Collected : (\d+)", open(fn).read()), re.search(r"Collected : (\d+)", open(fa).read())
        n = 2 * 44100 // 352
        if m and a:
            print(f"callgrind {p}: packetize {int(m.group(1)) / n:.0f} instructions per packet; whole run {int(a.group(1)) / n:.0f} per packet (2 s, {n} packets, start-up and pairing included)")
PY
