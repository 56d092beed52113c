#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2 on any machine: txpace --profile airplay2 against tests/peers/ap2_receiver.py, a
# receiver written from the protocol (not from txpace's modules), in its own namespace on a veth
# (both bind UDP 319/320). It decrypts and decodes what arrives (FFmpeg's ALAC decoder) and
# says what it saw: the output is bit-exact, pairing and encrypted RTSP held, the PTP messages
# came in the order nqptp needs from the right ports, the anchors carry our clock identity,
# buffered audio (type 103: records on TCP, SETRATEANCHORTIME) decodes bit-exact too,
# dropped packets were resent byte-identical; and receivers that refuse pairing, want a PIN,
# answer an empty SETUP, answer garbage or die give one line and exit status 1.
. "$(dirname "$0")/lib.sh"
PEER="$(dirname "$0")/../peers/ap2_receiver.py"
python3 -c 'import cryptography' 2>/dev/null ||
	{ fail "airplay2 peer" "python3-cryptography missing (scripts/install-deps.sh)"; exit 1; }
make_pair || { fail "airplay2 peer" "cannot make the namespaces"; exit 1; }
ffmpeg -v error -f lavfi -i "anoisesrc=d=4:c=pink:r=44100:a=0.3:seed=5" -ac 2 -c:a pcm_s16le "$T/in.wav"
ffmpeg -v error -i "$T/in.wav" -f s16le "$T/in.ref"

# peer NAME [peer options...]: the peer in NS_RX for one connection; PEER_PID
peer() {
	local name=$1
	shift
	ip netns exec "$NS_RX" python3 "$PEER" --once --port 7000 --pcm "$T/$name.pcm" \
		--summary "$T/$name.sum" "$@" 2>"$T/$name.peer" &
	PEER_PID=$!
	PIDS+=("$PEER_PID")
	wait_grep "$T/$name.peer" "listening on RTSP"
}
# send NAME [send options...]: txpace to the peer; its report $T/NAME.json, stderr $T/NAME.err, rc
send() {
	local name=$1
	shift
	ip netns exec "$NS_TX" "$TXPACE" send --profile airplay2 --quiet --timeout 2000 \
		--report "$T/$name.json" "$@" "$RX4" "$T/in.wav" 2>"$T/$name.err"
	rc=$?
	wait "$PEER_PID"
}
# one_line RC FILE PATTERN: exit status 1 and FILE is one line matching PATTERN
one_line() {
	[ "$1" -eq 1 ] && [ "$(wc -l <"$2")" -eq 1 ] && grep -qE "$3" "$2" ||
		{ echo "exit $1: $(cat "$2")" >&2; return 1; }
}

peer plain
send plain
if [ $rc -eq 0 ]; then
	check "plain: the peer's decoded output is the source, bit for bit" peer_exact "$T/in.ref" "$T/plain.pcm" 64
else
	fail "plain" "send failed: $(tail -n 2 "$T/plain.err")"
fi
check "plain: transient pairing, every request after it encrypted, session and stream set up" \
	jq_check "$T/plain.sum" '.pairing.result == "ok" and .pairing.kind == "transient" and
		.session.refused == null and .session.stream.type == 96 and .session.stream.ct == 2 and
		.session.stream.spf == 352 and .session.stream.shk_len == 32 and
		([.requests[] | select(.path != "/info" and .path != "/pair-setup") | .encrypted] | all) and
		([.requests[] | .method] | index("TEARDOWN")) != null'
check "plain: PTP Announce before Sync, two-step, Follow_Ups matched, nothing rejected" \
	jq_check "$T/plain.sum" '.ptp.announce_seen and .ptp.order[0] == "announce" and
		.ptp.counts.sync >= 8 and .ptp.counts.follow_up == .ptp.counts.sync and
		.ptp.follow_up_unmatched == 0 and .ptp.two_step_syncs == .ptp.counts.sync and
		(([.ptp.rejected[]] | add) // 0) == 0'
check "plain: anchors once a second with our clock identity (the report's), the first 0x90" \
	bash -c "jq -e --slurpfile r '$T/plain.json' '(.anchors | length) >= 4 and .anchors[0].first and
		([.anchors[] | .clock_identity | ascii_downcase] | unique) == [\$r[0].airplay2.ptp.clock_id]' \
		'$T/plain.sum' >/dev/null"
check "plain: every packet decrypted, none missing, the report agrees" \
	jq_check "$T/plain.sum" '.audio.failed == 0 and .audio.missing_after_resends == [] and
		.audio.decrypted == .audio.packets_received'
check "plain: the event connection: both of the peer's requests (Events keys) answered 200, its CSeq echoed" \
	jq_check "$T/plain.sum" '.events.connected == 1 and .events.requests == 2 and .events.errors == [] and
		(.events.answers | length) == 2 and all(.events.answers[]; startswith("RTSP/1.0 200 ")) and
		(.events.answers[1] | split("\r\n") | index("CSeq: 7")) != null'
check "plain: the report counts both (the last: POST /command, no body)" \
	jq_check "$T/plain.json" '.airplay2.events.connected and .airplay2.events.requests == 2 and
		.airplay2.events.answered == 2 and .airplay2.events.last == "POST /command" and
		.airplay2.events.port > 0'

peer loss --drop 0.03 --drop-seed 9
send loss
check "loss: 3 % dropped, every one asked for and resent byte-identical" \
	bash -c "[ $rc -eq 0 ] && jq -e '(.audio.dropped | length) > 0 and .audio.resends_identical == (.audio.dropped | length) and
			.audio.missing_after_resends == []' '$T/loss.sum' >/dev/null &&
		jq -e '.airplay2.retransmits_served > 0 and .airplay2.retransmits_missed == 0' '$T/loss.json' >/dev/null"
check "loss: the output after the resends is the source, bit for bit" peer_exact "$T/in.ref" "$T/loss.pcm" 64

# buffered (type 103): the records on TCP, decoded bit-exact; one SETRATEANCHORTIME (rate 1, the
# clock identity the peer saw in our PTP messages); no 0xD7 anchors
peer buf
send buf --stream buffered --latency 1s
if [ $rc -eq 0 ]; then
	check "buffered: the peer's decoded output from the TCP records is the source, bit for bit" \
		peer_exact "$T/in.ref" "$T/buf.pcm" 64
else
	fail "buffered" "send failed: $(tail -n 2 "$T/buf.err")"
fi
check "buffered: SETUP type 103, ALAC records (0xFACE), one rate-1 anchor on the PTP master's clock identity, no 0xD7" \
	bash -c "jq -e --slurpfile r '$T/buf.json' '.session.stream.type == 103 and
		.audio.buffered_records == \$r[0].packets and .audio.buffered_ssrc == 64206 and
		.audio.failed == 0 and (.anchors | length) == 0 and
		(.session.setrateanchortime | length) == 1 and .session.setrateanchortime[0].rate == 1 and
		.session.setrateanchortime[0].timeline_id == .ptp.clock_identity and
		.session.setrateanchortime[0].networkTimeSecs > 0' '$T/buf.sum' >/dev/null"

peer vol
send vol --volume -7.5
check "volume: SET_PARAMETER volume -7.5 dB reached the peer (encrypted)" \
	jq_check "$T/vol.sum" '.volumes == [-7.5]'

# ptp4l on the sender's host (an AES67 installation), grandmaster of v_tx: its timeline is used
# (PTP time = CLOCK_REALTIME + its TAI-UTC offset), and txpace shares 319/320 with it
UDS=/var/run/txpace-$$-gm
trap 'teardown; rm -f $UDS' EXIT
printf '[global]\ntime_stamping software\nnetwork_transport UDPv4\nlogAnnounceInterval 0\nmasterOnly 1\nuds_address %s\n' \
	"$UDS" >"$T/gm.cfg"
ip netns exec "$NS_TX" ptp4l -f "$T/gm.cfg" -i v_tx >"$T/gm.log" 2>&1 &
GM=$!
PIDS+=("$GM")
state=
for i in $(seq 1 400); do
	state=$(ip netns exec "$NS_TX" pmc -u -b 0 -s "$UDS" 'GET PORT_DATA_SET' 2>/dev/null |
		awk '$1 == "portState" { print $2 }')
	[ "$state" = MASTER ] && break
	sleep 0.05
done
tp=$(ip netns exec "$NS_TX" pmc -u -b 0 -s "$UDS" 'GET TIME_PROPERTIES_DATA_SET' 2>/dev/null)
utc=$(awk '$1 == "currentUtcOffset" { print $2 }' <<<"$tp")
tscale=$(awk '$1 == "ptpTimescale" { print $2 }' <<<"$tp")
want=$([ "$tscale" = 1 ] && echo $((utc * 1000000000)) || echo 0)
if [ "$state" = MASTER ] && [ -n "$utc" ]; then
	peer ptp4l
	send ptp4l --ptp-socket "$UDS"
	check "ptp4l here (grandmaster, TAI-UTC $utc s, ptpTimescale $tscale): its timeline used, the ports shared" \
		jq_check "$T/ptp4l.json" ".complete and .airplay2.ptp.timescale == \"realtime\" and
			.airplay2.ptp.offset_ns == $want and .airplay2.ptp.follow_ups > 0"
	check "ptp4l here: the receiver's offset (Follow_Up origin - Sync arrival, CLOCK_REALTIME) is ptp4l's, within 50 ms" \
		jq_check "$T/ptp4l.sum" "(.ptp.offset_ns.last - $want) | fabs < 50000000"
	check "ptp4l here: the output is still the source, bit for bit" peer_exact "$T/in.ref" "$T/ptp4l.pcm" 64
else
	fail "ptp4l here" "ptp4l did not become grandmaster ($state): $(tail -n 3 "$T/gm.log")"
fi
kill "$GM"
wait "$GM" 2>/dev/null

peer refuse --fault refuse-pairing
send refuse
check "receiver refuses pairing: one line" one_line $rc "$T/refuse.err" "pair"
peer pin --require-pin
send pin
check "receiver wants a PIN (470): one line that says to run txpace pair" \
	one_line $rc "$T/pin.err" "txpace pair"
# txpace pair: without a terminal or --pin, a usage line; against a receiver that cannot do
# PIN pairing (the peer has none), one line; --forget of a receiver never paired, one line;
# the store it made is private (0700 directory, 0600 identity)
ip netns exec "$NS_TX" "$TXPACE" pair "$RX4" </dev/null >/dev/null 2>"$T/pair_nopin.err"
rc=$?
check "pair: no PIN and no terminal: one line naming --pin" \
	bash -c "[ $rc -eq 2 ] && [ \$(wc -l <'$T/pair_nopin.err') -eq 1 ] && grep -q -- --pin '$T/pair_nopin.err'"
peer pairpin --require-pin
ip netns exec "$NS_TX" "$TXPACE" pair --pin 123-45-678 --pair-dir "$T/keys" --timeout 2000 "$RX4" \
	>/dev/null 2>"$T/pairpin.err"
rc=$?
wait "$PEER_PID"
check "pair: a receiver that refuses PIN pairing too: one error line (not 'run txpace pair'), exit 1, nothing stored" \
	bash -c "[ $rc -eq 1 ] && [ \$(grep -c 'error:' '$T/pairpin.err') -eq 1 ] &&
		grep -q 'refused pair-setup with a PIN' '$T/pairpin.err' &&
		! grep -q 'run .txpace pair' '$T/pairpin.err' && ! grep -qs . '$T/keys/peers'"
check "pair: its identity is kept private (directory 0700, identity 0600)" \
	bash -c "[ \$(stat -c %a '$T/keys') = 700 ] && [ \$(stat -c %a '$T/keys/identity') = 600 ]"
ip netns exec "$NS_TX" "$TXPACE" pair --forget --pair-dir "$T/keys" AA:BB:CC:DD:EE:FF \
	>/dev/null 2>"$T/forget.err"
rc=$?
check "pair --forget of a receiver never paired: one line, exit 1" \
	one_line $rc "$T/forget.err" "."

peer empty --fault empty-setup
send empty
check "receiver answers SETUP with an empty body: one line, refused" \
	one_line $rc "$T/empty.err" "refused the session"
peer garbage --fault garbage --fault-on record
send garbage
check "receiver answers RECORD with garbage: one line" one_line $rc "$T/garbage.err" \
	"not RTSP|does not authenticate"
peer bufgarbage --fault garbage --fault-on setrateanchortime
send bufgarbage --stream buffered
check "buffered: receiver answers SETRATEANCHORTIME with garbage: one line" one_line $rc \
	"$T/bufgarbage.err" "not RTSP|does not authenticate"
peer bufclose --fault close-data
send bufclose --stream buffered
check "buffered: receiver closes the data connection mid-stream: one line" one_line $rc \
	"$T/bufclose.err" "closed the audio data connection"
peer die --die-after 300
send die
check "receiver dies mid-stream: one line" one_line $rc "$T/die.err" "closed the RTSP connection"
peer evgarbage --fault event-garbage
send evgarbage
check "receiver sends garbage on the event connection: the stream goes on (exit 0), bit for bit" \
	test $rc -eq 0 -a -s "$T/evgarbage.pcm"
[ $rc -eq 0 ] && check "event garbage: the output is still the source" peer_exact "$T/in.ref" "$T/evgarbage.pcm" 64
check "event garbage: one warning that says the connection ended, and the report says why" \
	bash -c "[ \$(grep -c . '$T/evgarbage.err') -eq 1 ] && grep -q \"event connection: .*the stream goes on without it\" '$T/evgarbage.err' &&
		jq -e '.airplay2.events.ended != \"\" and .airplay2.events.answered == 0' '$T/evgarbage.json' >/dev/null"
check "event garbage: txpace closed the event connection (the peer saw it)" \
	jq_check "$T/evgarbage.sum" '.events.garbage_sent == 80 and .events.closed_by_sender'
exit $FAILED
