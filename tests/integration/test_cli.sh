#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Commands end to end: raw PCM on stdin, SDP read by FFmpeg as a receiver, SIGINT, demo, probe,
# cleanup, --help.
. "$(dirname "$0")/lib.sh"
make_pair || { fail "namespaces" "cannot create the veth pair"; exit 1; }

# raw PCM on stdin, at the stream rate (bit-exact) and resampled (as FFmpeg resamples it)
ffmpeg -v error -f lavfi -i "sine=frequency=330:sample_rate=48000:duration=1" -ac 2 -f s16le "$T/in48.raw"
ffmpeg -v error -f lavfi -i "sine=frequency=330:sample_rate=44100:duration=1" -ac 2 -f s16le "$T/in44.raw"
for r in 48 44; do
	rate=$([ $r = 48 ] && echo 48000 || echo 44100)
	ffmpeg -v error -f s16le -ar $rate -ac 2 -i "$T/in$r.raw" -ar 48000 -f s24be "$T/stdin$r.ref"
	bg_rx "$T/stdin$r.json" "$TXPACE" measure --json --payload "$T/stdin$r.pay" --listen 0.0.0.0:5004
	m=$BG
	wait_udp "$NS_RX" 5004 &&
		in_tx "$TXPACE" send --quiet --input-format s16le:$rate:2 $RX4:5004 - <"$T/in$r.raw"
	stop $m
	check "stdin s16le at $rate Hz: payload equals FFmpeg's conversion" \
		same_prefix "$T/stdin$r.ref" "$T/stdin$r.pay" 288
done

# FFmpeg receives from the SDP that send writes (a real RTP receiver, bit-exact)
in_tx "$TXPACE" send --quiet --seconds 0.01 --sdp "$T/s.sdp" --format L16 $RX4:5004 ramp 2>/dev/null
check "sdp: connection, media, rtpmap and ptime lines" \
	test "$(grep -cE $'^(c=IN IP4 192.168.67.2|m=audio 5004 RTP/AVP 96|a=rtpmap:96 L16/48000/2|a=ptime:1)\r$' "$T/s.sdp")" -eq 4
ffmpeg -v error -f lavfi -i "sine=frequency=550:sample_rate=48000:duration=2" -ac 2 -c:a pcm_s16le "$T/ff.wav"
ffmpeg -v error -i "$T/ff.wav" -f s16be "$T/ff.ref"
bg_rx "$T/ff.log" ffmpeg -nostdin -v error -protocol_whitelist file,udp,rtp -i "$T/s.sdp" \
	-f s16be -y "$T/ff.out"
f=$BG
wait_udp "$NS_RX" 5004 && in_tx "$TXPACE" send --quiet --format L16 $RX4:5004 "$T/ff.wav"
stop $f
check "ffmpeg receives the stream from the SDP, bit-exact" same_prefix "$T/ff.ref" "$T/ff.out" 192

# SIGINT: an endless tone stops cleanly; every packet built has left; exit status 0.
# The receiver says when it has 300 packets and keeps receiving (so nothing bounces).
flow_rx "$T/int.rx" 5004
r=$BG
wait_udp "$NS_RX" 5004
ip netns exec "$NS_TX" "$TXPACE" send --quiet --report "$T/int.report" $RX4:5004 tone:440 &
s=$!
PIDS+=("$s")
wait_flowing "$T/int.rx"
kill -INT $s
wait $s
rc=$?
check "SIGINT: exit status 0" test $rc -eq 0
check "SIGINT: report says interrupted, complete (sent == built)" \
	jq_check "$T/int.report" '.interrupted and .complete and .sent == .packets and .sent >= 300'
kill $r

# demo: both runs measured, nothing left in this namespace afterwards
links_before=$(ip -o link | wc -l)
"$TXPACE" demo --seconds 2 --json >"$T/demo.json" 2>"$T/demo.err"
check "demo --json: txpace and baseline both delivered 2000 packets, none lost" \
	jq_check "$T/demo.json" '.txpace.packets == 2000 and .txpace.lost == 0 and
		.baseline.packets == 2000 and .baseline.lost == 0 and .txpace.deviation_us.p50 > 0'
check "demo leaves no interfaces behind" test "$(ip -o link | wc -l)" -eq "$links_before"
"$TXPACE" demo --seconds 1 >"$T/demo.txt"
check "demo text table" grep -q 'deviation| p99 (us)' "$T/demo.txt"

links_before=$(ip -o link | wc -l)
"$TXPACE" probe --json >"$T/probe.json"
check "probe --json: features (incl. fq, etf, clsact, cls_bpf), reasons and a backend" \
	jq_check "$T/probe.json" '([.btf, .sched_fifo, .so_txtime, .fq, .etf, .clsact, .cls_bpf,
		.skb_set_tstamp, .mmapable_array] | all(type == "boolean")) and
		(.backend | IN("rt", "edt", "etf")) and
		(.reasons | has("fq") and has("cls_bpf") and has("backend"))'
# what the kernel offers, asked of tc itself, not of txpace: probe must agree with it, and its
# backend must follow (no fq: nothing can release stamped packets, so rt; fq: edt unless the
# interface is brcmfmac or has launch-time hardware)
have_fq=$(qdisc_works fq)
have_etf=$(qdisc_works etf clockid CLOCK_TAI delta 500000)
have_clsact=$(qdisc_works clsact)
check "probe agrees with tc: fq $have_fq, etf $have_etf, clsact $have_clsact" \
	jq_check "$T/probe.json" ".fq == $have_fq and .etf == $have_etf and .clsact == $have_clsact"
if [ "$have_fq" = false ]; then
	check "probe: no fq here (tc says so), so the backend is rt and the reason names fq" \
		jq_check "$T/probe.json" '.backend == "rt" and (.reasons.backend | test("no fq"))'
else
	check "probe: fq here (tc says so), so the backend is edt (or rt on brcmfmac, etf with launch-time hardware)" \
		jq_check "$T/probe.json" 'if .driver_name == "brcmfmac" then .backend == "rt"
			elif .etf_offload and .etf and .so_txtime then .backend == "etf"
			elif .so_txtime or (.cls_bpf and .skb_set_tstamp and .mmapable_array) then .backend == "edt"
			else .backend == "rt" end'
fi
check "probe: its test veth pair lived in a throwaway namespace" \
	test "$(ip -o link | wc -l)" -eq "$links_before"
# where the kernel has clsact, the egress program must attach (no kernel BTF needed)
if jq -e .clsact "$T/probe.json" >/dev/null; then
	check "probe: the egress program attaches (clsact + cls_bpf)" jq_check "$T/probe.json" '.cls_bpf'
else
	skip "probe: egress attach" "this kernel has no clsact: $(jq -r .reasons.clsact "$T/probe.json")"
fi
check "cleanup with nothing to restore" "$TXPACE" cleanup
"$TXPACE" probe --calibrate --seconds 1 --json >"$T/cal.json" 2>"$T/cal.err"
check "probe --calibrate: rt measured over a throwaway veth pair, nothing lost" \
	jq_check "$T/cal.json" '.calibration[] | select(.name == "rt") | .ok and .receiver.packets == 1000 and .receiver.lost == 0'
if jq -e '.fq' "$T/cal.json" >/dev/null; then
	check "probe --calibrate: edt measured (fq here)" jq_check "$T/cal.json" '.calibration[] | select(.name == "edt (bpf)") | .ok'
else
	check "probe --calibrate: edt unavailable, the reason names fq" \
		jq_check "$T/cal.json" '.calibration[] | select(.name == "edt (bpf)") | (.ok | not) and (.why | test("no fq qdisc"))'
fi
for c in send measure demo probe cleanup list relay; do
	check "$c --help" bash -c "'$TXPACE' $c --help | grep -q '^usage: txpace $c'"
done
exit $FAILED
