#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# "Would Buffered help?": AirPlay 2 realtime (UDP, resends from 2 s of history, --latency 2s)
# against buffered (TCP, type 103, --latency 4s by default), the same source to the same real
# receiver (shairport-sync 5 built with AirPlay 2 + nqptp, by hand; see TESTBED.md), interleaved
# in the same rounds. Each run injects a fault 5 s into the stream for D seconds: FAULT=net (the
# default) a network outage at the receiver (nft drops everything from the sender: audio, TCP,
# PTP, RTSP), FAULT=stop the sender stalled (SIGSTOP, then SIGCONT: a busy Pi). Per run: frames
# lost (source frames absent from the receiver's output, found by content 352 frames at a time:
# ALAC is bit-exact, so a frame is either there or lost, as silence or skipped), resends
# (realtime: the report's retransmits served; buffered: TCP segments retransmitted in the
# sender's namespace), start latency (the first audible output frame's arrival in the receiver's
# output file, from the send's start), txpace's CPU and RSS. Medians over the rounds; a run that
# failed to start (no report) is counted apart, not as a loss.
# usage: bench/airplay2_buffered.sh [ROUNDS (3)] [SECONDS (12)] [OUTAGES ("0 0.2 0.5 1 3")]
#   MODES="realtime buffered" (default); extra send options for buffered in BUFFERED_OPTS;
#   OUT_DIR=DIR keeps the outputs, ANALYSE=1 OUT_DIR=DIR only analyses them again
set -u
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
SECS=${2:-12}
OUTAGES=${3:-0 0.2 0.5 1 3}
MODES=${MODES:-realtime buffered}
. tests/integration/lib.sh
command -v nqptp >/dev/null && shairport_bin AIRPLAY2 >/dev/null ||
	{ echo "bench/airplay2_buffered.sh: needs an AirPlay 2 shairport-sync and nqptp (see TESTBED.md)" >&2; exit 1; }
FAULT=${FAULT:-net}
[ "${ANALYSE:-0}" = 1 ] || start_airplay2 BenchBuf || exit 1
ffmpeg -v error -f lavfi -i "anoisesrc=d=$SECS:c=pink:r=44100:a=0.3:seed=5" -ac 2 -c:a pcm_s16le "$T/in.wav"
ffmpeg -v error -i "$T/in.wav" -f s16le "$T/in.ref"
OUT=${OUT_DIR:-$T/out}	# (OUT_DIR=DIR keeps the reports)
mkdir -p "$OUT"

retrans() { in_priv "$TXP" awk '/^Tcp:/ { if (h) { for (i = 1; i <= NF; i++) if (n[i] == "RetransSegs") print $i } else { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 } }' /proc/net/snmp; }

# watch OUT FILE: the wall time (ns) the first audible sample reaches FILE, written to OUT
watch_first() {
	python3 - "$1" "$2" <<'PY' &
import os, struct, sys, time
out, path = sys.argv[1], sys.argv[2]
pos, end = 0, time.time() + 60
while time.time() < end:
    size = os.path.getsize(path)
    if size > pos:
        with open(path, 'rb') as f:
            f.seek(pos)
            b = f.read((size - pos) // 2 * 2)
        if any(abs(v) > 256 for v in struct.unpack('<%dh' % (len(b) // 2), b)):
            open(out, 'w').write(str(time.time_ns()))
            break
        pos += len(b)
    time.sleep(0.005)
PY
	WATCH=$!
	PIDS+=("$WATCH")
}

run() {	# run MODE D ROUND
	local m=$1 d=$2 r=$3 tag="$1.$2.$3" opts t0 s0 s1 rc
	opts=$([ "$m" = buffered ] && echo "--stream buffered ${BUFFERED_OPTS:-}")
	: >"$AP2_OUT"
	watch_first "$OUT/$tag.first" "$AP2_OUT"
	s0=$(retrans)
	t0=$(date +%s%N)
	# shellcheck disable=SC2086
	nsenter -F -t "$TXP" -m -n "$TXPACE" send --profile airplay2 $opts --quiet \
		--report "$OUT/$tag.json" "$RX4" "$T/in.wav" 2>"$OUT/$tag.err" &
	local sp=$!	# (nsenter -F execs txpace: this is its PID)
	if [ "$d" != 0 ]; then
		sleep 5	# (the fault's time, not a synchronisation)
		if [ "$FAULT" = stop ]; then
			kill -STOP "$sp"
			sleep "$d"
			kill -CONT "$sp"
		else
			in_priv "$RXP" nft add table inet benchout
			in_priv "$RXP" nft add chain inet benchout in '{ type filter hook input priority 0; }'
			in_priv "$RXP" nft add rule inet benchout in ip saddr "$TX4" drop
			sleep "$d"
			in_priv "$RXP" nft delete table inet benchout
		fi
	fi
	wait "$sp"
	rc=$?
	s1=$(retrans)
	wait "$WATCH" 2>/dev/null
	cp "$AP2_OUT" "$OUT/$tag.out"
	echo "$t0 $((s1 - s0)) $rc" >"$OUT/$tag.meta"
}

for r in $(seq 1 "$ROUNDS"); do
	[ "${ANALYSE:-0}" = 1 ] && break
	for d in $OUTAGES; do
		for m in $MODES; do
			run "$m" "$d" "$r"
		done
	done
done
echo "fault: $FAULT for D s, 5 s into a ${SECS} s stream"

python3 - "$OUT" "$ROUNDS" "$OUTAGES" "$MODES" "$T/in.ref" <<'PY'
import json, os, statistics, sys
out, rounds, outages, modes, refp = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split(), sys.argv[5]
ref = open(refp, 'rb').read()
F, R = 4, 44100
med = statistics.median
failed = []

B = 352 * F

def lost_frames(o):
    """Source frames absent from the output, by content, a block of 352 frames at a time."""
    covered = bytearray(len(ref) // F)
    i, exp = 0, -1
    while i + B <= len(o):
        blk = o[i:i + B]
        at = exp if 0 <= exp and ref[exp:exp + B] == blk else -1
        if at < 0 and max(blk) > 1 and min(blk) < 255:      # not digital silence: look for it
            at = ref.find(blk)
        if at >= 0 and at % F == 0:
            covered[at // F:at // F + 352] = b"\1" * 352
            i, exp = i + B, at + B
        else:
            step = B if not any(blk[k:k + 2] not in (b"\0\0", b"\1\0", b"\xff\xff")
                                for k in range(0, B, 2)) else F
            i, exp = i + step, -1
    # the tail of the source may be a part block: count it by its frames from the end
    tail = len(ref) % B
    if tail and o.find(ref[-tail:]) >= 0:
        covered[-(tail // F):] = b"\1" * (tail // F)
    return len(covered) - sum(covered)

print(f"{'mode':9} {'outage':>6} {'lost frames':>11} {'lost ms':>8} {'resends':>8} {'start s':>8} "
      f"{'CPU %':>6} {'RSS MB':>7} {'exit 0':>6}   (medians of {rounds} rounds)")
for d in outages:
    for m in modes:
        v = []
        for r in range(1, rounds + 1):
            tag = f"{out}/{m}.{d}.{r}"
            t0, tcp, rc = open(tag + ".meta").read().split()
            o = open(tag + ".out", 'rb').read()
            try:
                j = json.load(open(tag + ".json"))
            except (OSError, ValueError):
                failed.append(f"{m} D={d} round {r}: " + open(tag + ".err").read().strip()[-160:])
                continue
            a = j.get("airplay2", {})
            c = j.get("cost", {})
            secs = max(1e-9, j.get("packets", 1) * (1024 if a.get("codec") == "aac" else 352) / R)
            res = a.get("retransmits_served", 0) if m == "realtime" else int(tcp)
            first = (int(open(tag + ".first").read()) - int(t0)) / 1e9 if os.path.exists(tag + ".first") else float("nan")
            v.append((lost_frames(o), res, first, 100 * c.get("process_cpu_ms", 0) / 1000 / secs,
                      c.get("rss_kib", 0) / 1024, rc == "0"))
        if not v:
            continue
        lf = med([x[0] for x in v])
        print(f"{m:9} {d:>6} {lf:11.0f} {1000 * lf / R:8.0f} {med([x[1] for x in v]):8.0f} "
              f"{med([x[2] for x in v]):8.2f} {med([x[3] for x in v]):6.2f} {med([x[4] for x in v]):7.1f} "
              f"{sum(x[5] for x in v):>4}/{len(v)}")
        print(f"{'':9} {'':>6} per round: lost " + ", ".join(str(x[0]) for x in v) +
              "; resends " + ", ".join(str(x[1]) for x in v))
for f in failed:
    print("failed to run (not counted): " + f)
PY
