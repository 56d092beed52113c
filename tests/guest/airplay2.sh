#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# In the 6.1 guest (scripts/guest.sh run --net, from tests/integration/test_guest_airplay2.sh):
# txpace --profile airplay2 over the guest's virtio NIC with each kernel backend, edt (root fq
# + the tc egress program, which finds the RTP seq at UDP payload offset 2 of the sealed
# packets) and etf (SO_TXTIME, software mode), to the AirPlay 2 test peers on the host side
# (10.0.2.2: slirp to the loopback of the test's namespace): edt to port 7000, etf to 7001.
# The NIC has one TX queue, so etf would be its root qdisc, which drops whatever carries no
# launch time (RTSP, PTP): txpace refuses that before it changes anything.
# It plays build/tests/guest-ap2.wav (put there by the test). Prints one "AP2 BACKEND RC REPORT" line per stream, then the
# qdiscs of eth0 after both (restored: what was there before).
SOURCE=build/tests/guest-ap2.wav
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
echo "QDISC-BEFORE $(tc qdisc show dev eth0 | sort | tr '\n' ';')"
port=7000
for b in edt etf; do
	extra=()
	[ $b = etf ] && extra=(--etf-delta 20000)	# TCG wake-ups are late by up to ms
	$TXPACE send --quiet --profile airplay2 --backend $b "${extra[@]}" --timeout 5000 \
		--pair-dir /tmp/pair --report /tmp/ap2-$b.json 10.0.2.2:$port "$SOURCE" 2>/tmp/ap2-$b.err
	rc=$?
	echo "AP2-ERR $b $(tr '\n' ' ' </tmp/ap2-$b.err)"
	echo "AP2-ERRLINES $b $(grep -c . /tmp/ap2-$b.err)"
	echo "AP2 $b $rc $(jq -c . /tmp/ap2-$b.json 2>/dev/null || echo '{}')"
	port=$((port + 1))
done
echo "QDISC-AFTER $(tc qdisc show dev eth0 | sort | tr '\n' ';')"
