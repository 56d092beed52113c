#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2 realtime audio: txpace --profile airplay2 against a real receiver when this machine
# has one (shairport-sync built with AirPlay 2, its -V says "AirPlay2", and nqptp on PATH; not
# in Debian, so otherwise a SKIP that says so), each in its own network namespace on a veth (the
# PTP master and nqptp both want UDP 319/320), each with a private system bus and avahi-daemon.
# Checked: discovery (list, --to choosing airplay2), transient pairing, encrypted RTSP, the PTP
# master and anchors, output bit-exact to the source (compressed and escape ALAC), 1 % of the
# audio dropped at the receiver and healed by resends, volume, the receiver dying mid-stream,
# the event connection (the receiver's updateInfo request decrypted and answered, our answer
# decrypted by the receiver: its log at -vvv).
. "$(dirname "$0")/lib.sh"
for b in avahi-daemon dbus-daemon nft nsenter unshare ffmpeg; do
	command -v $b >/dev/null || { fail "airplay2" "$b missing (scripts/install-deps.sh)"; exit 1; }
done
if ! AP2=$(shairport_bin AIRPLAY2) || ! command -v nqptp >/dev/null; then
	skip "airplay2: real receiver" "no AirPlay 2 receiver on this machine (a shairport-sync whose -V says AirPlay2, with nqptp on PATH; not in Debian 12)"
	exit 0
fi
# -vvv: its log shows what it read on the event connection
AP2_VERBOSE=-vvv start_airplay2 AP2Rx || { fail "airplay2" "the receiver did not start"; exit 1; }
VERSION=$("$AP2" -V 2>&1 | head -n 1)
pass "airplay2: real receiver $VERSION, nqptp $(nqptp -V 2>&1 | head -n 1)"

ffmpeg -v error -f lavfi -i "anoisesrc=d=8:c=pink:r=44100:a=0.3:seed=11" -ac 2 -c:a pcm_s16le "$T/in.wav"
ffmpeg -v error -i "$T/in.wav" -f s16le "$T/in.ref"
ffmpeg -v error -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=3" -ac 2 \
	-c:a libmp3lame -b:a 192k "$T/in.mp3"
ffmpeg -v error -i "$T/in.mp3" -ar 44100 -ac 2 -f s16le "$T/mp3.ref"

# session NAME REF [send options...]: play to the receiver, its output kept as $T/NAME.out
session() {
	local name=$1 ref=$2
	shift 2
	: >"$AP2_OUT"
	if in_priv "$TXP" "$TXPACE" send --quiet --report "$T/$name.json" "$@" 2>"$T/$name.err"; then
		cp "$AP2_OUT" "$T/$name.out"
		check "$name: receiver output bit-exact to the source, to the last sample" \
			ap2_exact "$ref" "$T/$name.out"
	else
		fail "$name" "send failed: $(tail -n 3 "$T/$name.err")"
	fi
}

# discovery: the receiver advertises _airplay._tcp (and _raop._tcp); list decodes it
in_priv "$TXP" "$TXPACE" list --json --timeout 5000 >"$T/list.json" 2>"$T/list.err"
check "list: AP2Rx is AirPlay 2 with PTP and transient pairing, --to would use airplay2" \
	jq_check "$T/list.json" 'any(.[]; .name == "AP2Rx" and .airplay2 and .ptp and .transient_pairing and
		.profile == "airplay2" and (.deviceid | test("^([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")) and
		(.pk | length) == 64 and .airplay2_address == "'$RX4':7000")'

# --to NAME without --profile: airplay2 chosen, transient pairing, bit-exact
session to_name "$T/in.ref" --to AP2Rx "$T/in.wav"
check "to_name: profile airplay2, transient pairing, PTP master ran, anchors every second" \
	jq_check "$T/to_name.json" '.profile == "airplay2" and .complete and .sent == .packets and
		.airplay2.pairing == "transient" and .airplay2.anchors >= 8 and
		.airplay2.ptp.announces >= 8 and .airplay2.ptp.follow_ups >= 60 and
		.airplay2.ptp.follow_ups == .airplay2.ptp.syncs and .airplay2.ptp.stamps_missing == 0 and
		.airplay2.rtsp_frames_received > 0 and .airplay2.retransmits_missed == 0'
check "receiver: took our clock as its PTP master (nqptp/shairport-sync log)" \
	grep -q "set_ptp_anchor_info" "$AP2_LOG"
check "events: txpace connected to the receiver's eventPort, decrypted its updateInfo (Events keys) and answered" \
	jq_check "$T/to_name.json" '.airplay2.events.connected and .airplay2.events.requests >= 1 and
		.airplay2.events.answered == .airplay2.events.requests and
		.airplay2.events.last == "POST /command updateInfo" and .airplay2.events.ended == ""'
check "events: the receiver accepted the connection and decrypted our answer (its log: RTSP/1.0 200 OK)" \
	bash -c "grep -q 'ap2_event_receiver accepted a connection' '$AP2_LOG' &&
		grep -A 3 'Packet Received on Event Port' '$AP2_LOG' | grep -q 'RTSP/1.0 200 OK'"

# PIN pairing with the real receiver (its PIN is 3939 unless configured): txpace pair keeps its
# key; the next stream pair-verifies with it (the receiver's log: pair-verify M1 and M3), and
# since shairport-sync 5.2.1 does not encrypt after pair-verify, falls back to transient
mkdir -m 700 "$T/pairs"
in_priv "$TXP" "$TXPACE" pair --pin 3939 --pair-dir "$T/pairs" AP2Rx >"$T/pair.out" 2>"$T/pair.err"
check "pair: txpace pair --pin 3939 AP2Rx: pair-setup M1-M6 with the real receiver, its key kept" \
	grep -q "paired with" "$T/pair.out"
: >"$AP2_LOG"
session paired "$T/in.ref" --pair-dir "$T/pairs" --profile airplay2 "$RX4" "$T/in.wav"
check "paired: pair-verify with the kept key held (the receiver's log), then transient: it does not encrypt after it" \
	jq_check "$T/paired.json" '.airplay2.pairing == "transient" and .airplay2.pair_verify_fell_back and .complete'
check "paired: the receiver verified us (pair-verify M1 and M3 in its log)" \
	grep -q "handle_pair_verify, stage M3" "$AP2_LOG"
# (the probe's frame begins with a '\n' in its length: read as a bad line at once, answered in
# the clear; without it the receiver waited for a line end whenever the ciphertext had none)
check "paired: the receiver took our encrypted probe for a bad line at once and answered (its log)" \
	grep -q "can't find an RTSP header" "$AP2_LOG"

session mp3_escape "$T/mp3.ref" --profile airplay2 --alac escape --volume -12 "$RX4" "$T/in.mp3"
check "mp3_escape: escape ALAC frames (uncompressed size)" \
	jq_check "$T/mp3_escape.json" '.complete and .airplay2.payload_bytes_per_packet > 1400'
vols=$(ap2_volumes | tr '\n' ' ')
check "mp3_escape: the receiver took the volume (-12 dB) through the encrypted RTSP (its volumes: $vols)" \
	grep -qw -- "-12.00" <<<"$vols"

# 1 % of the audio packets (and of the resends) dropped at the receiver, and always the source's
# last two packets (k = 1001, 1002 of the 8 s: counted among the audio packets, RTP byte 1 0x60,
# from 0 at k = 1; the first, k = 0, carries the marker, 0xE0): healed by resends, still
# bit-exact. The first 10 packets are left alone: a receiver cannot know a stream's first packet
# was lost, so it never asks for it.
in_priv "$RXP" nft -f - <<'NFT'
table inet txpdrop {
	chain last { counter drop; }
	chain input { type filter hook input priority 0;
		ip saddr 192.168.67.1 udp dport != { 319, 320 } @th,72,8 0x60 numgen inc mod 1000000 vmap { 0-9 : accept, 1000-1001 : jump last };
		ip saddr 192.168.67.1 udp dport != { 319, 320 } @th,72,8 != 0xe0 meta length > 400 numgen random mod 100 < 1 counter drop; }
}
NFT
session loss "$T/in.ref" --profile airplay2 "$RX4" "$T/in.wav"
counts=$(in_priv "$RXP" nft list table inet txpdrop | grep -o 'packets [0-9]*' | awk '{print $2}')
in_priv "$RXP" nft delete table inet txpdrop
last=$(echo "$counts" | head -n 1) d=$(echo "$counts" | awk '{s += $1} END {print s + 0}')
check "loss: $d audio packets dropped at the receiver ($last of them the source's last), every one asked for and resent" \
	jq_check "$T/loss.json" "$last == 2 and $d > 2 and .airplay2.retransmit_requests > 0 and
		.airplay2.retransmits_served >= $d and .airplay2.retransmits_missed == 0"

# pause, seek and resume from the keyboard: FLUSH, then the stream restarts 10 s further on
ffmpeg -v error -f lavfi -i "anoisesrc=d=20:c=pink:r=44100:a=0.3:seed=13" -ac 2 -c:a pcm_s16le "$T/in20.wav"
ffmpeg -v error -i "$T/in20.wav" -f s16le "$T/in20.ref"
: >"$AP2_OUT"
if python3 "$(dirname "$0")/raop_keys.py" "nsenter:$TXP" "$TXPACE" "$T/in20.wav" "$AP2_OUT" \
	"$T/keys.json" airplay2 "$RX4" >"$T/keys.log" 2>&1; then
	check "pause/seek/resume: FLUSH sent and answered, every built packet left" \
		jq_check "$T/keys.json" '.airplay2.flushes == 1 and .complete and .sent == .packets and
			.packets < 2506 - 800 and .airplay2.anchors >= 5'
	if airplay_seek "$T/in20.ref" "$AP2_OUT" >"$T/seek.txt" 2>&1; then
		pass "pause/seek/resume: $(cat "$T/seek.txt")"
	else
		fail "pause/seek/resume" "$(cat "$T/seek.txt")"
	fi
else
	fail "pause/seek/resume" "$(tail -c 400 "$T/keys.log")"
fi

# the receiver dies mid-stream: one clear line, non-zero exit
ap2_kill_midstream --profile airplay2 -v "$RX4" "$T/in.wav"
rc=$DIE_RC
if [ $rc -ne 0 ] && [ "$(wc -l <"$T/die.err")" -eq 1 ] && grep -q "closed the RTSP connection" "$T/die.err"; then
	pass "receiver dies mid-stream: $(cat "$T/die.err")"
else
	fail "receiver dies mid-stream" "exit $rc: $(cat "$T/die.err")"
fi
exit $FAILED
