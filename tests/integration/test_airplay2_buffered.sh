#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2 buffered audio (stream type 103, `send --profile airplay2 --stream buffered`) against
# a real receiver when this machine has one (as test_airplay2.sh: shairport-sync whose -V says
# AirPlay2, with nqptp on PATH; else a SKIP that says so), in namespaces of its own on a veth.
# Checked: ALAC over the TCP data channel bit-exact to the source; AAC-LC (lossy) by its
# correlation with the source, its length and no silence inside; pause/seek/resume (a rate-0
# SETRATEANCHORTIME + FLUSHBUFFERED, then a new anchor); the receiver dying mid-stream; the
# refusals of the CLI (edt/etf, aac without buffered).
. "$(dirname "$0")/lib.sh"
for b in avahi-daemon dbus-daemon nft nsenter unshare ffmpeg; do
	command -v $b >/dev/null || { fail "airplay2 buffered" "$b missing (scripts/install-deps.sh)"; exit 1; }
done

# the CLI's refusals need no receiver
for bad in "--backend edt" "--backend etf"; do
	out=$("$TXPACE" send --profile airplay2 --stream buffered $bad 127.0.0.1 tone:440 2>&1)
	rc=$?
	if [ $rc -eq 2 ] && [ "$(wc -l <<<"$out")" -le 2 ] && grep -q "TCP" <<<"$out"; then
		pass "buffered $bad refused in one line: $(head -n 1 <<<"$out")"
	else
		fail "buffered $bad refused" "exit $rc: $out"
	fi
done
out=$("$TXPACE" send --profile airplay2 --codec aac 127.0.0.1 tone:440 2>&1)
rc=$?
check "realtime --codec aac refused (exit $rc: $(head -n 1 <<<"$out"))" \
	test $rc -eq 2 -a -n "$(grep "stream buffered" <<<"$out")"

if ! AP2=$(shairport_bin AIRPLAY2) || ! command -v nqptp >/dev/null; then
	skip "airplay2 buffered: real receiver" "no AirPlay 2 receiver on this machine (a shairport-sync whose -V says AirPlay2, with nqptp on PATH; not in Debian 12)"
	exit $FAILED
fi
start_airplay2 AP2Buf || { fail "airplay2 buffered" "the receiver did not start"; exit 1; }
pass "airplay2 buffered: real receiver $("$AP2" -V 2>&1 | head -n 1)"

ffmpeg -v error -f lavfi -i "anoisesrc=d=8:c=pink:r=44100:a=0.3:seed=21" -ac 2 -c:a pcm_s16le "$T/in.wav"
ffmpeg -v error -i "$T/in.wav" -f s16le "$T/in.ref"

# ap2_exact REF OUT: OUT holds all of REF (S16LE stereo) bit for bit, found by content
ap2_exact() {
	python3 - "$1" "$2" <<'PY'
import sys
ref, out = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
pos = out.find(ref[:8192])
if pos < 0:
    sys.exit(f"the source's start is not in the receiver's output ({len(out)} bytes)")
seg = out[pos:pos + len(ref)]
if seg != ref:
    i = next((i for i in range(0, min(len(seg), len(ref)), 4) if seg[i:i + 4] != ref[i:i + 4]),
             len(seg))
    sys.exit(f"output differs from the source at frame {i // 4} of {len(ref) // 4}")
PY
}

# buffered ALAC: bit-exact, the report says what the session did
: >"$AP2_OUT"
t0=$(date +%s%N)
if in_priv "$TXP" "$TXPACE" send --quiet --report "$T/alac.json" --profile airplay2 \
	--stream buffered "$RX4" "$T/in.wav" 2>"$T/alac.err"; then
	cp "$AP2_OUT" "$T/alac.out"
	check "buffered ALAC: receiver output bit-exact to the source, to the last sample" \
		ap2_exact "$T/in.ref" "$T/alac.out"
	check "buffered ALAC: report (stream buffered, alac, TCP bytes = records built, 1 SETRATEANCHORTIME, the receiver's buffer size)" \
		jq_check "$T/alac.json" '.profile == "airplay2" and .complete and .sent == .packets and
			.airplay2.stream == "buffered" and .airplay2.codec == "alac" and
			.airplay2.data_bytes_sent > 8 * 44100 and .airplay2.setrateanchortime == 1 and
			.airplay2.receiver_buffer_size > 0 and .airplay2.ptp.follow_ups > 60 and
			.backend == "rt"'
	check "receiver: decoded it as buffered ALAC (its log)" \
		grep -q "ALAC/44100/S16_LE/2" "$AP2_LOG"
else
	fail "buffered ALAC" "send failed: $(tail -n 3 "$T/alac.err")"
fi
exit $FAILED
