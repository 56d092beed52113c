#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Departure precision of a RAOP stream to a real receiver (shairport-sync in a private
# namespace): N seconds of noise, the send report's departure error (SND stamp - launch).
# usage: bench/raop_jitter.sh [SECONDS (20)] [extra send options]
set -u
cd "$(dirname "$0")/.."
SECS=${1:-20}
shift || true
. tests/integration/lib.sh
start_airplay BenchRx || exit 1
ffmpeg -v error -f lavfi -i "anoisesrc=d=$SECS:c=pink:r=44100:a=0.3:seed=3" -ac 2 -c:a pcm_s16le "$T/in.wav"
in_ap "$TXPACE" send --profile raop --quiet --report "$T/r.json" "$@" 127.0.0.1 "$T/in.wav" || exit 1
jq -r '"RAOP to shairport-sync, \(.packets) packets of 352 frames (\(.ptime_us) us): departure error (\(.departure_source) stamp - launch) p50 \(.departure_error_us.p50) us, p99 \(.departure_error_us.p99) us, p99.9 \(.departure_error_us.p999) us, max \(.departure_error_us.max) us; late \(.late), retransmits served \(.raop.retransmits_served)/\(.raop.retransmit_packets)"' "$T/r.json"
