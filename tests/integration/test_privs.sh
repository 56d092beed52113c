#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Least privilege: a throw-away user runs a setcap'd copy of txpace (as txpace(8) PRIVILEGES and
# the package say) in the test's namespace, with /run/txpace and bpffs as the package and systemd
# give them (a directory the user may write, bpffs root's 0700). Checks: a stream works with the
# capabilities and, once set up, holds only the expected ones (every thread); without them one
# line names the missing capability, the exit status is 1 and nothing changed; a restore and
# `cleanup` work with CAP_NET_ADMIN kept permitted; run as root, the stream is reduced too.
. "$(dirname "$0")/lib.sh"
command -v setcap >/dev/null && command -v setpriv >/dev/null ||
	{ skip privs "setcap/setpriv missing (scripts/install-deps.sh installs them)"; exit 0; }

U="txpt$$"
privs_teardown() {
	teardown
	userdel "$U" 2>/dev/null
	getent group "$U" >/dev/null && groupdel "$U" 2>/dev/null
}
trap privs_teardown EXIT
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$U" ||
	{ fail privs "cannot create the user $U"; exit 1; }
make_pair || { fail "namespaces" "cannot create the veth pair"; exit 1; }

chmod 711 "$T"
mkdir -m 755 "$T/priv" && cp "$TXPACE" "$T/priv/txpace" && chmod 755 "$T/priv/txpace"
BIN=$T/priv/txpace
# the journal's directory, writable by the user (the package: /run/txpace root:txpace 2770)
mkdir -m 770 "$T/run" && chgrp "$U" "$T/run"
mkdir -p /run/txpace

# capability bits of <linux/capability.h>
NET_ADMIN=$((1 << 12)) IPC_LOCK=$((1 << 14)) SYS_ADMIN=$((1 << 21)) SYS_NICE=$((1 << 23))
DAC_OVERRIDE=$((1 << 1))

# as_user CAPS ARGS...: txpace ARGS as $U with file capabilities CAPS ("" = none) in the tx
# namespace, in a mount namespace of its own where /run/txpace is $T/run and bpffs is mounted
# root's 0700 (as systemd mounts it); PID in $BG when run with '&' by the caller
as_user() {
	local caps=$1
	shift
	if [ -n "$caps" ]; then setcap "$caps" "$BIN" || return 1; else setcap -r "$BIN" 2>/dev/null; fi
	ip netns exec "$NS_TX" env RUNDIR="$T/run" UU="$U" sh -c '
		mount -t bpf -o mode=0700 bpf /sys/fs/bpf && mount --bind "$RUNDIR" /run/txpace &&
		exec setpriv --reuid="$UU" --regid="$UU" --clear-groups -- "$@"' sh "$BIN" "$@"
}

# hexcap PID FIELD [TASK]: /proc/PID/status's FIELD as a number
hexcap() { echo $((16#$(awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"))); }

# threads_within PID PRM EFF: every thread's CapPrm within PRM and CapEff within EFF
threads_within() {
	local t p e ok=0
	for t in /proc/"$1"/task/*; do
		p=$((16#$(awk '$1 == "CapPrm:" { print $2 }' "$t/status")))
		e=$((16#$(awk '$1 == "CapEff:" { print $2 }' "$t/status")))
		if [ $((p & ~$2)) -ne 0 ] || [ $((e & ~$3)) -ne 0 ]; then
			echo "thread ${t##*/}: CapPrm $(printf %x $p) CapEff $(printf %x $e)" >&2
			ok=1
		fi
	done
	return $ok
}

tc_state() { ip netns exec "$NS_TX" sh -c 'tc qdisc show dev v_tx; tc filter show dev v_tx egress'; }
BEFORE=$(tc_state)
unchanged() {
	[ "$(tc_state)" = "$BEFORE" ] || { echo "qdiscs now: $(tc_state)" >&2; return 1; }
	[ -z "$(ls -A "$T/run")" ] || { echo "left in /run/txpace: $(ls "$T/run")" >&2; return 1; }
}

# stream NAME CAPS WHO ARGS...: a 3 s ramp to the receiver, as WHO (user or root), in the
# background; waits until packets flow (set-up is over); txpace's PID in $SP
stream() {
	local name=$1 caps=$2 who=$3
	shift 3
	flow_rx "$T/$name.rx" 5004
	RX=$BG
	wait_udp "$NS_RX" 5004 || return 1
	if [ "$who" = root ]; then
		in_tx "$TXPACE" send --quiet --seconds 3 --report "$T/$name.json" "$@" $RX4 ramp \
			2>"$T/$name.err" &
	else
		# (the report is written where the user may: its own directory)
		as_user "$caps" send --quiet --seconds 3 --report "/run/txpace/$name.json" "$@" \
			$RX4 ramp 2>"$T/$name.err" &
	fi
	SH=$!
	PIDS+=("$SH")
	wait_flowing "$T/$name.rx" || { echo "no packets: $(cat "$T/$name.err")" >&2; return 1; }
	# (the function runs in a subshell: txpace is its child, exec'd through setpriv)
	SP=$(pgrep -P "$SH" -x txpace)
	[ -n "$SP" ] || { echo "no txpace under $SH" >&2; return 1; }
}
# finish NAME: wait for the stream's exit status (0) and move its report where root reads it
finish() {
	local rc
	wait "$SH"
	rc=$?
	kill "$RX" 2>/dev/null; wait "$RX" 2>/dev/null
	[ -f "$T/run/$1.json" ] && mv "$T/run/$1.json" "$T/$1.json"
	[ $rc -eq 0 ] || { echo "exit $rc: $(cat "$T/$1.err")" >&2; return 1; }
}

# ---- rt as the user with CAP_SYS_NICE and CAP_IPC_LOCK ----
if stream rt_user cap_sys_nice,cap_ipc_lock+p user --backend rt; then
	prm=$(hexcap $SP CapPrm) eff=$(hexcap $SP CapEff)
	check "rt as $U: after set-up CapPrm = CapEff = CAP_IPC_LOCK (mlockall's MCL_FUTURE)" \
		test "$prm:$eff" = "$IPC_LOCK:$IPC_LOCK"
	check "rt as $U: every thread within CAP_IPC_LOCK (the pacer thread dropped CAP_SYS_NICE)" \
		threads_within $SP $IPC_LOCK $IPC_LOCK
	check "rt as $U: no new privileges, nothing inheritable or ambient" \
		test "$(awk '$1 == "NoNewPrivs:" { print $2 }' /proc/$SP/status):$(hexcap $SP CapInh):$(hexcap $SP CapAmb)" = 1:0:0
	if finish rt_user; then
		check "rt as $U: every packet left, SCHED_FIFO and locked memory" \
			jq_check "$T/rt_user.json" '.complete and .sent == 3000 and .realtime.sched_fifo
				and .cost.locked_kib > 0'
	else
		fail "rt as $U: the stream failed"
	fi
else
	fail "rt as $U: the stream did not start"
fi

# ---- the same user without capabilities: rt still runs (at normal priority, says so) ----
out=$(as_user "" send --quiet --seconds 0.2 --backend rt $RX4:9 ramp 2>&1 >/dev/null)
check "rt as $U without capabilities: says SCHED_FIFO is missing, changes nothing" \
	sh -c 'echo "$1" | grep -q "SCHED_FIFO" && [ -z "$(ls -A "$2")" ]' sh "$out" "$T/run"

# ---- refusals: one line naming the capability, exit 1, nothing changed ----
refused() {
	local name=$1 caps=$2 want=$3 out rc
	shift 3
	out=$(as_user "$caps" send --quiet --seconds 1 "$@" $RX4 ramp 2>&1 >/dev/null)
	rc=$?
	if [ $rc -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
		printf '%s' "$out" | grep -qF "$want" && unchanged; then
		pass "$name"
	else
		fail "$name" "exit $rc: $out"
	fi
}
refused "--watch as $U without CAP_NET_ADMIN: refused, names it" cap_sys_nice,cap_ipc_lock+p \
	"txpace: error: --watch needs CAP_NET_ADMIN (attach the egress program" --backend rt --watch
refused "edt as $U without capabilities: refused, names CAP_NET_ADMIN" "" \
	"txpace: error: the edt backend needs CAP_NET_ADMIN (" --backend edt
refused "edt as $U with only CAP_NET_ADMIN: refused, names CAP_BPF" cap_net_admin+p \
	"txpace: error: the edt backend needs CAP_BPF (load the egress program): run as root or \`setcap\` the binary (see txpace(8) PRIVILEGES)" \
	--backend edt
refused "--watch as $U without CAP_PERFMON: refused, names it" cap_net_admin,cap_bpf+p \
	"needs CAP_PERFMON (load and attach the driver hand-off tracepoint program)" --backend rt --watch
out=$(as_user "" cleanup 2>&1)
check "cleanup as $U without capabilities: refused, names CAP_NET_ADMIN" \
	sh -c '[ "$(printf "%s\n" "$1" | wc -l)" -eq 1 ] && echo "$1" | grep -q "cleanup needs CAP_NET_ADMIN"' sh "$out"

# ---- --watch (clsact + the egress program + watchdog) as the user: CAP_NET_ADMIN kept ----
WATCHCAPS=cap_net_admin,cap_bpf,cap_perfmon,cap_sys_nice,cap_ipc_lock+p
if [ "$(qdisc_works clsact)" != true ]; then
	skip "--watch as $U" "this kernel cannot create clsact"
elif stream watch_user $WATCHCAPS user --backend rt --watch; then
	prm=$(hexcap $SP CapPrm) eff=$(hexcap $SP CapEff)
	check "--watch as $U: after set-up CapPrm = NET_ADMIN + IPC_LOCK, CapEff = IPC_LOCK" \
		test "$prm:$eff" = "$((NET_ADMIN | IPC_LOCK)):$IPC_LOCK"
	check "--watch as $U: no thread has more (CAP_BPF, CAP_PERFMON, CAP_SYS_NICE gone)" \
		threads_within $SP $((NET_ADMIN | IPC_LOCK)) $IPC_LOCK
	check "--watch as $U: the egress filter is on while it runs" \
		sh -c 'tc -n "$1" filter show dev v_tx egress | grep -q txp_egress' sh "$NS_TX"
	if finish watch_user; then
		check "--watch as $U: every packet left; restored at exit (CAP_NET_ADMIN raised)" \
			sh -c 'jq -e ".complete and .sent == 3000" "$1" >/dev/null' sh "$T/watch_user.json"
		check "--watch as $U: qdiscs and filter as before, no journal left" unchanged
		check "--watch as $U: maps not pinned (bpffs is root's 0700), and it says so" \
			grep -q "maps not pinned" "$T/watch_user.err"
	else
		fail "--watch as $U: the stream failed"
		ip netns exec "$NS_TX" tc qdisc del dev v_tx clsact 2>/dev/null
	fi
	# kill -9, then `txpace cleanup` as the same user
	if stream watch_kill $WATCHCAPS user --backend rt --watch; then
		kill -9 $SP
		wait $SH 2>/dev/null
		kill "$RX" 2>/dev/null; wait "$RX" 2>/dev/null
		out=$(as_user $WATCHCAPS cleanup 2>&1)
		check "cleanup as $U after kill -9: says it restored the interface" \
			sh -c 'echo "$1" | grep -q ": restored" || { echo "$1" >&2; false; }' sh "$out"
		check "cleanup as $U after kill -9: qdiscs as before" unchanged
	else
		fail "--watch as $U (kill -9): the stream did not start"
	fi
	rm -f "$T/run/"*
fi

# ---- edt: root fq (not on this kernel: the guest runs it) ----
if [ "$(qdisc_works fq)" != true ]; then
	skip "edt as $U" "this kernel has no fq qdisc (the qemu guest's edt runs are tests/guest/)"
elif stream edt_user cap_net_admin,cap_bpf,cap_ipc_lock+p user --backend edt; then
	check "edt as $U: after set-up CapPrm = NET_ADMIN + IPC_LOCK, CapEff = IPC_LOCK" \
		test "$(hexcap $SP CapPrm):$(hexcap $SP CapEff)" = "$((NET_ADMIN | IPC_LOCK)):$IPC_LOCK"
	if finish edt_user; then pass "edt as $U: every packet left"; else fail "edt as $U: the stream"; fi
	check "edt as $U: qdiscs restored, no journal left" unchanged
fi

# (a receiver started by a non-interactive shell ignores SIGINT: stopped with SIGTERM)
# ---- as root: the stream is reduced after set-up too ----
if stream rt_root "" root --backend rt; then
	prm=$(hexcap $SP CapPrm) eff=$(hexcap $SP CapEff) bnd=$(hexcap $SP CapBnd)
	check "rt as root: after set-up CapPrm = CapEff = CAP_IPC_LOCK" \
		test "$prm:$eff" = "$IPC_LOCK:$IPC_LOCK"
	check "rt as root: every thread within CAP_IPC_LOCK" threads_within $SP $IPC_LOCK $IPC_LOCK
	check "rt as root: bounding set reduced (no CAP_SYS_ADMIN, no CAP_DAC_OVERRIDE)" \
		test $((bnd & (SYS_ADMIN | DAC_OVERRIDE))) -eq 0
	if finish rt_root && jq_check "$T/rt_root.json" '.complete and .sent == 3000'; then
		pass "rt as root: every packet left"
	else
		fail "rt as root: the stream"
	fi
else
	fail "rt as root: the stream did not start"
fi
exit $FAILED
