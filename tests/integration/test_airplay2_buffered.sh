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
			.airplay2.data_send_buffer >= 1048576 and .airplay2.data_tcp_retransmits == 0 and
			.backend == "rt"'
	check "receiver: decoded it as buffered ALAC (its log)" \
		grep -q "ALAC/44100/S16_LE/2" "$AP2_LOG"
else
	fail "buffered ALAC" "send failed: $(tail -n 3 "$T/alac.err")"
fi
# buffered AAC-LC: lossy, so what can fail honestly: a tone of 441 Hz for 3 s then 882 Hz for 3 s;
# the output's sounding part lasts the source's 6 s, holds no silence, and each 50 ms of it has
# the source's frequency (zero crossings) at that offset and its level
ffmpeg -v error -f lavfi -i "aevalsrc=0.5*sin(2*PI*if(lt(t\,3)\,441\,882)*t):s=44100:d=6" -ac 2 \
	-c:a pcm_s16le "$T/tone.wav"
ffmpeg -v error -i "$T/tone.wav" -f s16le "$T/tone.ref"
# aac_check OUT REF
aac_check() {
	python3 - "$1" "$2" <<'PY'
import math, struct, sys
def left_of(path):
    raw = open(path, 'rb').read()
    return struct.unpack('<%dh' % (len(raw) // 4 * 2), raw[:len(raw) // 4 * 4])[0::2]
left, src = left_of(sys.argv[1]), left_of(sys.argv[2])
R, B = 44100, 2205                      # 50 ms blocks
rms = [math.sqrt(sum(x * x for x in left[i:i + B]) / B) for i in range(0, len(left) - B + 1, B)]
loud = [i for i, r in enumerate(rms) if r > 1000]
if not loud:
    sys.exit("no sound in the output")
first, last = loud[0], loud[-1]
dur = (last - first + 1) * B / R
want = math.sqrt(sum(x * x for x in src) / len(src))
bad = []
for n, i in enumerate(range(first + 1, last)):   # the edges are partial blocks
    blk = left[i * B:(i + 1) * B]
    z = sum(1 for a, b in zip(blk, blk[1:]) if (a < 0) != (b < 0))
    f = z * R / (2 * B)
    t = (i - first) * B / R
    expect = 441 if t < 2.95 else 882 if t > 3.05 else None
    if rms[i] < want * 0.85 or rms[i] > want * 1.15:
        bad.append(f"level {rms[i]:.0f} at {t:.2f} s")
    if expect and abs(f - expect) > 25:
        bad.append(f"{f:.0f} Hz at {t:.2f} s (source {expect})")
print(f"{dur:.2f} s of sound, level {sum(rms[first + 1:last]) / max(1, last - first - 1):.0f} "
      f"(source {want:.0f}), {len(bad)} bad blocks")
if abs(dur - 6.0) > 0.1 or bad:
    sys.exit("; ".join(bad[:5]) or f"{dur:.2f} s of sound, the source has 6.00")
PY
}
: >"$AP2_OUT"
# (--to NAME: airplay2 chosen from mDNS, then made buffered)
if in_priv "$TXP" "$TXPACE" send --quiet --report "$T/aac.json" --to AP2Buf \
	--stream buffered --codec aac "$T/tone.wav" 2>"$T/aac.err"; then
	cp "$AP2_OUT" "$T/aac.out"
	if aac_check "$T/aac.out" "$T/tone.ref" >"$T/aac.txt" 2>&1; then
		pass "buffered AAC-LC: $(tail -n 1 "$T/aac.txt")"
	else
		fail "buffered AAC-LC" "$(tail -n 2 "$T/aac.txt" | tr '\n' ' ')"
	fi
	check "buffered AAC-LC: report (--to chose airplay2, codec aac, 1024-frame packets, AAC-sized payloads)" \
		jq_check "$T/aac.json" '.complete and .profile == "airplay2" and
			.airplay2.stream == "buffered" and .airplay2.codec == "aac" and
			.packets == (6 * 44100 / 1024 | ceil) + 4 and
			.airplay2.payload_bytes_per_packet < 1536 and .airplay2.payload_bytes_per_packet > 200'
	check "receiver: decoded it as AAC (its log)" grep -q "AAC/44100/F24/2" "$AP2_LOG"
else
	fail "buffered AAC-LC" "send failed: $(tail -n 3 "$T/aac.err")"
fi

# pause, seek and resume from the keyboard: a rate-0 SETRATEANCHORTIME and FLUSHBUFFERED, then a
# new anchor; the output plays, stops, and plays on 10 s + what was sent ahead further on
ffmpeg -v error -f lavfi -i "anoisesrc=d=24:c=pink:r=44100:a=0.3:seed=23" -ac 2 -c:a pcm_s16le "$T/in24.wav"
ffmpeg -v error -i "$T/in24.wav" -f s16le "$T/in24.ref"
: >"$AP2_OUT"
if python3 "$(dirname "$0")/raop_keys.py" "nsenter:$TXP" "$TXPACE" "$T/in24.wav" "$AP2_OUT" \
	"$T/keys.json" airplay2 "$RX4" --stream buffered --latency 3s >"$T/keys.log" 2>&1; then
	check "pause/seek/resume: FLUSHBUFFERED answered, 3 SETRATEANCHORTIME (start, rate 0, resume)" \
		jq_check "$T/keys.json" '.airplay2.flushes == 1 and .complete and .sent == .packets and
			.airplay2.setrateanchortime == 3 and .packets < 3006 - 800'
	# (a rate-0 anchor stops the receiver's player: its stdout backend writes no silence then)
	if airplay_seek "$T/in24.ref" "$AP2_OUT" 0 >"$T/seek.txt" 2>&1; then
		pass "pause/seek/resume: $(cat "$T/seek.txt")"
	else
		fail "pause/seek/resume" "$(cat "$T/seek.txt")"
	fi
else
	fail "pause/seek/resume" "$(tail -c 400 "$T/keys.log")"
fi

# the receiver dies mid-stream: one clear line, exit 1
ap2_kill_midstream --profile airplay2 --stream buffered -v "$RX4" "$T/in.wav"
rc=$DIE_RC
if [ $rc -eq 1 ] && [ "$(wc -l <"$T/die.err")" -eq 1 ] && grep -q "closed the RTSP connection\|the audio data connection" "$T/die.err"; then
	pass "receiver dies mid-stream: $(cat "$T/die.err")"
else
	fail "receiver dies mid-stream" "exit $rc: $(cat "$T/die.err")"
fi
exit $FAILED
