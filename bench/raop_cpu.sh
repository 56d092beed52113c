#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# CPU per RAOP packet (ALAC encode + AES), as instructions (callgrind: repeatable on a shared
# machine) and time: the difference between a 2000- and a 1000-packet run, minus the same
# difference for signal generation alone.
set -eu
cd "$(dirname "$0")/.."
B=build/bench/alac_bench
[ -x $B ] || { echo "build first (make)" >&2; exit 1; }
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null $B "$@" 2>&1 | awk '/Collected/{print $4}'; }
per() { echo $(( ($(count "$1" "$2" 2000) - $(count "$1" "$2" 1000)) / 1000 )); }
base=$(per none plain)
echo "| mode | instructions per packet | bytes per packet | time per packet |"
echo "|---|---|---|---|"
for m in "compressed plain" "compressed aes" "escape plain" "escape aes"; do
	set -- $m
	line=$($B "$1" "$2" 4000)
	echo "| $1$([ "$2" = aes ] && echo +aes) | $(( $(per "$1" "$2") - base )) | $(sed -E 's/.* ([0-9.]+) bytes per packet.*/\1/' <<<"$line") | $(sed -E 's/.*per packet (p50 .*)/\1/' <<<"$line") |"
done
