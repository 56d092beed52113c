#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside the 6.1 guest (scripts/guest.sh run tests/guest/smoke.sh [/usr/bin/jq]): what the
# kernel-pacing tests need is there: bpffs, tracefs and the xmit tracepoint, network namespaces
# over a veth pair, root fq, etf, clsact with a cls_bpf filter, bpftool, and txpace's own probe
# says fq, etf, clsact and cls_bpf. Prints PASS/FAIL lines; exits 1 when anything failed.
set -u
FAILED=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; FAILED=1; }
# check NAME COMMAND...: PASS when the command succeeds, else FAIL with its last line of output
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "$(printf '%s' "$out" | tail -n 1)"
	fi
}

cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
echo "kernel $(uname -r), $(nproc) CPUs, clocksource $cs"
check "bpffs mounted on /sys/fs/bpf" grep -q '^bpf /sys/fs/bpf bpf ' /proc/mounts
check "tracefs: net/net_dev_start_xmit tracepoint" \
	test -d /sys/kernel/tracing/events/net/net_dev_start_xmit
for m in veth sch_fq sch_etf sch_ingress cls_bpf; do
	check "module $m loaded" grep -q "^$m " /proc/modules
done

# two namespaces joined by a veth pair, as the host tests do
ip netns add tx && ip netns add rx &&
	ip link add v_tx netns tx type veth peer name v_rx netns rx &&
	ip -n tx addr add 192.168.67.1/24 dev v_tx && ip -n rx addr add 192.168.67.2/24 dev v_rx &&
	ip -n tx link set lo up && ip -n rx link set lo up &&
	ip -n tx link set v_tx up && ip -n rx link set v_rx up
check "ip netns: a veth pair between two namespaces" ip netns exec tx ping -c 1 -W 5 192.168.67.2

check "root fq on a veth" ip netns exec tx tc qdisc add dev v_tx root fq
check "root fq shown" \
	bash -c "ip netns exec tx tc qdisc show dev v_tx | grep -q '^qdisc fq .* root'"
# etf takes no default clock ("Dynamic clockids are not supported" without one); delta is how
# long before its launch time a packet is handed to the device
check "root etf (clockid CLOCK_TAI delta 200000) on a veth" \
	ip netns exec rx tc qdisc replace dev v_rx root etf clockid CLOCK_TAI delta 200000
check "root etf shown" bash -c "ip netns exec rx tc qdisc show dev v_rx |
	grep -q '^qdisc etf .* root .*clockid TAI delta 200000'"
check "clsact on the fq device" ip netns exec tx tc qdisc add dev v_tx clsact
# a classic BPF "accept" program: cls_bpf itself, with no object file
check "cls_bpf egress filter" \
	ip netns exec tx tc filter add dev v_tx egress bpf bytecode '1,6 0 0 4294967295,'
check "cls_bpf filter shown" \
	bash -c "ip netns exec tx tc filter show dev v_tx egress | grep -q 'bpf .*bytecode'"
check "bpftool sees the tc filter" \
	bash -c "ip netns exec tx bpftool net show dev v_tx | grep -q 'v_tx.*egress'"
# etf drops every packet whose socket did not ask for SO_TXTIME: here the echo replies
if ip netns exec tx ping -c 1 -W 1 192.168.67.2 >/dev/null 2>&1; then
	fail "etf drops packets sent without SO_TXTIME" "a ping reply came back through etf"
else
	pass "etf drops packets sent without SO_TXTIME"
fi
ip netns exec rx tc qdisc del dev v_rx root
check "packets pass fq and the filter" ip netns exec tx ping -c 2 -i 0.2 -W 5 192.168.67.2
ip netns del tx
ip netns del rx

check "txpace --help" bash -c "txpace --help | grep -q '^usage: txpace'"
if txpace probe --json >/tmp/probe.json 2>/tmp/probe.err; then
	pass "txpace probe --json"
	echo "txpace probe --json:"
	cat /tmp/probe.json
	for k in fq etf clsact cls_bpf; do
		if command -v jq >/dev/null; then
			ok=$(jq -r ".$k" /tmp/probe.json)
		else
			ok=$(sed -n "s/^ *\"$k\": *\([a-z]*\),*\$/\1/p" /tmp/probe.json)
		fi
		if [ "$ok" = true ]; then
			pass "txpace probe: $k"
		else
			why=$(sed -n "s/^ *\"$k\": *\"\(.*\)\",*\$/\1/p" /tmp/probe.json)
			fail "txpace probe: $k" "$ok: $why"
		fi
	done
else
	fail "txpace probe --json" "$(tail -n 1 /tmp/probe.err)"
fi
exit $FAILED
