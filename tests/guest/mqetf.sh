#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the 6.1 guest (see kernel.sh): etf on a multi-queue device, mqprio with etf on the
# last queue. A boot of its own: Debian's 6.1 kernel under TCG has soft-locked here once in
# several runs (CPU stuck in txpace's sendmsg), and a hang must not take kernel.sh's other
# checks with it (test_guest.sh says so, and retries this boot once).
set -u
FAILED=0
T=$(mktemp -d)
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; FAILED=1; }
jqc() { # jqc NAME FILE EXPR
	if jq -e "$3" "$2" >/dev/null 2>&1; then pass "$1"; else
		fail "$1" "jq '$3' false"; jq -c '{sent,early,dropped,txtime_invalid,txtime_missed,complete,kernel}' "$2" 2>/dev/null | head -c 900; echo
		return 1
	fi
}
TXPACE=/build/txpace

ip netns add tx && ip netns add rx &&
	ip -n tx link add mq_tx numtxqueues 4 type veth peer name mq_rx netns rx &&
	ip -n tx addr add 192.168.68.1/24 dev mq_tx && ip -n rx addr add 192.168.68.2/24 dev mq_rx &&
	ip -n tx link set lo up && ip -n rx link set lo up &&
	ip -n tx link set mq_tx up && ip -n rx link set mq_rx up || { fail "veth pair"; exit 1; }
mqsnap() { ip netns exec tx tc qdisc show dev mq_tx; }
mqsnap >"$T/mq-before"
ip netns exec rx $TXPACE measure --json --listen 0.0.0.0:5006 >"$T/mqe.rx" 2>/dev/null &
M=$!
for i in $(seq 1 200); do ip netns exec rx cat /proc/net/udp | grep -q ':138E ' && break; sleep 0.05; done
ip netns exec tx $TXPACE send --quiet --backend etf --etf-delta 20000 --seconds 1 --report "$T/mqe.json" \
	192.168.68.2:5006 tone:440 2>"$T/mqe.err"
kill -INT $M; wait $M
jqc "multi-queue etf: mqprio + etf, every packet handed over or reported, none early" "$T/mqe.json" \
	'(.kernel.setup | test("mqprio \\+ etf")) and .sent + .dropped == 1000 and .early == 0' ||
	tail -n 2 "$T/mqe.err"
# (not asserted yet: the receiver got 940 of 1000 with 5 gaps in one run while txpace reported
# nothing dropped; to be found out, see the issue 9 closing note)
jq -c '{packets, lost}' "$T/mqe.rx"
mqsnap | cmp -s "$T/mq-before" - && pass "multi-queue etf: restored exactly" || fail "multi-queue etf: restored exactly"
rm -rf "$T"
exit $FAILED
