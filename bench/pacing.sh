#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Departure-precision benchmark. Every sender sends 1 ms L24 stereo RTP over a veth pair between
# two private network namespaces; txpace measure in the receiving namespace takes kernel RX
# stamps (on veth they are taken inside the sender's sendmsg, so they measure departure).
# Runs are interleaved (A B C ... A B C ...) because this VM's tails come and go within
# minutes; ratios are taken within a round, then the median over rounds is reported.
#
# usage: bench/pacing.sh [SECONDS_PER_RUN (20)] [ROUNDS (2)]
#   ROWS="rt rt0 abs gst rel cyclictest" selects and orders the rows; SPIN_US sets rt's spin.
#   AES67 rows: aes67 (1 ms), aes67_125 (125 us), gst125 (GStreamer at 125 us); e.g.
#   ROWS="aes67 gst aes67_125 gst125" bench/pacing.sh 20 3
set -u
cd "$(dirname "$0")/.."
SECS=${1:-20}
ROUNDS=${2:-2}
ROWS=${ROWS:-"cyclictest rt rt0 abs gst rel"}
N=$((SECS * 1000))
TXPACE=$PWD/build/txpace
PLAIN=$PWD/build/bench/plain_sender
OUT=$PWD/build/bench/$(date +%Y%m%d-%H%M%S)
NS_TX="txpb$$tx" NS_RX="txpb$$rx"
RX=192.168.67.2
mkdir -p "$OUT"
for b in "$TXPACE" "$PLAIN"; do
	[ -x "$b" ] || { echo "bench: build first (make)" >&2; exit 1; }
done
command -v cyclictest >/dev/null || { echo "bench: cyclictest missing (scripts/install-deps.sh)" >&2; exit 1; }

M=""
cleanup() {
	[ -n "$M" ] && kill "$M" 2>/dev/null
	ip netns del "$NS_TX" 2>/dev/null
	ip netns del "$NS_RX" 2>/dev/null
}
trap cleanup EXIT
ip netns add "$NS_TX" && ip netns add "$NS_RX" || exit 1
ip link add "b$$t" type veth peer name "b$$r"
ip link set "b$$t" netns "$NS_TX" && ip link set "b$$r" netns "$NS_RX"
ip -n "$NS_TX" addr add 192.168.67.1/24 dev "b$$t" && ip -n "$NS_RX" addr add $RX/24 dev "b$$r"
for ns in "$NS_TX" "$NS_RX"; do ip -n "$ns" link set lo up; done
ip -n "$NS_TX" link set "b$$t" up && ip -n "$NS_RX" link set "b$$r" up

label() {
	case $1 in
	cyclictest) echo "cyclictest -p80 wake-up latency (floor)" ;;
	rt) echo "txpace rt, spin ${SPIN_US:-200} us" ;;
	rt0) echo "txpace rt, no spin" ;;
	rtpin) echo "txpace rt, spin ${SPIN_US:-200} us, pinned to CPU 1" ;;
	abs) echo "plain abs clock_nanosleep + SCHED_FIFO 80" ;;
	gst) echo "GStreamer udpsink sync=true" ;;
	rel) echo "plain relative usleep(1000)" ;;
	aes67) echo "txpace aes67, 1 ms" ;;
	aes67_125) echo "txpace aes67, 125 us" ;;
	gst125) echo "GStreamer udpsink sync=true, 125 us" ;;
	esac
}

sender() {
	case $1 in
	rt) ip netns exec "$NS_TX" "$TXPACE" send --quiet --seconds "$SECS" ${SPIN_US:+--spin $SPIN_US} \
		$RX:5004 tone:1000 ;;
	rt0) ip netns exec "$NS_TX" "$TXPACE" send --quiet --seconds "$SECS" --spin 0 $RX:5004 tone:1000 ;;
	rtpin) ip netns exec "$NS_TX" "$TXPACE" send --quiet --seconds "$SECS" --cpu 1 \
		${SPIN_US:+--spin $SPIN_US} $RX:5004 tone:1000 ;;
	abs) ip netns exec "$NS_TX" "$PLAIN" abs $RX 5004 "$N" 80 ;;
	rel) ip netns exec "$NS_TX" "$PLAIN" rel $RX 5004 "$N" ;;
	gst) ip netns exec "$NS_TX" gst-launch-1.0 -q audiotestsrc is-live=true num-buffers="$N" \
		samplesperbuffer=48 ! audio/x-raw,format=S24BE,rate=48000,channels=2 \
		! rtpL24pay min-ptime=1000000 max-ptime=1000000 ! udpsink host=$RX port=5004 sync=true ;;
	gst125) ip netns exec "$NS_TX" gst-launch-1.0 -q audiotestsrc is-live=true \
		num-buffers=$((N * 8)) samplesperbuffer=6 ! audio/x-raw,format=S24BE,rate=48000,channels=2 \
		! rtpL24pay min-ptime=125000 max-ptime=125000 ! udpsink host=$RX port=5004 sync=true ;;
	aes67) ip netns exec "$NS_TX" "$TXPACE" send --profile aes67 --quiet --seconds "$SECS" \
		--sap-interval 0 ${SPIN_US:+--spin $SPIN_US} $RX:5004 tone:1000 ;;
	aes67_125) ip netns exec "$NS_TX" "$TXPACE" send --profile aes67 --quiet --seconds "$SECS" \
		--ptime 125us --sap-interval 0 ${SPIN_US:+--spin $SPIN_US} $RX:5004 tone:1000 ;;
	esac
}

run() { # ROW ROUND
	local f="$OUT/$1.$2.json"
	if [ "$1" = cyclictest ]; then
		cyclictest -m -p80 -i1000 -l "$N" -q -t1 -h 20000 >"$OUT/$1.$2.hist" 2>&1
		return
	fi
	ip netns exec "$NS_RX" "$TXPACE" measure --json --listen 0.0.0.0:5004 >"$f" &
	M=$!
	local i
	for i in $(seq 1 200); do
		ip netns exec "$NS_RX" ss -Hlun "sport = :5004" | grep -q . && break
		sleep 0.05
	done
	sender "$1" >"$OUT/$1.$2.log" 2>&1 || echo "bench: $1 failed (see $OUT/$1.$2.log)" >&2
	kill -INT "$M"
	wait "$M"
	M=""
}

echo "bench: $ROUNDS rounds of [$ROWS], $SECS s each; raw results in $OUT" >&2
for r in $(seq 1 "$ROUNDS"); do
	for row in $ROWS; do
		echo "  round $r: $(label "$row")" >&2
		run "$row" "$r"
	done
done
for row in $ROWS; do echo "$row|$(label "$row")"; done >"$OUT/labels"
python3 bench/report.py "$OUT" $ROUNDS
