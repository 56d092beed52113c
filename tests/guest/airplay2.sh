#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# In the 6.1 guest (scripts/guest.sh run --net --modules "act_nat cls_matchall", from
# tests/integration/test_guest_airplay2.sh): txpace --profile airplay2 with the kernel backends
# to the AirPlay 2 test peers on the host side (10.0.2.2: slirp to the loopback of the test's
# namespace). It plays build/tests/guest-ap2.wav (put there by the test).
#  - edt over the guest's virtio NIC (root fq + the tc egress program, which finds the RTP seq
#    at UDP payload offset 2 of the sealed packets), to port 7000;
#  - etf on that NIC, which has one TX queue: etf would be its root qdisc and drop whatever
#    carries no launch time (RTSP, PTP), so txpace refuses it, to port 7001;
#  - etf where the link has 4 TX queues (mqprio + etf on the last, the session's own traffic on
#    the others): from namespace tx over a veth with 4 queues, routed here to the NIC, whose tc
#    rewrites 192.168.70.2 to the guest's 10.0.2.15 and back (act_nat: slirp talks to its own
#    subnet only), to port 7002.
# Prints "AP2 NAME RC REPORT", "AP2-ERR NAME STDERR", "AP2-ERRLINES NAME N" per stream, and the
# qdiscs before and after: of eth0 and the 4-queue veth around the first two streams
# (QDISC-BEFORE/-AFTER), of the veth around the third (QDISC-MQ-BEFORE/-AFTER).
SOURCE=build/tests/guest-ap2.wav
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
ip netns add tx
ip link add mq_tx numtxqueues 4 type veth peer name mq_rx && ip link set mq_tx netns tx
ip -n tx addr add 192.168.70.2/24 dev mq_tx && ip -n tx link set mq_tx up && ip -n tx link set lo up
ip -n tx route add default via 192.168.70.1
ip addr add 192.168.70.1/24 dev mq_rx && ip link set mq_rx up
# stream NAME PORT NETNS|- [send options...]
stream() {
	local name=$1 port=$2 ns=$3 rc
	shift 3
	local in=()
	[ "$ns" = - ] || in=(ip netns exec "$ns")
	"${in[@]}" $TXPACE send --quiet --profile airplay2 --timeout 5000 --pair-dir /tmp/pair \
		--report /tmp/ap2-$name.json "$@" 10.0.2.2:$port "$SOURCE" 2>/tmp/ap2-$name.err
	rc=$?
	echo "AP2-ERR $name $(tr '\n' ' ' </tmp/ap2-$name.err)"
	echo "AP2-ERRLINES $name $(grep -c . /tmp/ap2-$name.err)"
	echo "AP2 $name $rc $(jq -c . /tmp/ap2-$name.json 2>/dev/null || echo '{}')"
}
qdiscs() { echo "$(tc qdisc show dev eth0 | sort | tr '\n' ';')|$(ip netns exec tx tc qdisc show dev mq_tx | sort | tr '\n' ';')"; }
echo "QDISC-BEFORE $(qdiscs)"
stream edt 7000 - --backend edt
# TCG wake-ups are late by up to milliseconds: a wide etf delta
stream etf 7001 - --backend etf --etf-delta 20000
echo "QDISC-AFTER $(qdiscs)"
# (the NIC's own connections end here: from now on what comes in for 10.0.2.15 goes to tx)
echo 1 >/proc/sys/net/ipv4/ip_forward
tc qdisc add dev eth0 clsact
tc filter add dev eth0 egress matchall action nat egress 192.168.70.2/32 10.0.2.15
tc filter add dev eth0 ingress matchall action nat ingress 10.0.2.15/32 192.168.70.2
echo "QDISC-MQ-BEFORE $(ip netns exec tx tc qdisc show dev mq_tx | sort | tr '\n' ';')"
stream etf-mq 7002 tx --backend etf --etf-delta 20000
echo "QDISC-MQ-AFTER $(ip netns exec tx tc qdisc show dev mq_tx | sort | tr '\n' ';')"
