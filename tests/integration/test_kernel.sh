#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Kernel pacing on this machine's kernel, in a network namespace: the egress program + the
# deadline watchdog (bpf_timer ABS) + the driver hand-off tracepoint on a real stream, a packet
# deliberately withheld, the control plane's journal and exact restore (exit, SIGTERM, kill -9 +
# `txpace cleanup`, a refused backend), and the per-interface lock. The edt/etf backends
# themselves run in the guest kernel (test_guest.sh): this kernel has no fq and no etf.
. "$(dirname "$0")/lib.sh"
make_pair || { fail "namespaces" "cannot create the veth pair"; exit 1; }

# bg_tx ERR COMMAND...: a sender in the tx namespace (ip execs it: $BG is its PID)
bg_tx() {
	local err=$1
	shift
	ip netns exec "$NS_TX" "$@" >/dev/null 2>"$err" &
	BG=$!
	PIDS+=("$BG")
}
# wait_filter: until txpace's egress filter is on v_tx (10 s at most)
wait_filter() {
	local i
	for i in $(seq 1 200); do
		in_tx tc filter show dev v_tx egress | grep -q txp_egress && return 0
		sleep 0.05
	done
	return 1
}
# wait_stamped PID OUT: until txpace PID's first packets went through the egress program (its
# pinned flows map, read with bpftool in its mount namespace, dumped to OUT; 5 s at most)
wait_stamped() {
	local i key
	for i in $(seq 1 100); do
		key=$(ls /run/txpace | sed -n 's/^\(v_tx@[0-9]*\)\.state$/\1/p' | head -n 1)
		nsenter -t "$1" -m bpftool -j map dump pinned "/sys/fs/bpf/txpace/$key/flows" >"$2" 2>&1
		jq -e '.[0].formatted.value.stamped > 0' "$2" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
snap() { in_tx tc qdisc show dev v_tx; in_tx tc filter show dev v_tx egress; in_tx tc filter show dev v_tx ingress; }
# (the .lock files stay by design: unlinking one races a process waiting to lock it)
state_files() { ls /run/txpace 2>/dev/null | grep -F "v_tx@" | grep "\.state$" ; }

if ! jq -e '.timer_abs and .cls_bpf' <(in_tx "$TXPACE" probe --json) >/dev/null; then
	# not txpace's word alone: BPF_F_TIMER_ABS is in every kernel from 6.4, and tc can attach
	# txpace's object where clsact is; a newer kernel that "lacks" them is a txpace bug
	IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
	if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "${kmin%%[!0-9]*}" -ge 4 ]; }; then
		fail "watchdog" "kernel $(uname -r) has BPF_F_TIMER_ABS, yet txpace probe says no: $(in_tx "$TXPACE" probe --json | jq -c '.reasons | {timer_abs, cls_bpf}')"
		exit 1
	fi
	skip "watchdog" "this kernel ($(uname -r)) has no bpf_timer BPF_F_TIMER_ABS or cls_bpf (txpace probe)"
	exit 0
fi

# someone else's clsact and filter are there before: txpace must leave them exactly as they are
in_tx tc qdisc add dev v_tx clsact
# (u32 with a classid, not 'action pass': that needs the gact module, which a kernel without
# modules lacks, and then the filter is not there and the comparison proves nothing)
in_tx tc filter add dev v_tx egress prio 5 protocol ip u32 match ip dport 9 0xffff classid 1:1 ||
	fail "someone else's filter" "tc could not add it"
check "someone else's u32 filter is there before txpace starts" \
	bash -c "ip netns exec $NS_TX tc filter show dev v_tx egress | grep -q 'u32'"
snap >"$T/before"

# a real stream (receiver listening), rt backend + --watch: every deadline checked, on time
flow_rx "$T/rx" 5004
wait_udp "$NS_RX" 5004
in_tx "$TXPACE" send --quiet --backend rt --watch --grace 20000 --seconds 2 \
	--report "$T/watch.json" $RX4:5004 tone:440 2>"$T/watch.err"
check "watch: the stream completed" jq_check "$T/watch.json" '.complete and .sent == 2000'
check "watch: the egress program stamped every packet" jq_check "$T/watch.json" '.kernel.stamped == 2000 and .kernel.no_slot == 0'
check "watch: the tracepoint saw every packet reach the driver" jq_check "$T/watch.json" '.kernel.xmit_seen == 2000 and .kernel.xmit_error_us.count >= 1900'
check "watch: the timer fired at every deadline and checked every packet" \
	jq_check "$T/watch.json" '.kernel.watch_checked == 2000 and .kernel.watch_on_time + .kernel.watch_missed == 2000 and .kernel.watch_on_time >= 1980'
# the timer's verdict and the tracepoint's hand-off times (read back from the ring) are two
# measurements: a miss must show as a hand-off later than the 20 ms grace, and none without one
check "watch: misses agree with the hand-off times (grace 20 ms)" \
	jq_check "$T/watch.json" 'if .kernel.watch_missed == 0 then .kernel.xmit_error_us.max <= 20100 else .kernel.xmit_error_us.max > 19900 end and .kernel.watch_events == .kernel.watch_missed'
# the driver hand-off and the SND stamp measure the same instant two ways
check "watch: hand-off (tracepoint) and SND stamp medians agree within 50 us" \
	jq_check "$T/watch.json" '((.kernel.xmit_error_us.p50 - .stamps_us.snd.p50) | fabs) < 50'
check "watch: exit restores clsact and filters exactly" cmp "$T/before" <(snap)
# the hand-off program: tp_btf (CO-RE) where the kernel has BTF, else the classic tracepoint
if [ -r /sys/kernel/btf/vmlinux ]; then
	check "watch: kernel BTF here, so the tp_btf hand-off program" jq_check "$T/watch.json" '.kernel.setup | test("net_dev_start_xmit \\(tp_btf\\)")'
else
	check "watch: no kernel BTF here, so the classic tracepoint" jq_check "$T/watch.json" '.kernel.setup | test("net_dev_start_xmit \\(tracepoint\\)")'
fi
# the classic tracepoint (what a kernel without BTF, the Pi's, uses) on this kernel too: it
# finds skb->data from the flow's own packets and must see every one of them
TXPACE_NO_BTF=1 in_tx "$TXPACE" send --quiet --backend rt --watch --grace 20000 --seconds 2 \
	--report "$T/watch-tp.json" $RX4:5004 tone:440 2>"$T/watch-tp.err"
check "watch, classic tracepoint: every packet seen reaching the driver" jq_check "$T/watch-tp.json" \
	'(.kernel.setup | test("net_dev_start_xmit \\(tracepoint\\)")) and .kernel.xmit_seen == 2000 and .kernel.watch_checked == 2000'
check "watch, classic tracepoint: restored exactly" cmp "$T/before" <(snap)
check "watch: no state file left" test -z "$(state_files)"

# one packet withheld: nftables drops the 501st in the output hook, before tc egress and the
# driver. The watchdog must count exactly that one missed, and say so.
printf 'table ip txpwithhold {\n chain out {\n  type filter hook output priority 0;\n  udp dport 5004 numgen inc mod 1000 500 drop\n }\n}\n' |
	in_tx nft -f - || fail "withheld: nft rule"
in_tx "$TXPACE" send --backend rt --watch --grace 20000 --seconds 1 \
	--report "$T/withheld.json" $RX4:5004 tone:440 >"$T/withheld.out" 2>&1
in_tx nft delete table ip txpwithhold
# (a VM stall can make another packet late too; only the withheld one never reaches tc)
check "withheld: the watchdog reported exactly one packet that never reached the egress program" \
	jq_check "$T/withheld.json" '.kernel.watch_events_unstamped == 1 and .kernel.watch_missed >= 1 and .kernel.watch_checked == 1000 and .kernel.watch_events == .kernel.watch_missed'
check "withheld: the one-line event names a packet that never reached the egress program" \
	grep -q 'had not reached the driver .* (never reached the egress program)' "$T/withheld.out"
check "withheld: the sender reports the refused send" jq_check "$T/withheld.json" '.send_errors == 1 and (.complete | not)'
check "withheld: restored exactly" cmp "$T/before" <(snap)

# SIGTERM, SIGHUP, SIGINT mid-stream: restored
for sig in TERM HUP INT; do
	bg_tx "$T/sig.err" "$TXPACE" send --quiet --backend rt --watch $RX4:5004 tone:440
	tx=$BG
	wait_filter
	check "sig$sig: the egress filter was attached while sending" bash -c "ip netns exec $NS_TX tc filter show dev v_tx egress | grep -q txp_egress"
	kill -$sig $tx
	wait $tx
	check "sig$sig: restored exactly" cmp "$T/before" <(snap)
	check "sig$sig: no state file left" test -z "$(state_files)"
done

# two processes on one interface: the second is refused with one line, the first unharmed
bg_tx "$T/first.err" "$TXPACE" send --quiet --backend rt --watch --seconds 3 --report "$T/first.json" $RX4:5004 tone:440
first=$BG
for i in $(seq 1 200); do [ -n "$(state_files | grep state)" ] && break; sleep 0.05; done
in_tx "$TXPACE" send --quiet --backend rt --watch --seconds 1 $RX4:5006 tone:440 2>"$T/second.err"
rc=$?
check "lock: the second txpace on the interface exits 1 with one line naming the first" \
	bash -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/second.err') -eq 1 ] && grep -q 'in use by another txpace (pid $first)' '$T/second.err'"
# a researcher's view while it runs: the pinned maps print with field names (BTF)
key=$(ls /run/txpace | sed -n 's/^\(v_tx@[0-9]*\)\.state$/\1/p' | head -n 1)
wait_stamped "$first" "$T/flows.json"
check "bpftool: the pinned flows map dumps with field names" jq -e '.[0].formatted.value.stamped > 0 and (.[0].formatted.value | has("correction_ns"))' "$T/flows.json"
nsenter -t "$first" -m bpftool -j map dump pinned "/sys/fs/bpf/txpace/$key/wstats" >"$T/wstats.json" 2>&1
check "bpftool: the watchdog's counters are readable by name" jq -e '.[0].formatted.value.checked > 0' "$T/wstats.json"
wait $first
check "lock: the first stream completed untouched" jq_check "$T/first.json" '.complete and .kernel.watch_checked == 3000'
check "lock: restored exactly" cmp "$T/before" <(snap)

# link down and up mid-stream: followed and said (packets meanwhile cannot leave: exit 1)
bg_tx "$T/link.err" "$TXPACE" send --backend rt --watch --seconds 3 $RX4:5004 tone:440
tx=$BG
wait_filter
in_tx ip link set v_tx down
for i in $(seq 1 100); do grep -q "went down" "$T/link.err" && break; sleep 0.05; done
in_tx ip link set v_tx up
wait $tx
check "link: down is reported" grep -q "v_tx went down" "$T/link.err"
check "link: up again is reported, with the setup checked" grep -q "v_tx is up again; the pacing setup survived" "$T/link.err"
check "link: restored exactly" cmp "$T/before" <(snap)

# kill -9: the journal stays; `txpace cleanup` restores from it
bg_tx /dev/null "$TXPACE" send --quiet --backend rt --watch $RX4:5004 tone:440
tx=$BG
wait_filter
kill -9 $tx
wait $tx 2>/dev/null
check "kill -9: the change is still there and journaled" bash -c "ip netns exec $NS_TX tc filter show dev v_tx egress | grep -q txp_egress && ls /run/txpace | grep -q 'v_tx@.*state'"
in_tx "$TXPACE" cleanup >"$T/cleanup.out"
check "kill -9 + cleanup: it says what it restored" grep -q "filter removed" "$T/cleanup.out"
check "kill -9 + cleanup: restored exactly" cmp "$T/before" <(snap)
check "kill -9 + cleanup: no state file left" test -z "$(state_files)"
in_tx "$TXPACE" cleanup >"$T/cleanup2.out"
check "cleanup again: nothing to restore" grep -q "nothing to restore" "$T/cleanup2.out"

# a configured root qdisc and no clsact: edt is refused (no fq here) and the root qdisc, which
# txpace had already journaled, comes back with its own handle and options
in_tx tc qdisc del dev v_tx clsact
in_tx tc qdisc add dev v_tx root handle 5: tbf rate 100mbit burst 32k latency 50ms
snap >"$T/before2"
if jq -e '.fq' <(in_tx "$TXPACE" probe --json) >/dev/null; then
	skip "edt refused" "this kernel has fq"
else
	in_tx "$TXPACE" send --quiet --backend edt --seconds 1 $RX4:5004 tone:440 2>"$T/edt.err"
	rc=$?
	check "edt refused: exit 1 with one line naming fq" \
		bash -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/edt.err') -eq 1 ] && grep -q 'no fq qdisc' '$T/edt.err'"
	check "edt refused: the tbf root qdisc is back exactly, nothing else changed" cmp "$T/before2" <(snap)
	check "edt refused: no state file left" test -z "$(state_files)"
fi

# a classful root with hand-made classes: refused before anything changes (the journal keeps
# qdiscs, not classes, so it could not be put back exactly)
in_tx tc qdisc del dev v_tx root
in_tx tc qdisc add dev v_tx root handle 1: htb default 10
in_tx tc class add dev v_tx parent 1: classid 1:10 htb rate 50mbit
snapc() { snap; in_tx tc class show dev v_tx; }
snapc >"$T/before-htb"
in_tx "$TXPACE" send --quiet --backend edt --seconds 1 $RX4:5004 tone:440 2>"$T/htb.err"
rc=$?
check "htb with classes: edt refused with one line naming it" \
	bash -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/htb.err') -eq 1 ] && grep -q 'htb qdisc with classes' '$T/htb.err'"
check "htb with classes: qdiscs and classes untouched" cmp "$T/before-htb" <(snapc)
check "htb with classes: no state file left" test -z "$(state_files)"
in_tx tc qdisc del dev v_tx root

# someone deletes txpace's clsact mid-stream: noticed within 2 s, re-attached, said, and the
# packets after it are stamped and watched again; the exit still restores exactly
snap >"$T/before3"
bg_tx "$T/reattach.err" "$TXPACE" send --backend rt --watch --grace 20000 --seconds 4 \
	--report "$T/reattach.json" $RX4:5004 tone:440
tx=$BG
wait_stamped "$tx" "$T/reattach-flows.json"	# packets flow: the removal makes a gap
in_tx tc qdisc del dev v_tx clsact
for i in $(seq 1 100); do grep -q "re-attached" "$T/reattach.err" && break; sleep 0.05; done
check "re-attach: the removal was noticed and said" grep -q "egress filter was removed from v_tx: re-attached" "$T/reattach.err"
check "re-attach: the filter is back while sending" bash -c "ip netns exec $NS_TX tc filter show dev v_tx egress | grep -q txp_egress"
wait $tx
check "re-attach: packets after it were stamped again" jq_check "$T/reattach.json" '.kernel.stamped >= 1500 and .kernel.stamped < 4000'
check "re-attach: restored exactly" cmp "$T/before3" <(snap)

# the classic tracepoint (no BTF) on a kernel that records net:net_dev_start_xmit differently
# (a 32-bit kernel: a 4-byte skbaddr,
# every later field 4 bytes earlier): --watch is refused with one line, nothing changes
# (the real file, read from a tracefs mounted in a mount namespace of the test's own)
unshare -m sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
	cat /sys/kernel/tracing/events/net/net_dev_start_xmit/format' >"$T/format32"
sed -i 's/skbaddr;\toffset:16;\tsize:8;/skbaddr;\toffset:16;\tsize:4;/' "$T/format32"
check "tracepoint layout: the altered format file says 4-byte skbaddr" grep -q 'skbaddr;.offset:16;.size:4;' "$T/format32"
TXPACE_NO_BTF=1 TXPACE_TP_FORMAT="$T/format32" in_tx "$TXPACE" send --quiet --backend rt --watch --seconds 1 \
	$RX4:5004 tone:440 2>"$T/tp32.err"
rc=$?
check "tracepoint layout differs: --watch refused with one line naming the field" \
	bash -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/tp32.err') -eq 1 ] && grep -q 'cannot --watch: .*skbaddr at offset 16 (4 bytes) here, txpace reads it at 16 (8 bytes)' '$T/tp32.err'"
check "tracepoint layout differs: nothing changed" cmp "$T/before3" <(snap)

# a second SIGINT while the first one's stop is under way: the handlers stay, so the restore
# still runs (it used to reset them to the default action and end the process unrestored)
bg_tx "$T/int2.err" "$TXPACE" send --quiet --backend rt --watch $RX4:5004 tone:440
tx=$BG
wait_filter
kill -INT $tx
kill -INT $tx
wait $tx
check "double SIGINT: restored exactly" cmp "$T/before3" <(snap)
check "double SIGINT: no state file left" test -z "$(state_files)"

# the host's mount namespace (nsenter --net, not ip netns exec, which gives the process a
# mount namespace of its own whose bpffs dies with it): the pins and the bpffs mount txpace
# makes are the host's, and the restore must take them away too
pins() { ls -R /sys/fs/bpf/txpace 2>/dev/null; grep -c ' /sys/fs/bpf bpf ' /proc/mounts; }
pins >"$T/pins-before"
ip netns add "$NS_TX-gone"
ip link add "g$$t" type veth peer name "g$$r"
ip link set "g$$t" netns "$NS_TX-gone" && ip link set "g$$r" netns "$NS_TX-gone"
ip -n "$NS_TX-gone" addr add 192.168.69.1/24 dev "g$$t"
ip -n "$NS_TX-gone" link set "g$$t" up && ip -n "$NS_TX-gone" link set "g$$r" up
nsenter --net=/run/netns/"$NS_TX-gone" "$TXPACE" send --quiet --backend rt --watch --seconds 1 \
	192.168.69.2:5004 tone:440 2>"$T/host-pins.err"
check "host mount namespace: pins and bpffs mount restored" cmp "$T/pins-before" <(pins)
# kill -9 there, then the namespace goes: its journal and pins are left in the host's /run and
# bpffs, and `txpace cleanup` (from the host's namespace) must remove them
nsenter --net=/run/netns/"$NS_TX-gone" "$TXPACE" send --quiet --backend rt --watch \
	192.168.69.2:5004 tone:440 2>/dev/null &
gone=$!
PIDS+=("$gone")
for i in $(seq 1 200); do ls /sys/fs/bpf/txpace/*/flows >/dev/null 2>&1 && break; sleep 0.05; done
check "vanished namespace: pins are there while it runs" bash -c 'ls /sys/fs/bpf/txpace/*/flows >/dev/null'
kill -9 $gone
wait $gone 2>/dev/null
ip netns del "$NS_TX-gone"
"$TXPACE" cleanup >"$T/gone.out" 2>&1
check "vanished namespace: cleanup says its pins are removed" grep -q "network namespace is gone; pinned maps" "$T/gone.out"
check "vanished namespace: no pins, no bpffs mount, no journal left" \
	bash -c "cmp -s '$T/pins-before' <(ls -R /sys/fs/bpf/txpace 2>/dev/null; grep -c ' /sys/fs/bpf bpf ' /proc/mounts) && ! ls /run/txpace/*.state 2>/dev/null | grep -q ."

# a full /run (a 4 KiB tmpfs, full, in a mount namespace of the test's own): the journal cannot
# be written, so txpace must change nothing, and say why in one line
unshare -m bash -c "mount -t tmpfs -o size=4k tmpfs /run/txpace &&
	(dd if=/dev/zero of=/run/txpace/fill bs=1k count=8 2>/dev/null; true) &&
	ip netns exec $NS_TX '$TXPACE' send --quiet --backend rt --watch --seconds 1 $RX4:5004 tone:440" \
	2>"$T/full.err"
rc=$?
check "full /run: exit 1 with one line naming the journal" \
	bash -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/full.err') -eq 1 ] && grep -q 'cannot write /run/txpace/.*nothing more is changed' '$T/full.err'"
check "full /run: nothing on the interface changed" cmp "$T/before3" <(snap)
exit $FAILED
