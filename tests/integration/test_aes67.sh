#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AES67 on PTP domain 1 (Livewire's): ptp4l grandmaster and slave in two namespaces (linreg
# servo); txpace starts while the slave is still locking, waits for the lock and sends; GStreamer
# receives bit-exact; RTP time = PTP time x 48000 within a packet time; the SDP and the SAP
# announcement carry domain 1; FFmpeg finds the stream through SAP and decodes it bit-exact; the
# SAP deletion goes out on exit. The relay re-times streams onto the grid, one of them started
# while its grandmaster is still coming up and followed through a lost and regained lock.
. "$(dirname "$0")/lib.sh"
for b in ptp4l gst-launch-1.0 ffmpeg; do
	command -v $b >/dev/null || { fail "aes67" "$b missing (scripts/install-deps.sh)"; exit 1; }
done
make_pair || { fail "namespaces" "cannot create the veth pair"; exit 1; }
GM_UDS=/var/run/txpace-$$-gm SL_UDS=/var/run/txpace-$$-sl GM2_UDS=/var/run/txpace-$$-gm2
DOMAIN=1
common="time_stamping software
network_transport UDPv4
logSyncInterval -3
logAnnounceInterval 1
delay_mechanism E2E
domainNumber $DOMAIN"
printf '[global]\n%s\nmasterOnly 1\npriority1 100\nclockClass 248\nuds_address %s\n' \
	"$common" $GM_UDS >"$T/gm.cfg"
printf '[global]\n%s\nslaveOnly 1\nclock_servo linreg\nuds_address %s\n' "$common" $SL_UDS >"$T/sl.cfg"
ip netns exec "$NS_RX" ptp4l -f "$T/gm.cfg" -i v_rx >"$T/gm.log" 2>&1 &
PIDS+=("$!")
trap 'teardown; rm -f $GM_UDS $SL_UDS $GM2_UDS' EXIT

# wait_sock PATH: until ptp4l's management socket exists (10 s at most)
wait_sock() {
	local i
	for i in $(seq 1 200); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	echo "no socket $1" >&2
	return 1
}
# wait_line FILE REGEX: until a line of FILE matches (30 s at most)
wait_line() {
	local i
	for i in $(seq 1 600); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no line matching '$2' in $1: $(tail -n 5 "$1" 2>/dev/null)" >&2
	return 1
}
# port_state NS UDS DOMAIN: ptp4l's port state as pmc gets it on DOMAIN ("" without an answer)
port_state() {
	ip netns exec "$1" pmc -u -b 0 -d "$3" -s "$2" 'GET PORT_DATA_SET' 2>/dev/null |
		awk '$1 == "portState" { print $2 }'
}

ffmpeg -v error -f lavfi -i "anoisesrc=d=3:c=pink:r=48000:a=0.3:seed=5" -ac 2 -c:a pcm_s16le "$T/in.wav"
ffmpeg -v error -i "$T/in.wav" -f s24be "$T/in.ref"
aes67() { in_tx "$TXPACE" send --profile aes67 --quiet --require-lock --lock-timeout 60 \
	--ptp-socket $SL_UDS --ptp-domain $DOMAIN --iface v_tx "$@"; }

# GStreamer receiver and txpace measure on the same group; SAP listener for announce + delete
caps="application/x-rtp,media=(string)audio,clock-rate=(int)48000,encoding-name=(string)L24,encoding-params=(string)2,channels=(int)2,payload=(int)96"
bg_rx "$T/gst.log" gst-launch-1.0 -e -q udpsrc address=$GROUP4 port=5004 multicast-iface=v_rx \
	caps="$caps" ! rtpL24depay ! filesink location="$T/gst.out"
g=$BG
bg_rx "$T/m.json" "$TXPACE" measure --json --listen $GROUP4:5004 --iface v_rx --media-clock 48000
m=$BG
bg_rx "$T/sap.log" python3 -u -c '
import re, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("239.255.255.255", 9875))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             socket.inet_aton("239.255.255.255") + socket.inet_aton("192.168.67.2"))
s.settimeout(120)
while True:
    b = s.recv(4096)
    kind = "delete" if b[0] & 0x04 else "announce"
    sdp = b[8:].split(b"\0", 1)[1].decode()
    ref = re.search(r"a=ts-refclk:ptp=IEEE1588-2008:[0-9A-F-]+:(\d+)", sdp)
    dom = re.search(r"a=clock-domain:PTPv2 (\d+)", sdp)
    print(kind, "%04x" % struct.unpack(">H", b[2:4]), "ts-refclk" in sdp, "mediaclk:direct=" in sdp,
          "domain=%s/%s" % (ref and ref.group(1), dom and dom.group(1)), flush=True)
    if kind == "delete":
        break'
sapl=$BG
wait_udp "$NS_RX" 5004 && wait_udp "$NS_RX" 9875
# the slave starts now: it is still locking when txpace starts (and answers on domain 1 only)
ip netns exec "$NS_TX" ptp4l -f "$T/sl.cfg" -i v_tx >"$T/sl.log" 2>&1 &
PIDS+=("$!")
wait_sock $SL_UDS
st0=$(port_state "$NS_TX" $SL_UDS 0) st1=$(port_state "$NS_TX" $SL_UDS $DOMAIN)
check "ptp4l on domain $DOMAIN: pmc gets no answer on domain 0, and the slave is still locking ($st1)" \
	test -z "$st0" -a -n "$st1" -a "$st1" != SLAVE
if aes67 --report "$T/send.json" --sdp "$T/s.sdp" $GROUP4:5004 "$T/in.wav" 2>"$T/send.err"; then
	pass "aes67: waited $(jq .aes67.lock_wait_ms "$T/send.json") ms for the PTP lock on domain $DOMAIN and sent $(jq .packets "$T/send.json") packets"
else
	fail "aes67 send" "$(cat "$T/send.err")"
fi
stop $g
stop $m
wait $sapl
jq -c '{media_clock_offset_us}' "$T/m.json"
check "aes67: GStreamer's output is the source, bit for bit" same_prefix "$T/in.ref" "$T/gst.out" 288
# (the median: a packet the VM held up arrives late, which says nothing about its RTP time)
check "aes67: RTP time is PTP time x 48000 within one packet time, nothing lost" \
	jq_check "$T/m.json" '.lost == 0 and .rtp_step.value == 48 and .rtp_step.errors == 0 and
		(.media_clock_offset_us.p50 | fabs) < 1000'
check "aes67: report names the grandmaster, the lock (waited for), domain 1, SAP announce and delete" \
	jq_check "$T/send.json" '.aes67.locked and .aes67.ptp and (.aes67.grandmaster | test("^([0-9A-F]{2}-){7}[0-9A-F]{2}$")) and
		.aes67.domain == '$DOMAIN' and .aes67.lock_wait_ms > 250 and .aes67.sap_sent >= 2 and .aes67.sap_deleted'
check "aes67: SDP has rtpmap, ptime, clock-domain and ts-refclk with the GM on domain 1, mediaclk, source-filter" \
	test "$(grep -cE $'^(a=rtpmap:96 L24/48000/2|a=ptime:1|a=clock-domain:PTPv2 '$DOMAIN$'|a=ts-refclk:ptp=IEEE1588-2008:([0-9A-F]{2}-){7}[0-9A-F]{2}:'$DOMAIN$'|a=mediaclk:direct=0|a=source-filter: incl IN IP4 239.69.0.1 192.168.67.1)\r$' "$T/s.sdp")" -eq 6
check "aes67: SAP announced (with PTP attributes, domain 1) at once and deleted on exit" \
	bash -c "head -n 1 '$T/sap.log' | grep -q '^announce .* True True domain=$DOMAIN/$DOMAIN\$' && tail -n 1 '$T/sap.log' | grep -q '^delete'"

# FFmpeg finds the stream through SAP and decodes it bit-exact (from where it joined to the end)
bg_rx "$T/ff.log" ffmpeg -nostdin -v error -i sap://239.255.255.255 -f s24be -y "$T/ff.out"
f=$BG
wait_udp "$NS_RX" 9875
aes67 --sap-interval 1 $GROUP4:5004 "$T/in.wav" 2>>"$T/send.err"
stop $f
check "aes67 via sap:// in FFmpeg: what it decoded is the source's end, bit for bit" \
	python3 -c '
import sys
ref, out = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
n = len(out) - len(out) % 6
# the part FFmpeg decoded must be the source from some packet to the very end
ok = n > len(ref) // 2 and ref.endswith(out[:n]) if n else False
sys.exit(0 if ok else f"{n} bytes decoded, not a bit-exact tail of the {len(ref)}-byte source")' \
	"$T/in.ref" "$T/ff.out"

# relay: the sender's SAP-announced stream (found by name) re-timed onto the grandmaster's grid;
# the relay's output is measured on a second group
bg_rx "$T/r1.json" "$TXPACE" measure --json --listen 239.69.0.2:5006 --iface v_rx --payload "$T/r1.pay"
m=$BG
bg_rx "$T/relay1.log" "$TXPACE" relay --from sap:relayme --from-iface v_rx --to 239.69.0.2:5006 \
	--iface v_rx --ptp-socket $GM_UDS --ptp-domain $DOMAIN --seconds 3 --report "$T/relay1.json" \
	--sap-interval 0
rl=$BG
wait_udp "$NS_RX" 9875
# a stranger on the same link sends look-alike packets (same PT and size, its own SSRC) to the
# same group and port from another address, from before the session starts: the SDP's
# source-filter names the real sender, so the relay must take none of them (it used to take
# the first SSRC that arrived, from anyone)
ip -n "$NS_TX" addr add 192.168.67.9/24 dev v_tx nodad 2>/dev/null
in_tx python3 -c '
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.67.9", 0))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 4)
n, end = 0, time.monotonic() + 4
while time.monotonic() < end:
    s.sendto(struct.pack("!BBHII", 0x80, 96, n & 0xffff, n * 48, 0x5eed5eed) + bytes(288), ("239.69.0.1", 5004))
    n += 1
    time.sleep(0.001)
print(n)' >"$T/stranger.count" &
stranger=$!
PIDS+=("$stranger")
aes67 --name relayme --sap-interval 1 --seconds 2 $GROUP4:5004 ramp 2>>"$T/send.err"
wait $rl
rc=$?
wait $stranger
stop $m
check "relay, a stranger on the group: it sent $(cat "$T/stranger.count") packets; the relay took none (the SDP's source-filter)" \
	jq_check "$T/relay1.json" '.input.source_filter == "'$TX4'" and .input.other_ssrc == 0 and '"$(cat "$T/stranger.count")"' > 1000'
relay_sum() { jq -c '{clock_rate_hz, burst_max, deviation_p50_us: .deviation_us.p50, deviation_p99_us: .deviation_us.p99, duration_s}' "$1"; }
relay_sum "$T/r1.json"
# every input packet is counted once: used (from_input), late or dropped
counted='.input.packets == .input.used + .input.late + .input.dropped and .output.from_input == .input.used'
# the output runs on the grid from its first packet: a catch-up from a start in the past shows as
# a faster fitted clock (issue 9: 48193 Hz, |deviation| p50 2.7 ms; 48033..48067 Hz, p50 0.5..0.9
# ms here) long before it shows as a burst. On the grid the fit is within 0.5 Hz and p50 a few us,
# and a stall of the machine (a 12 ms one was seen) moves the fit by 0.2 Hz, p50 to 72 us.
on_grid='.lost == 0 and .rtp_step.value == 48 and .rtp_step.errors == 0 and .burst_max <= 2 and
	.interval_us.p50 > 990 and .interval_us.p50 < 1010 and (.clock_rate_hz - 48000 | fabs) < 4.8 and
	.deviation_us.p50 < 250'
check "relay --from sap:NAME: ran, found the session, exit 0" test $rc -eq 0
check "relay: every input packet went out once, on a steady grid, nothing lost; the counts add up" \
	jq_check "$T/relay1.json" '.input.packets > 1500 and .output.from_input == .input.packets and
		.input.late == 0 and .output.packets == 3000 and .output.sent == 3000 and '"$counted"
check "relay output: 1 ms grid at 48 kHz from the start, no bursts beyond the catch-up limit, RTP step 48" \
	jq_check "$T/r1.json" '.packets == 3000 and '"$on_grid"
ramp_check() { # PAYLOAD: non-silent packets carry the ramp, one input packet per output packet
	python3 - "$1" <<'PY'
import sys
out = open(sys.argv[1], "rb").read()
P = 288
pk = [out[i:i + P] for i in range(0, len(out) - len(out) % P, P)]
base, data, silent = None, 0, 0
for j, p in enumerate(pk):
    if p == bytes(P):
        silent += 1
        continue
    first = int.from_bytes(p[:3], "big")
    want = b"".join(((first + i) & 0xFFFFFF).to_bytes(3, "big") for i in range(96))
    if p != want:
        sys.exit(f"packet {j}: not a ramp segment")
    b = (first - 96 * j) & 0xFFFFFF
    if base is None:
        base = b
    elif b != base:
        sys.exit(f"packet {j}: the input was not consumed one packet per packet time")
    data += 1
print(f"{data} packets of input, {silent} of silence, one input packet per output packet")
PY
}
if ramp_check "$T/r1.pay" >"$T/rc1.txt" 2>&1; then pass "relay: payload bit-exact: $(cat "$T/rc1.txt")"; else fail "relay payload" "$(cat "$T/rc1.txt")"; fi

# relay under a bad network: up to 3 ms of jitter and a 300 ms stall released as a burst
bg_rx "$T/r2.json" "$TXPACE" measure --json --listen 239.69.0.2:5006 --iface v_rx --payload "$T/r2.pay"
m=$BG
bg_rx "$T/relay2.log" "$TXPACE" relay --from 239.69.0.1:5008 --from-iface v_rx --to 239.69.0.2:5006 \
	--iface v_rx --ptp-socket $GM_UDS --ptp-domain $DOMAIN --seconds 2.5 --report "$T/relay2.json" \
	--sap-interval 0
rl=$BG
wait_udp "$NS_RX" 5008
in_tx python3 "$(dirname "$0")/jitter_sender.py" 239.69.0.1 5008 2000 800 1100
wait $rl
stop $m
relay_sum "$T/r2.json"
check "relay, stalled input: the held packets came late and became silence, not a burst" \
	jq_check "$T/relay2.json" '.input.packets == 2000 and .input.late >= 250 and
		.output.silent >= 250 and .output.from_input + .input.late == 2000 and .output.packets == 2500 and '"$counted"
check "relay, stalled input: the output kept its grid (no burst, 1 ms steps, 48 kHz)" \
	jq_check "$T/r2.json" '.packets == 2500 and '"$on_grid"
if ramp_check "$T/r2.pay" >"$T/rc2.txt" 2>&1; then pass "relay, stalled input: payload: $(cat "$T/rc2.txt")"; else fail "relay, stalled input payload" "$(cat "$T/rc2.txt")"; fi

# relay, started while its grandmaster (its own link, domain 1) is still coming up and the input
# already flows: the output begins on the grid after the lock (the input before it dropped and
# counted), never as a catch-up from the first packet. Then the grandmaster stops answering and
# comes back: the relay says so, checks its anchor (no clock step here: it holds), and its output
# keeps the grid throughout.
ip -n "$NS_RX" link add g_a type veth peer name g_b && ip -n "$NS_RX" link set g_a up &&
	ip -n "$NS_RX" link set g_b up && ip -n "$NS_RX" addr add 192.168.68.1/24 dev g_a
printf '[global]\ntime_stamping software\nnetwork_transport UDPv4\nlogAnnounceInterval 0\ndomainNumber %s\nmasterOnly 1\nuds_address %s\n' \
	$DOMAIN $GM2_UDS >"$T/gm2.cfg"
bg_rx "$T/r3.json" "$TXPACE" measure --json --listen 239.69.0.2:5006 --iface v_rx --payload "$T/r3.pay"
m=$BG
ip netns exec "$NS_RX" ptp4l -f "$T/gm2.cfg" -i g_a >"$T/gm2.log" 2>&1 &
gm2=$!
PIDS+=("$gm2")
wait_sock $GM2_UDS
bg_rx "$T/relay3.log" "$TXPACE" relay --from 239.69.0.1:5010 --from-iface v_rx --to 239.69.0.2:5006 \
	--iface v_rx --ptp-socket $GM2_UDS --ptp-domain $DOMAIN --require-lock --lock-timeout 30 \
	--report "$T/relay3.json" --sap-interval 0
rl=$BG
wait_udp "$NS_RX" 5010
ip netns exec "$NS_TX" "$TXPACE" send --profile rtp --quiet --iface v_tx 239.69.0.1:5010 ramp \
	2>"$T/src3.err" &
src=$!
PIDS+=("$src")
if wait_line "$T/relay3.log.err" 'output started' && kill -STOP $gm2 &&
	wait_line "$T/relay3.log.err" 'PTP lock lost' && kill -CONT $gm2 &&
	wait_line "$T/relay3.log.err" 'output (anchor checked|re-anchored) \(PTP locked\)'; then
	pass "relay: started after the lock, followed its loss and return ($(grep -cE 'PTP lock|output' "$T/relay3.log.err") lines)"
else
	kill -CONT $gm2
	fail "relay, lock lost and regained" "$(cat "$T/relay3.log.err")"
fi
stop $rl
stop $src
stop $m
relay_sum "$T/r3.json"
check "relay, grandmaster still coming up: waited for the lock, then started; every packet counted once" \
	jq_check "$T/relay3.json" '.aes67.locked and .aes67.domain == '$DOMAIN' and .aes67.lock_wait_ms > 1000 and
		.input.dropped > 500 and .input.late == 0 and .output.sent == .output.packets and '"$counted"
check "relay: the lost and regained lock reported, the anchor held (no step): nothing skipped" \
	jq_check "$T/relay3.json" '.clock.lock_lost >= 1 and .clock.lock_gained >= 1 and .clock.steps == 0 and
		.output.reanchors == 0 and .output.skipped_slots == 0 and .output.resyncs == 0'
check "relay, started after the lock: every packet it sent arrived, on the 1 ms grid at 48 kHz" \
	jq_check "$T/r3.json" '.packets == '"$(jq .output.packets "$T/relay3.json")"' and .packets > 1000 and '"$on_grid"
if ramp_check "$T/r3.pay" >"$T/rc3.txt" 2>&1; then pass "relay, started after the lock: payload: $(cat "$T/rc3.txt")"; else fail "relay, started after the lock payload" "$(cat "$T/rc3.txt")"; fi

# without ptp4l: --require-lock fails with one line; without it, a warning and the stream goes on
out=$(in_tx "$TXPACE" send --profile aes67 --quiet --require-lock --lock-timeout 1 \
	--ptp-socket /var/run/txpace-$$-none --iface v_tx $GROUP4:5004 tone:440 2>&1 >/dev/null)
check "no ptp4l + --require-lock: one line, non-zero" \
	bash -c "[ \$(printf '%s\n' '$out' | wc -l) -eq 1 ] && grep -q 'no ptp4l' <<<'$out'"
# ptp4l on domain 1, txpace asking on domain 0 (the default): ptp4l ignores it; txpace says so
out=$(in_tx "$TXPACE" send --profile aes67 --quiet --require-lock --lock-timeout 1 \
	--ptp-socket $SL_UDS --iface v_tx $GROUP4:5004 tone:440 2>&1 >/dev/null)
rc=$?
check "ptp4l on domain $DOMAIN, --ptp-domain left at 0: one line naming the domain, non-zero" \
	bash -c "[ $rc -ne 0 ] && [ \$(printf '%s\n' '$out' | wc -l) -eq 1 ] && grep -q 'on PTP domain 0 .*--ptp-domain' <<<'$out'"
exit $FAILED
