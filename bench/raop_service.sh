#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# How long a RAOP sender takes to answer timing requests and resend requests while its RTSP
# keep-alives (every second) wait for their answers: tests/integration/raop_rx.py, a receiver
# written from the protocol, answers each keep-alive DELAY ms late and asks for timing and for a
# resend 50 times a second each, timing every reply by kernel receive stamps (round trip on
# loopback: the sender's delay plus a few tens of µs). TXPACE=... measures another build.
# usage: bench/raop_service.sh [SECONDS (10)] [DELAY_MS (300)] [extra send options]
set -u
cd "$(dirname "$0")/.."
SECS=${1:-10}
DELAY=${2:-300}
shift 2 || shift $#
. tests/integration/lib.sh
ip netns add "$AP_NS" && ip -n "$AP_NS" link set lo up || exit 1
ffmpeg -v error -f lavfi -i "anoisesrc=d=$SECS:c=pink:r=44100:a=0.3:seed=3" -ac 2 -c:a pcm_s16le "$T/in.wav"
ip netns exec "$AP_NS" python3 tests/integration/raop_rx.py 127.0.0.1 5000 --delay "$DELAY" \
	>"$T/rx.out" &
PIDS+=("$!")
wait_grep "$T/rx.out" listening || exit 1
ip netns exec "$AP_NS" "$TXPACE" send --profile raop --quiet --keepalive 1 --timeout 5000 \
	--report "$T/r.json" "$@" 127.0.0.1 "$T/in.wav" || exit 1
wait "${PIDS[-1]}"
tail -n 1 "$T/rx.out" | jq -r --arg d "$DELAY" --arg k "$(jq -r .raop.keepalives "$T/r.json")" '
def line(x): "p50 \(x.p50_ms) ms, p99 \(x.p99_ms) ms, max \(x.max_ms) ms (\(x.answered)/\(x.asked) answered)";
"keep-alives every 1 s (\($k) answered), each \($d) ms late:",
"  timing replies while a keep-alive was unanswered: \(line(.timing.outstanding))",
"  resends        while a keep-alive was unanswered: \(line(.resend.outstanding))",
"  timing replies, whole stream:                     \(line(.timing.all))",
"  resends,        whole stream:                     \(line(.resend.all))"'
