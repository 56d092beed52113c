#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 1: txpace --profile raop against a real receiver (shairport-sync 3.3.8, stdout backend),
# bit-exact to the source; discovery through avahi; retransmits under loss; encryption; volume;
# keep-alives with the timing replies watched; receivers that refuse, stay silent, answer garbage
# or die mid-stream; and one written from the protocol (raop_rx.py) whose RTSP side goes silent,
# refuses or answers late mid-stream while it times the timing replies and resends it gets.
. "$(dirname "$0")/lib.sh"
for b in avahi-daemon dbus-daemon nft; do
	command -v $b >/dev/null || { fail "airplay" "$b missing (scripts/install-deps.sh)"; exit 1; }
done
shairport_bin AIRPLAY1 >/dev/null ||
	{ fail "airplay" "no AirPlay 1 shairport-sync (Debian's; scripts/install-deps.sh)"; exit 1; }
start_airplay TestRx || { fail "airplay" "shairport-sync did not start"; exit 1; }

ffmpeg -v error -f lavfi -i "anoisesrc=d=20:c=pink:r=44100:a=0.3:seed=7" -ac 2 -c:a pcm_s16le "$T/in.wav"
ffmpeg -v error -i "$T/in.wav" -f s16le "$T/in.ref"
ffmpeg -v error -f lavfi -i "sine=frequency=523:sample_rate=48000:duration=4" -ac 2 \
	-c:a libmp3lame -b:a 192k "$T/in.mp3"
ffmpeg -v error -i "$T/in.mp3" -ar 44100 -ac 2 -f s16le "$T/mp3.ref"

# one_session NAME REF [send options...]: play to the receiver, keep its output as $T/NAME.out
one_session() {
	local name=$1 ref=$2
	shift 2
	: >"$AP_OUT"
	if in_ap "$TXPACE" send --profile raop --quiet --report "$T/$name.json" "$@" \
		2>"$T/$name.err"; then
		cp "$AP_OUT" "$T/$name.out"
		check "$name: receiver output bit-exact to the source, to the last sample" \
			airplay_exact "$ref" "$T/$name.out"
	else
		fail "$name" "send failed: $(cat "$T/$name.err")"
	fi
}

one_session wav20 "$T/in.ref" 127.0.0.1 "$T/in.wav"
check "wav20: every packet left (+63, 0.5 s, of silence after the end), timing answered, syncs sent" \
	jq_check "$T/wav20.json" '.complete and .sent == .packets and .packets == 2506 + 63 and
		.raop.timing_replies > 0 and .raop.syncs >= 20 and .raop.retransmits_missed == 0'
one_session mp3 "$T/mp3.ref" 127.0.0.1:5000 "$T/in.mp3"

# discovery: list shows the receiver; send --to NAME plays to it
in_ap "$TXPACE" list --json --timeout 3000 >"$T/list.json"
check "list: TestRx on 127.0.0.1:5000 with its capabilities" \
	jq_check "$T/list.json" 'any(.[]; .name == "TestRx" and .address == "127.0.0.1:5000" and
		(.et | test("0")) and (.cn | length > 0))'
head -c $((44100 * 4 * 3)) "$T/in.ref" >"$T/short.ref"
ffmpeg -v error -f s16le -ar 44100 -ac 2 -i "$T/short.ref" -c:a pcm_s16le "$T/short.wav"
one_session to_name "$T/short.ref" --to TestRx "$T/short.wav"

# ~1.5 % of audio packets dropped on the way (at the receiver's input, so the sender sees no
# error), in the middle of the stream: the receiver finds a gap by the packets after it, so the
# drops start once it plays and stop well before the end. Retransmits make the output whole.
head -c $((44100 * 4 * 10)) "$T/in.ref" >"$T/loss.ref"
ffmpeg -v error -f s16le -ar 44100 -ac 2 -i "$T/loss.ref" -c:a pcm_s16le "$T/loss.wav"
: >"$AP_OUT"
ip netns exec "$AP_NS" "$TXPACE" send --profile raop --quiet --report "$T/loss.json" 127.0.0.1 \
	"$T/loss.wav" 2>"$T/loss.err" &
s=$!
PIDS+=("$s")
sec=$((44100 * 4))
for i in $(seq 1 300); do [ "$(stat -c %s "$AP_OUT")" -gt $((3 * sec)) ] && break; sleep 0.05; done
in_ap nft add table inet txp && in_ap nft 'add chain inet txp in { type filter hook input priority 0; }' &&
	in_ap nft 'add rule inet txp in udp dport 6000-6100 @th,72,8 0x60 numgen random mod 200 < 3 counter drop'
for i in $(seq 1 300); do [ "$(stat -c %s "$AP_OUT")" -gt $((8 * sec)) ] && break; sleep 0.05; done
dropped=$(in_ap nft list ruleset | grep -o 'packets [0-9]*' | awk '{print $2}')
in_ap nft delete table inet txp
if wait "$s"; then
	cp "$AP_OUT" "$T/loss.out"
	check "loss: receiver output bit-exact to the source, to the last sample" \
		airplay_exact "$T/loss.ref" "$T/loss.out"
else
	fail "loss" "send failed: $(cat "$T/loss.err")"
fi
check "loss: packets were dropped ($dropped), retransmits asked and all served" \
	jq_check "$T/loss.json" ".raop.retransmit_packets >= $dropped and $dropped > 0 and
		.raop.retransmits_served == .raop.retransmit_packets and .complete"

# bound_to SSFILE ADDR: SSFILE (ss -Hluan) lists two sockets, both bound to ADDR (not 0.0.0.0)
bound_to() {
	[ "$(wc -l <"$1")" -eq 2 ] && [ "$(awk -v a="$2:" 'index($4, a) == 1' "$1" | wc -l)" -eq 2 ] ||
		{ echo "not two sockets on $2:" >&2; cat "$1" >&2; return 1; }
}

# A stranger: a host on the receiver's network (its own namespace) sends txpace's control port a
# retransmit request for everything (count 0xFFFF) and its timing port a timing request while a
# stream plays. Before issue 9 it got the whole history back (2 s of audio) and the stream
# failed on the resends it could not serve; now it gets nothing, and that is only counted.
head -c $((44100 * 4 * 6)) "$T/in.ref" >"$T/mid.ref"
ffmpeg -v error -f s16le -ar 44100 -ac 2 -i "$T/mid.ref" -c:a pcm_s16le "$T/mid.wav"
if add_stranger; then
	: >"$AP_OUT"
	ip netns exec "$AP_NS" "$TXPACE" send --profile raop --quiet -v --report "$T/stranger.json" \
		$AP_LAN4 "$T/mid.wav" 2>"$T/stranger.err" &
	s=$!
	PIDS+=("$s")
	read -r ctl tim < <(raop_ports "$T/stranger.err")
	wait_output $((3 * sec))
	in_ap ss -Hluan "sport = :${ctl:-0} or sport = :${tim:-0}" >"$T/stranger.ss"
	in_st python3 "$(dirname "$0")/raop_ctl.py" stranger $ST4 $AP_LAN4 "${ctl:-0}" "${tim:-0}" 2 \
		>"$T/stranger.got"
	if wait "$s"; then
		cp "$AP_OUT" "$T/stranger.out"
		check "stranger: receiver output bit-exact to the source, to the last sample" \
			airplay_exact "$T/mid.ref" "$T/stranger.out"
	else
		fail "stranger" "send failed: $(cat "$T/stranger.err")"
	fi
	check "stranger: its resend request (count 0xFFFF) and timing request got nothing back in 2 s" \
		jq_check "$T/stranger.got" '.datagrams == 0'
	check "stranger: refused and counted, not failed; the receiver's retransmit budget untouched" \
		jq_check "$T/stranger.json" ".complete and .raop.control_port == ${ctl:-0} and
			.raop.control_strangers_refused >= 1 and .raop.timing_strangers_refused >= 1 and
			.raop.retransmits_over_limit == 0 and .raop.retransmits_missed == 0"
	check "stranger: control and timing ports bound to the RTSP connection's address $AP_LAN4" \
		bound_to "$T/stranger.ss" $AP_LAN4
else
	fail "stranger" "cannot set up the stranger's namespace"
fi

# A flood of resend requests from the receiver's own address (200 a second, each for 64 packets
# it holds): served only up to the rate limit (a token bucket), the rest refused and counted;
# the stream stays whole.
: >"$AP_OUT"
ip netns exec "$AP_NS" "$TXPACE" send --profile raop --quiet -v --report "$T/flood.json" 127.0.0.1 \
	"$T/mid.wav" 2>"$T/flood.err" &
s=$!
PIDS+=("$s")
read -r ctl tim < <(raop_ports "$T/flood.err")
wait_output $((2 * sec))
in_ap python3 "$(dirname "$0")/raop_ctl.py" flood 127.0.0.1 127.0.0.1 "${ctl:-0}" 3 >"$T/flood.got" \
	2>"$T/flood.got.err"
if wait "$s"; then
	cp "$AP_OUT" "$T/flood.out"
	check "flood: receiver output bit-exact to the source, to the last sample" \
		airplay_exact "$T/mid.ref" "$T/flood.out"
else
	fail "flood" "send failed: $(cat "$T/flood.err")"
fi
req=$(jq -r .requests "$T/flood.got" 2>/dev/null)
got=$(jq -r '.raop | "\(.retransmits_served) served, \(.retransmits_over_limit) over the limit"' \
	"$T/flood.json" 2>/dev/null)
check "flood: the resends went to the receiver's control port, none to the requesting socket" \
	jq_check "$T/flood.got" '.came_back == 0'
check "flood: ${req:-no} requests in 3 s, ${got:-no report}: served <= limit x duration + burst, \
>= half the limit x 3 s" \
	jq_check "$T/flood.json" "${req:-0} >= 400 and .raop.retransmit_requests >= ${req:-0} and
		.raop.retransmits_served <= .raop.retransmit_limit_per_s * .duration_s +
			.raop.retransmit_burst and
		.raop.retransmits_served >= .raop.retransmit_limit_per_s * 3 / 2 and
		.raop.retransmits_over_limit > 0 and .complete and
		.raop.retransmit_packets == .raop.retransmits_served + .raop.retransmits_missed +
			.raop.retransmits_over_limit + .raop.retransmit_packets_cut"

one_session encrypted "$T/short.ref" --encrypt 127.0.0.1 "$T/short.wav"
check "encrypted: the session was encrypted" jq_check "$T/encrypted.json" '.raop.encrypted'
one_session escape "$T/short.ref" --alac escape 127.0.0.1 "$T/short.wav"
check "ALAC: escape frames ~1412 bytes, FFmpeg's compressed frames of the same noise smaller" \
	python3 -c 'import json,sys; e,c=(json.load(open(f))["raop"]["payload_bytes_per_packet"] for f in sys.argv[1:]); sys.exit(not (1400 < e <= 1415 and c < e))' \
	"$T/escape.json" "$T/encrypted.json"

# Keep-alives every second, the receiver's own timing requests watched on lo meanwhile (kernel
# stamps, as each datagram is sent). The bound on a reply's delay comes from the receiver, not
# from this machine: shairport-sync drops a timing exchange whose round trip is 0.2 s or more
# (rtp.c: "must be less than 0.2 seconds"), and without exchanges it never syncs (PROTOCOLS.md:
# replies are mandatory). A reply held 200 ms behind an RTSP answer is as good as none. It holds
# once the audio flows; before that (SETUP to the first packet: RECORD, the source, the pacer, the
# kernel set up, all blocking) a request waits, and that wait is reported, not bounded.
# shairport-sync asks 7 times 300 ms apart from SETUP, then every 3 s: 6 s of audio (8 s played)
# hold at least 3 requests whatever the setup took, up to 1.8 s.
in_ap python3 "$(dirname "$0")/raop_ctl.py" timing 5000 60 >"$T/ka.timing" &
w=$!
PIDS+=("$w")
wait_grep "$T/ka.timing" watching
one_session volume "$T/mid.ref" --volume -12.5 --keepalive 1 127.0.0.1 "$T/mid.wav"
kill -INT "$w"
wait "$w"
tail -n 1 "$T/ka.timing" >"$T/ka.json"
check "keep-alive: OPTIONS every second during the session, each answered" \
	jq_check "$T/volume.json" '.raop.keepalives >= 5'
tp=$(jq -r '.raop.receiver_timing_port' "$T/volume.json" 2>/dev/null)
ka=$(jq -r '"\(.requests) timing requests in the stream (\(.during_rtsp) during RTSP), max delay \(.max_delay_ms) ms; during setup \(.setup_delays_ms) ms"' \
	"$T/ka.json" 2>/dev/null)
check "keep-alive: ${ka:-nothing watched}; each answered once, within 200 ms, at the timing port \
the receiver named (${tp:-?}), transmit >= receive" \
	jq_check "$T/ka.json" ".requests >= 3 and .answered == .requests and .unasked == 0 and
		.max_delay_ms < 200 and .misordered == 0 and .request_ports == [${tp:-0}] and
		.reply_ports == [${tp:-0}] and .rtsp_requests >= 5 + 5"
check "volume: the receiver accepted SET_PARAMETER with 'volume: -12.500000'" \
	grep -A8 'type "SET_PARAMETER"' "$AP_LOG" | grep -q 'Content-Length", content: "20"'

# pause, seek and resume from the keyboard: FLUSH, then the stream restarts 10 s further on
: >"$AP_OUT"
if python3 "$(dirname "$0")/raop_keys.py" "$AP_NS" "$TXPACE" "$T/in.wav" "$AP_OUT" "$T/keys.json" \
	>"$T/keys.log" 2>&1; then
	check "pause/seek/resume: FLUSH sent, every built packet left" \
		jq_check "$T/keys.json" '.raop.flushes == 1 and .complete and .sent == .packets and
			.packets < 2506 - 800'
	if airplay_seek "$T/in.ref" "$AP_OUT" >"$T/seek.txt" 2>&1; then
		pass "pause/seek/resume: $(cat "$T/seek.txt")"
	else
		fail "pause/seek/resume" "$(cat "$T/seek.txt")"
	fi
else
	fail "pause/seek/resume" "$(tail -c 400 "$T/keys.log")"
fi

# the receiver dies mid-stream: one clear line, non-zero exit
: >"$AP_OUT"
ip netns exec "$AP_NS" "$TXPACE" send --profile raop --quiet 127.0.0.1 "$T/in.wav" 2>"$T/die.err" &
s=$!
PIDS+=("$s")
for i in $(seq 1 200); do [ "$(stat -c %s "$AP_OUT")" -gt 200000 ] && break; sleep 0.05; done
kill -9 "$AP_PID"
wait "$s"
rc=$?
if [ $rc -ne 0 ] && [ "$(wc -l <"$T/die.err")" -eq 1 ] && grep -q "closed the RTSP connection" "$T/die.err"; then
	pass "receiver dies mid-stream: $(cat "$T/die.err")"
else
	fail "receiver dies mid-stream" "exit $rc: $(cat "$T/die.err")"
fi

# fake receivers on the same port: busy, silent, garbage, hang-up
fake() { # MODE
	ip netns exec "$AP_NS" python3 -c '
import socket, sys, time
mode = sys.argv[1]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 5000)); s.listen(1)
c, _ = s.accept()
if mode == "close":
    c.close(); sys.exit()
data = c.recv(4096)
if mode == "busy":
    c.sendall(b"RTSP/1.0 453 Not Enough Bandwidth\r\nCSeq: 1\r\n\r\n")
elif mode == "garbage":
    c.sendall(b"HELLO, I AM NOT A RECEIVER\r\n\r\n")
time.sleep(3)' "$1" &
	FAKE=$!
	PIDS+=("$FAKE")
	for i in $(seq 1 100); do
		in_ap ss -Hltn "sport = :5000" | grep -q . && return
		sleep 0.05
	done
}
bad() { # NAME PATTERN
	fake "$1"
	in_ap "$TXPACE" send --profile raop --timeout 1000 127.0.0.1 "$T/short.wav" >/dev/null 2>"$T/bad.err"
	rc=$?
	kill "$FAKE" 2>/dev/null
	wait "$FAKE" 2>/dev/null
	if [ $rc -ne 0 ] && [ "$(wc -l <"$T/bad.err")" -eq 1 ] && grep -qE "$2" "$T/bad.err"; then
		pass "receiver $1: $(cat "$T/bad.err")"
	else
		fail "receiver $1" "exit $rc: $(cat "$T/bad.err")"
	fi
}
bad busy "busy \(453"
bad silent "no answer to OPTIONS within 1000 ms"
bad garbage "not RTSP"
bad close "closed the connection during OPTIONS"

# A receiver written from the protocol (raop_rx.py) that sets the session up, then treats the
# keep-alives (every second) as the test says, while it asks for timing and for resends 50 times a
# second each and times the replies. The bound is the one above (200 ms: shairport-sync drops a
# timing exchange that takes longer, and asks for a resend again after 250 ms).
# rx_session NAME [raop_rx.py options] -- [send options]: mid.wav to it; its summary in
# $T/NAME.rx, txpace's report in $T/NAME.json, stderr in $T/NAME.err, exit status in $rc
rx_session() {
	local name=$1 p rxo=()
	shift
	while [ "$1" != "--" ]; do rxo+=("$1"); shift; done
	shift
	in_ap python3 "$(dirname "$0")/raop_rx.py" 127.0.0.1 5000 "${rxo[@]}" >"$T/$name.out" &
	p=$!
	PIDS+=("$p")
	wait_grep "$T/$name.out" listening
	in_ap "$TXPACE" send --profile raop --quiet --keepalive 1 --report "$T/$name.json" "$@" \
		127.0.0.1 "$T/mid.wav" 2>"$T/$name.err"
	rc=$?
	wait "$p"
	tail -n 1 "$T/$name.out" >"$T/$name.rx"
}
# exited_1 RC FILE PATTERN: txpace exited 1 and FILE (its stderr) is one line matching PATTERN
exited_1() {
	[ "$1" -eq 1 ] || { echo "exit status $1, not 1" >&2; return 1; }
	[ "$(wc -l <"$2")" -eq 1 ] && grep -qE "$3" "$2" ||
		{ echo "not one line like '$3':" >&2; cat "$2" >&2; return 1; }
}
# replies NAME: what the receiver's requests got while an RTSP request of txpace's was unanswered
replies() {
	jq -r '"timing \(.timing.outstanding.answered)/\(.timing.outstanding.asked) (max \(.timing.outstanding.max_ms) ms), resends \(.resend.outstanding.answered)/\(.resend.outstanding.asked) (max \(.resend.outstanding.max_ms) ms)"' "$T/$1.rx" 2>/dev/null
}
# every request made while txpace waited for an answer (and at least 200 ms before it hung up)
# was answered within 200 ms: timing replies and resends
served='.timing.outstanding.asked >= 40 and .timing.outstanding.late == 0 and
	.resend.outstanding.asked >= 40 and .resend.outstanding.late == 0'

# (a) RTSP goes silent mid-stream (the first keep-alive is never answered): for the whole --timeout
# the loop serves timing and resends, then one line naming the request, exit 1
rx_session stall --stall -- --timeout 2000
check "RTSP silent mid-stream: exit $rc, one line: $(cat "$T/stall.err")" \
	exited_1 $rc "$T/stall.err" 'no answer to OPTIONS within 2000 ms$'
check "RTSP silent mid-stream: $(replies stall) while txpace waited" jq_check "$T/stall.rx" "$served"
check "RTSP silent mid-stream: one OPTIONS, unanswered; the connection closed after the timeout \
($(jq -r .closed_ms "$T/stall.rx" 2>/dev/null) ms)" \
	jq_check "$T/stall.rx" '(.requests | length) == 1 and .requests[0].method == "OPTIONS" and
		.requests[0].answered_ms == null and .closed_ms >= 1800 and .closed_ms < 3000'

# a keep-alive refused (500): the stream fails at once, one line
rx_session refused --status 500 -- --timeout 2000
check "keep-alive refused mid-stream: exit $rc, one line: $(cat "$T/refused.err")" \
	exited_1 $rc "$T/refused.err" 'refused OPTIONS mid-stream: 500 Internal Server Error$'

# a slow receiver: each keep-alive answered 600 ms late (within --timeout), every 4th timing
# request from another port of the receiver's. The stream completes; nothing waited for RTSP.
rx_session slow --delay 600 --alt-every 4 -- --timeout 2000
if [ $rc -eq 0 ]; then
	check "slow RTSP answers: $(replies slow) while keep-alives were unanswered" \
		jq_check "$T/slow.rx" "$served"
	check "slow RTSP answers: stream complete, every keep-alive answered (600 ms late)" \
		jq_check "$T/slow.json" '.complete and .sent == .packets and .raop.keepalives >= 5'
	check "slow RTSP answers: timing replies at the port named in SETUP, none to where a request \
came from ($(jq -r .alt_asked "$T/slow.rx" 2>/dev/null) asked from another port)" \
		jq_check "$T/slow.rx" ".alt_asked >= 10 and .alt_replies == 0 and
			.ports.timing == $(jq -r .raop.receiver_timing_port "$T/slow.json" 2>/dev/null || echo 0)"
else
	fail "slow RTSP answers" "exit $rc: $(cat "$T/slow.err")"
fi

one_line_none=$(in_ap "$TXPACE" send --profile raop --timeout 500 127.0.0.1 "$T/short.wav" 2>&1 >/dev/null)
check "no receiver at all: connection refused, one line" \
	bash -c "[ \$(printf '%s\n' '$one_line_none' | wc -l) -eq 1 ] && grep -q 'Connection refused' <<<'$one_line_none'"
exit $FAILED
