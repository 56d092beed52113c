#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# txpace send -> txpace measure across a veth pair: no loss, exact RTP steps, bit-exact payload,
# for unicast IPv4/IPv6, multicast, L16/L24, several rates and packet times.
. "$(dirname "$0")/lib.sh"
make_pair || { fail "namespaces" "cannot create the veth pair"; exit 1; }

# run_case NAME DEST MEASURE_ARGS SEND_ARGS...
run_case() {
	local name=$1 dest=$2 margs=$3
	shift 3
	bg_rx "$T/$name.json" "$TXPACE" measure --json --payload "$T/$name.pay" $margs
	local m=$BG
	wait_udp "$NS_RX" 5004 || { fail "$name" "measure did not start"; return 1; }
	if ! in_tx "$TXPACE" send --quiet --report "$T/$name.report" "$@" "$dest" ramp \
		2>"$T/$name.send.err"; then
		fail "$name" "send failed: $(cat "$T/$name.send.err")"
		stop $m
		return 1
	fi
	stop $m
}

# 2 s of L24 stereo 48 kHz at 1 ms: 2000 packets of 48 samples
if run_case l24 $RX4:5004 "--listen 0.0.0.0:5004" --seconds 2; then
	check "l24: 2000 packets, none lost, reordered or duplicated" \
		jq_check "$T/l24.json" '.packets == 2000 and .lost == 0 and .reordered == 0 and .duplicates == 0'
	check "l24: RTP timestamp step exactly 48, no wrong step" \
		jq_check "$T/l24.json" '.rtp_step.value == 48 and .rtp_step.errors == 0'
	ramp_bytes 24 $((2000 * 48 * 2)) "$T/l24.ref"
	check "l24: payload bit-exact to the ramp" cmp "$T/l24.ref" "$T/l24.pay"
	check "l24: send report: every packet left, stamps from the kernel" \
		jq_check "$T/l24.report" '.complete and .sent == 2000 and .packets == 2000 and
			.send_errors == 0 and (.departure_source == "snd" or .departure_source == "sched")
			and .samples_per_packet == 48 and .format == "L24"'
	# the cost of that run, as reported: the window auto chose, the pacer's CPU within the
	# process's, its wake-ups counted with their lateness, locked memory resident (none under
	# AddressSanitizer, whose runtime makes mlockall a no-op: run.sh sets ASAN_OPTIONS there)
	check "l24: report's cost: spin auto in [10 us, ptime/2], pacer CPU within the process's, wake-ups, locked <= RSS" \
		jq_check "$T/l24.report" '.realtime.spin == "auto" and .realtime.spin_us >= 10 and
			.realtime.spin_us <= .ptime_us / 2 and .cost.pacer_cpu_ms > 0 and
			.cost.pacer_cpu_ms <= .cost.process_cpu_ms + 1 and .cost.wakeups_per_s > 0 and
			.cost.process_wakeups_per_s > 0 and
			.machine.wake_late_us.count > 0 and .cost.rss_kib > 0 and
			(.cost.locked_kib > 0 or env.ASAN_OPTIONS != null) and
			.cost.locked_kib <= .cost.rss_kib'
	check "l24: the receiver saw the SSRC and payload type the sender reported" \
		test "$(jq .ssrc "$T/l24.json"):$(jq .pt "$T/l24.json")" = \
		"$(jq .rtp.ssrc "$T/l24.report"):$(jq .rtp.pt "$T/l24.report")"
fi

# IPv6, L16 mono 8 kHz, 20 ms packets (160 samples), explicit SSRC and PT
if run_case v6_l16 "[$RX6]:5004" "--listen [::]:5004" --seconds 1 --format L16 --rate 8000 \
	--channels 1 --ptime 20ms --pt 97 --ssrc 0x01020304; then
	check "v6_l16: 50 packets, RTP step 160" \
		jq_check "$T/v6_l16.json" '.packets == 50 and .lost == 0 and .rtp_step.value == 160 and
			.rtp_step.errors == 0 and .pt == 97 and .ssrc == 16909060'
	ramp_bytes 16 $((50 * 160)) "$T/v6_l16.ref"
	check "v6_l16: payload bit-exact" cmp "$T/v6_l16.ref" "$T/v6_l16.pay"
fi

# IPv4 multicast, 44.1 kHz 8 channels at 125 us: 1 ms = 44.1 samples is not whole, 125us = 5.5125 -> 6
if run_case mc "$GROUP4:5004" "--listen $GROUP4:5004 --iface v_rx" --seconds 1 --iface v_tx \
	--rate 44100 --channels 8 --ptime 125us --ttl 4; then
	check "mc: multicast received in full, RTP step 6 samples" \
		jq_check "$T/mc.json" '.lost == 0 and .rtp_step.value == 6 and .rtp_step.errors == 0 and
			.packets == 7350'
	ramp_bytes 24 $((7350 * 6 * 8)) "$T/mc.ref"
	check "mc: payload bit-exact" cmp "$T/mc.ref" "$T/mc.pay"
	# a pacer that spins longer than it sleeps hits RT throttling (50 ms stalls every second)
	check "mc: the spin is capped at half the 136 us packet time" \
		jq_check "$T/mc.report" '.realtime.spin_us <= .ptime_us / 2 and .realtime.spin_us > 0'
fi

# IPv6 multicast
if run_case mc6 "[$GROUP6]:5004" "--listen [$GROUP6]:5004 --iface v_rx" --seconds 0.5 \
	--iface v_tx; then
	check "mc6: IPv6 multicast received in full" \
		jq_check "$T/mc6.json" '.packets == 500 and .lost == 0 and .rtp_step.value == 48'
fi

# measure's plot is an SVG with both panels
bg_rx "$T/plot.txt" "$TXPACE" measure --listen 0.0.0.0:5004 --plot "$T/plot.svg"
m=$BG
wait_udp "$NS_RX" 5004 && in_tx "$TXPACE" send --quiet --seconds 0.3 $RX4:5004 tone:1000
stop $m
check "plot: SVG written with histogram and time series" \
	grep -q 'deviation over time' "$T/plot.svg"
check "measure text report names packets and deviation" \
	grep -q '300 packets' "$T/plot.txt"
# A stall (the whole sender stopped for 100 ms): the packets are counted late, none is lost, and
# the catch-up never puts more than --max-burst packets into one packet time. Two receivers on a
# multicast group: measure, and one that says when the stream is flowing.
bg_rx "$T/stall.json" "$TXPACE" measure --json --listen $GROUP4:5006 --iface v_rx
m=$BG
flow_rx "$T/stall.rx" 5006 $GROUP4
r=$BG
wait_udp "$NS_RX" 5006
ip netns exec "$NS_TX" "$TXPACE" send --quiet --seconds 1.5 --max-burst 3 --iface v_tx \
	--report "$T/stall.report" $GROUP4:5006 tone:440 &
s=$!
PIDS+=("$s")
wait_flowing "$T/stall.rx"
kill -STOP $s
sleep 0.1	# the stall itself, not a wait for anything
kill -CONT $s
wait $s
check "stall: sender exits 0, every packet left" test $? -eq 0
stop $m
kill $r
check "stall: late packets counted, catch-up limited" \
	jq_check "$T/stall.report" '.late >= 50 and .burst_limited > 0 and .sent == 1500'
check "stall: receiver saw every packet and bursts of at most 3" \
	jq_check "$T/stall.json" '.packets == 1500 and .lost == 0 and .burst_max >= 2 and .burst_max <= 3'
exit $FAILED
