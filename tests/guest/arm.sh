#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs inside an ARM guest (scripts/guest.sh --arch arm64|armhf run tests/guest/arm.sh): the
# cross-built txpace on Debian's arm64 kernel (BTF) or its 32-bit armmp kernel (no BTF, HZ=250,
# fq/etf/cls_bpf as modules, the BPF JIT off: the Raspberry Pi OS situation). The BPF objects
# load and attach; edt with fq and the egress program, --watch's driver hand-off times (the
# classic tracepoint, whose record has 4-byte pointers on a 32-bit kernel); etf in software mode;
# the exact restore of qdiscs, filters and pins, after an exit and after kill -9 + `txpace
# cleanup`. Under TCG time is good to milliseconds: the checks are invariants (none early, every
# packet stamped, handed over and received or reported), never microseconds.
set -u
FAILED=0
T=$(mktemp -d)
TXPACE=/build/txpace
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; FAILED=1; }
jqc() { # jqc NAME FILE EXPR
	if jq -e "$3" "$2" >/dev/null 2>&1; then pass "$1"; else
		fail "$1" "jq '$3' false"
		jq -c '{sent,early,dropped,txtime_missed,unstamped,complete,packets,lost,kernel}' "$2" 2>/dev/null | head -c 1200
		echo
		return 1
	fi
}
arch=$(uname -m)
btf=false
[ -e /sys/kernel/btf/vmlinux ] && btf=true
# the first network namespace's: a namespace of its own does not show net.core's BPF sysctls
jit=$(cat /proc/sys/net/core/bpf_jit_enable 2>/dev/null)
echo "kernel $(uname -r) ($arch), $(nproc) CPUs, kernel BTF $btf, bpf_jit_enable ${jit:-?}"

ip netns add tx && ip netns add rx &&
	ip link add v_tx netns tx type veth peer name v_rx netns rx &&
	ip -n tx addr add 192.168.67.1/24 dev v_tx && ip -n rx addr add 192.168.67.2/24 dev v_rx &&
	ip -n tx link set lo up && ip -n rx link set lo up &&
	ip -n tx link set v_tx up && ip -n rx link set v_rx up || { fail "veth pair"; exit 1; }
# the sender in tx's network namespace, with its sysfs (as ip netns exec gives it) but the
# guest's own bpffs (which ip netns exec would leave behind): its pins are visible here, and
# their removal is checked
TXNS=(nsenter --net=/run/netns/tx unshare -m sh -c 'mkdir -p /run/.bpffs &&
	mount --bind /sys/fs/bpf /run/.bpffs && mount -t sysfs sysfs /sys &&
	mount --move /run/.bpffs /sys/fs/bpf && exec "$@"' sh)
in_tx() { "${TXNS[@]}" "$@"; }
# (in the background: each step execs the next, so $! is the sender's own PID)
exec_tx() { exec "${TXNS[@]}" "$@"; }
snap() { ip netns exec tx tc qdisc show dev v_tx; ip netns exec tx tc filter show dev v_tx egress
	ls -R /sys/fs/bpf; ls /run/txpace 2>/dev/null; }
snap >"$T/before"
restored() { # restored NAME: qdiscs, filters, pins and journal as before
	snap >"$T/after"
	cmp -s "$T/before" "$T/after" && pass "$1: qdiscs, filters, pins and journal restored exactly" ||
		fail "$1: qdiscs, filters, pins and journal restored exactly" "$(diff "$T/before" "$T/after" | tail -n 3 | tr '\n' ' ')"
}

# measure NAME: the receiver in rx (its PID in $M), listening before the sender starts
measure() {
	ip netns exec rx $TXPACE measure --json --listen 0.0.0.0:5004 >"$T/$1.rx" 2>"$T/$1.rxerr" &
	M=$!
	for _ in $(seq 1 400); do
		ip netns exec rx cat /proc/net/udp | grep -q ':138C ' && return 0
		sleep 0.05
	done
	fail "$1: the receiver did not start"
}
endrx() { kill -INT $M; wait $M; }

# --- the BPF objects on this kernel
if /build/tests/test_bpf_egress >"$T/bpf.out" 2>&1; then
	pass "the egress program on canned packets, loaded without BTF ($(tail -n 1 "$T/bpf.out"))"
else
	fail "the egress program on canned packets" "$(tail -n 2 "$T/bpf.out" | tr '\n' ' ')"
fi
grep -v 'passed' "$T/bpf.out"
$TXPACE probe --json >"$T/probe.json" 2>"$T/probe.err" || fail "txpace probe --json" "$(tail -n 1 "$T/probe.err")"
jqc "probe: fq, clsact, cls_bpf (txpace's object attached), bpf_skb_set_tstamp and etf here" \
	"$T/probe.json" '.fq and .clsact and .cls_bpf and .skb_set_tstamp and .mmapable_array and .etf'
jqc "probe: kernel BTF $btf, as /sys/kernel/btf says" "$T/probe.json" ".btf == $btf"
jqc "probe: picks edt with the egress program" "$T/probe.json" '.backend == "edt" and .stamp == "bpf"'

# --- edt: root fq, the egress program stamping from the ring, --watch's hand-off times. The
# first packet is on time (--start-at, well after the set-up), so fq holds it while later ones
# pass tc egress: the classic tracepoint must find skb->data from such a packet too
n=2000
measure edt
at=$(( ${EPOCHREALTIME%.*} + 12 ))
in_tx $TXPACE send --quiet --backend edt --stamp bpf --watch --start-at $at \
	--seconds 2 --report "$T/edt.json" 192.168.67.2:5004 tone:440 2>"$T/edt.err"
rc=$?
took=$(( ${EPOCHREALTIME/./} - at * 1000000 ))	# us from the first launch to the end
endrx
[ $rc -eq 0 ] && pass "edt: exit 0" || fail "edt: exit $rc" "$(tail -n 1 "$T/edt.err")"
grep -v '^$' "$T/edt.err" | sed 's/^/  edt: /'
want_tp=tp_btf
[ "$btf" = true ] || want_tp=tracepoint
jqc "edt: root fq and the egress program with the hand-off program ($want_tp)" "$T/edt.json" \
	"(.kernel.setup | test(\"root fq\")) and (.kernel.setup | test(\"net_dev_start_xmit.*\\\\($want_tp\\\\)\"))"
jqc "edt: the egress program stamped all $n from the ring" "$T/edt.json" \
	".complete and .sent == $n and .kernel.stamped == $n and .kernel.no_slot == 0 and .unstamped == 0"
jqc "edt: no packet left before its launch time, SND stamps for (almost) all" "$T/edt.json" \
	".early == 0 and .stamps_us.snd.count >= $n * 0.99"
# the hand-off: counted for every packet, each at or after its launch (a hand-off before it
# counts as early), and within the run (a time read from the wrong place would not be)
jqc "edt: the hand-off program saw all $n reach the driver, none before its launch time" "$T/edt.json" \
	".kernel.xmit_seen == $n and .kernel.xmit_error_us.count >= $n * 0.99 and .early == 0"
jqc "edt: every hand-off within the stream ($((took / 1000)) ms from the first launch to the end)" "$T/edt.json" \
	".kernel.xmit_error_us.max < $took"
jqc "edt: the receiver got all $n, none lost or duplicated" "$T/edt.rx" \
	".packets == $n and .lost == 0 and .duplicates == 0" || cat "$T/edt.rxerr"
jq -r '"edt: hand-off - launch us: p50 \(.kernel.xmit_error_us.p50) p99 \(.kernel.xmit_error_us.p99) max \(.kernel.xmit_error_us.max); SND - launch p50 \(.stamps_us.snd.p50); recalibrations \(.kernel.xmit_recalibrations)"' "$T/edt.json"
restored "edt"

# where the kernel has BTF, the classic tracepoint too (the BTF-free path, a 64-bit record)
if [ "$btf" = true ]; then
	measure classic
	TXPACE_NO_BTF=1 in_tx $TXPACE send --quiet --backend edt --watch --seconds 1 \
		--report "$T/classic.json" 192.168.67.2:5004 tone:440 2>"$T/classic.err"
	rc=$?
	endrx
	jqc "classic tracepoint (TXPACE_NO_BTF=1): exit $rc; all 1000 stamped and handed over, none early" \
		"$T/classic.json" '(.kernel.setup | test("\\(tracepoint\\)")) and .complete and .kernel.stamped == 1000 and .kernel.xmit_seen == 1000 and .early == 0'
	jqc "classic tracepoint: the receiver got all 1000" "$T/classic.rx" '.packets == 1000 and .lost == 0'
	restored "classic tracepoint"
fi

# --- etf in software mode (a veth has no launch-time hardware) on CLOCK_TAI
measure etf
in_tx $TXPACE send --quiet --backend etf --etf-delta 20000 --seconds 2 --report "$T/etf.json" \
	192.168.67.2:5004 tone:440 2>"$T/etf.err"
rc=$?
endrx
[ $rc -eq 0 ] || [ -s "$T/etf.json" ] || fail "etf: exit $rc" "$(tail -n 1 "$T/etf.err")"
jqc "etf: software etf on CLOCK_TAI installed (exit $rc)" "$T/etf.json" '.kernel.setup | test("root etf CLOCK_TAI.*software")'
# (TCG can stall etf's watchdog beyond delta: a packet it then drops is reported, not hidden)
jqc "etf: every packet handed over or reported, none before its launch time" "$T/etf.json" \
	".sent + .dropped == $n and .early == 0"
jq -s ".[0].packets + .[1].dropped + .[1].txtime_missed == $n and .[0].duplicates == 0" \
	"$T/etf.rx" "$T/etf.json" | grep -q true && pass "etf: every packet arrived or was reported dropped by etf" ||
	fail "etf: every packet arrived or was reported dropped by etf" "$(jq -c '{packets,lost}' "$T/etf.rx")"
restored "etf"

# --- kill -9: the journal and the pins stay; `txpace cleanup` restores from them
exec_tx $TXPACE send --quiet --backend edt --watch 192.168.67.2:5004 tone:440 2>"$T/k9.err" &
S=$!
for _ in $(seq 1 400); do
	ip netns exec tx tc filter show dev v_tx egress | grep -q txp_egress && grep -q . /run/txpace/v_tx@*.state 2>/dev/null && break
	sleep 0.05
done
kill -9 $S
wait $S 2>/dev/null
pid=$(sed -n 's/^pid //p' /run/txpace/v_tx@*.state 2>/dev/null)
[ "$pid" = "$S" ] && ! kill -0 "$S" 2>/dev/null && pass "kill -9: the sender (pid $S, the journal's) is gone" ||
	fail "kill -9: the sender (pid $S, the journal's) is gone" "journal pid ${pid:-none}"
if ip netns exec tx tc qdisc show dev v_tx | grep -q '^qdisc fq 7470: root' &&
	ip netns exec tx tc filter show dev v_tx egress | grep -q txp_egress && ls -d /sys/fs/bpf/txpace/v_tx@* >/dev/null 2>&1; then
	pass "kill -9: fq, the filter and the pins are still there"
else
	fail "kill -9: fq, the filter and the pins are still there" "$(tail -n 1 "$T/k9.err")"
fi
in_tx $TXPACE cleanup >"$T/cleanup.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "filter removed" "$T/cleanup.out" && pass "kill -9 + cleanup: it says what it restored" ||
	fail "kill -9 + cleanup: it says what it restored" "rc $rc: $(tr "\n" " " <"$T/cleanup.out")"
restored "kill -9 + cleanup"

# a 32-bit kernel with its JIT turned on (Debian's armmp leaves it off): 6.1's 32-bit ARM JIT
# compiles no BPF atomics and the kernel then refuses the programs (ENOTSUPP, no fall-back to
# the interpreter). Where that happens, one line must say so and what to do; nothing changes.
if [ "$jit" = 0 ]; then
	echo 1 >/proc/sys/net/core/bpf_jit_enable
	in_tx $TXPACE send --quiet --backend edt --seconds 0.2 192.168.67.2:5004 tone:440 2>"$T/jit.err"
	rc=$?
	echo 0 >/proc/sys/net/core/bpf_jit_enable
	if [ $rc -eq 0 ]; then
		pass "JIT on: the programs load and the stream runs"
	elif [ "$(wc -l <"$T/jit.err")" -eq 1 ] && grep -q 'net.core.bpf_jit_enable=0' "$T/jit.err"; then
		pass "JIT on: refused in one line that names the JIT and bpf_jit_enable ($(cat "$T/jit.err"))"
	else
		fail "JIT on: a refusal names its reason in one line" "rc $rc: $(tr '\n' ' ' <"$T/jit.err")"
	fi
	restored "JIT on"
fi

echo "txpace probe:"
$TXPACE probe 2>&1 | sed 's/^/  /'
ip netns del tx
ip netns del rx
rm -rf "$T"
exit $FAILED
