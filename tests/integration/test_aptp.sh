#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2's PTP master (user/proto/aptp.c) toward a receiver across a veth pair: what arrives
# on UDP 319/320 is decoded from IEEE 1588 by ptp_rx.py (Announce first, Sync/Follow_Up pairs,
# the stamp inside the Sync's arrival window by the receiver's own SO_TIMESTAMPNS, rates, ports,
# EUI-64 identity), and by tshark's PTP dissector (no malformed packet). Then the errors: port
# taken (naming who holds it), no privilege. With nqptp installed, nqptp takes us as master.
. "$(dirname "$0")/lib.sh"
DRIVE=${APTP_DRIVE:-$TOP/build/drivers/aptp_drive}
RXPY=$TOP/tests/integration/ptp_rx.py
[ -x "$DRIVE" ] || { fail "aptp" "$DRIVE missing (make build-tests)"; exit 1; }
command -v tshark >/dev/null || { fail "aptp" "tshark missing (scripts/install-deps.sh)"; exit 1; }
make_pair || { fail "namespaces" "cannot create the veth pair"; exit 1; }
# has FILE PATTERN: grep, showing FILE when it does not match
has() { grep -q "$2" "$1" || { echo "no '$2' in:" >&2; cat "$1" >&2; return 1; }; }
MAC=$(ip -n "$NS_TX" -br link show v_tx | awk '{print $3}')

# run CLOCK SECONDS: the master toward the listener; leaves $T/CLOCK.{log,json,pcap}
run() {
	local clock=$1 secs=$2 cap
	bg_rx "$T/$clock.log" python3 -u "$RXPY" listen $RX4
	local rx=$BG
	wait_udp "$NS_RX" 320 || return 1
	ip netns exec "$NS_RX" tshark -q -n -i v_rx -w "$T/$clock.pcap" -f "udp port 319 or udp port 320" \
		>"$T/$clock.tshark" 2>&1 &
	cap=$!
	PIDS+=("$cap")
	# until tshark captures (it says so on stderr)
	wait_grep "$T/$clock.tshark" "Capturing on" || return 1
	in_tx "$DRIVE" $TX4 "$secs" "$clock" 0 $RX4 >"$T/$clock.json" 2>"$T/$clock.err"
	local rc=$?
	# the last Follow_Up is in the listener's log before it stops: the one count it must see
	local want i
	want=$(jq -r '.ptp.announces + .ptp.syncs + .ptp.follow_ups' "$T/$clock.json" 2>/dev/null)
	for i in $(seq 1 200); do
		[ "$(wc -l <"$T/$clock.log")" -ge "${want:-0}" ] && break
		sleep 0.05
	done
	kill -TERM "$rx" "$cap"
	wait "$rx" "$cap" 2>/dev/null
	return $rc
}

for clock in ${APTP_CLOCKS:-realtime mono}; do
	if run $clock 3.2; then
		pass "aptp: master ran ($clock)"
	else
		fail "aptp: master ran ($clock)" "$(tail -n 3 "$T/$clock.err")"
		continue
	fi
	python3 "$RXPY" check "$T/$clock.log" "$T/$clock.json" "$MAC" $clock | sed "s/^\(PASS\|FAIL\) ptp:/\1 aptp ($clock):/" \
		>"$T/$clock.check"
	cat "$T/$clock.check"
	grep -q '^FAIL' "$T/$clock.check" && FAILED=1
	# the second decoder: tshark's PTP dissector on the capture
	n_ptp=$(tshark -n -r "$T/$clock.pcap" -Y ptp 2>/dev/null | wc -l)
	n_all=$(tshark -n -r "$T/$clock.pcap" 2>/dev/null | wc -l)
	n_bad=$(tshark -n -r "$T/$clock.pcap" -Y '_ws.malformed || _ws.expert.severity >= "error"' 2>/dev/null | wc -l)
	if [ "$n_ptp" -gt 10 ] && [ "$n_ptp" = "$n_all" ] && [ "$n_bad" = 0 ]; then
		pass "aptp ($clock): tshark decodes $n_ptp PTP messages, none malformed"
	else
		fail "aptp ($clock): tshark" "$n_ptp PTP of $n_all, $n_bad malformed"
	fi
	n_fu=$(tshark -n -r "$T/$clock.pcap" -Y 'ptp.v2.messagetype == 0x8 && ptp.v2.flags.twostep == 0' 2>/dev/null | wc -l)
	n_sy=$(tshark -n -r "$T/$clock.pcap" -Y 'ptp.v2.messagetype == 0x0 && ptp.v2.flags.twostep == 1' 2>/dev/null | wc -l)
	check "aptp ($clock): tshark sees two-step Syncs and their Follow_Ups ($n_sy, $n_fu)" \
		test "$n_sy" -gt 10 -a "$n_fu" -ge $((n_sy - 1))
done

# the ports taken: a process holding 320 on the sender's address is named
in_tx python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 320))
import os; print("bound", os.getpid(), flush=True); time.sleep(60)' $TX4 >"$T/holder.out" 2>&1 &
HOLDER=$!
PIDS+=("$HOLDER")
wait_grep "$T/holder.out" bound
HOLDER_PID=$(awk '{print $2}' "$T/holder.out")
in_tx "$DRIVE" $TX4 0.2 mono 0 $RX4 >/dev/null 2>"$T/taken.err"
rc=$?
check "aptp: port taken gives one line naming the holder" \
	has "$T/taken.err" "UDP port 320 (PTP) is taken by python3 (pid $HOLDER_PID)"
check "aptp: port taken exits 1" test $rc = 1
kill "$HOLDER_PID" "$HOLDER"; wait "$HOLDER" 2>/dev/null

# no privilege: as nobody with no capabilities
in_tx setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all \
	"$DRIVE" $TX4 0.2 mono 0 $RX4 >/dev/null 2>"$T/priv.err"
rc=$?
check "aptp: unprivileged gives the CAP_NET_BIND_SERVICE line" \
	has "$T/priv.err" "needs root or CAP_NET_BIND_SERVICE"
check "aptp: unprivileged exits 1" test $rc = 1

# A real nqptp takes us as its master: its shared memory /nqptp (nqptp-shm-structures.h,
# version 10: u16 version, then {master_clock_id, local_time, local_to_master_time_offset,
# master_clock_start_time} as u64) names our clock identity, and its offset maps its local
# CLOCK_MONOTONIC_RAW onto our timescale (CLOCK_MONOTONIC here). nqptp runs in the receiver's
# namespace with a /dev/shm of its own (a private tmpfs in its own mount namespace), so it meets
# no other nqptp on this host; it is told the sender's address as shairport-sync does.
# read_shm PID: nqptp's shared memory as nqptp PID's mount namespace holds it -> shm_v shm_id shm_err
read_shm() {
	nsenter -t "$1" -m python3 - >"$T/shm.txt" 2>/dev/null <<'PY'
import mmap, struct, time
with open("/dev/shm/nqptp", "rb") as f:
    b = f.read(8 + 64)
mono, raw = time.clock_gettime_ns(time.CLOCK_MONOTONIC), time.clock_gettime_ns(time.CLOCK_MONOTONIC_RAW)
v = struct.unpack_from("<H", b, 0)[0]
mid, lt, off, st = struct.unpack_from("<QQQQ", b, 8)
print(v, "%016x" % mid, (raw + off - mono) % 2**64 if off else 0)
PY
	read -r shm_v shm_id shm_err <"$T/shm.txt" 2>/dev/null
}
within_5ms() {
	python3 -c 'import sys; e = int(sys.argv[1]); e = e - 2**64 if e >= 2**63 else e; sys.exit(abs(e) > 5000000)' "$1"
}
nqptp_check() {
	local nq i shm
	ip netns exec "$NS_RX" unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs /dev/shm && exec nqptp -v' >"$T/nqptp.log" 2>&1 &
	nq=$!
	PIDS+=("$nq")
	wait_udp "$NS_RX" 9000 || { fail "aptp: nqptp started" "$(tail -n 3 "$T/nqptp.log")"; return; }
	in_rx python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for m in ("/nqptp T " + sys.argv[1], "/nqptp B"):
    s.sendto(m.encode() + b"\0", ("127.0.0.1", 9000))' $TX4
	in_tx "$DRIVE" $TX4 4 mono 0 $RX4 >"$T/nq.json" 2>"$T/nq.err" &
	local drv=$!
	PIDS+=("$drv")
	# until nqptp's shared memory names a master (bounded: the driver runs 4 s)
	for i in $(seq 1 80); do
		read_shm "$nq"
		[ "${shm_id:-0000000000000000}" != 0000000000000000 ] && break
		sleep 0.05
	done
	local first_id=${shm_id:-}
	# the offset until nqptp has settled, while the master runs (its first samples are late:
	# it sleeps 150 ms in its wake-up Announces while our Follow_Ups queue)
	while kill -0 "$drv" 2>/dev/null; do
		read_shm "$nq"
		within_5ms "${shm_err:-99999999999}" && break
		sleep 0.05
	done
	wait "$drv"
	local our
	our=$(jq -r .ptp.clock_id "$T/nq.json")
	check "aptp: nqptp's shared memory is version 10 ($shm_v)" test "${shm_v:-}" = 10
	if [ "$first_id" = "$our" ] && [ "${shm_id:-}" = "$our" ]; then
		pass "aptp: nqptp takes our clock $our as master"
	else
		fail "aptp: nqptp takes our clock $our as master" "shm says ${shm_id:-nothing}; $(grep -i -m3 'grandmaster\|announce' "$T/nqptp.log")"
	fi
	# master time - our time, as nqptp sees it: within 5 ms (network delay and nqptp's wake-up)
	check "aptp: nqptp's offset puts its clock on our timescale (error $(python3 -c "import sys; e=int(sys.argv[1]); print(e - 2**64 if e >= 2**63 else e)" "${shm_err:-0}") ns)" \
		within_5ms "${shm_err:-99999999999}"
	check "aptp: nqptp's wake-up Announces reach us ($(jq .ptp.rx_ptp "$T/nq.json"))" \
		jq_check "$T/nq.json" '.ptp.rx_ptp >= 1 and .ptp.rx_bad == 0 and .ptp.rx_strangers == 0'
	kill "$nq"; wait "$nq" 2>/dev/null
}
if ! command -v nqptp >/dev/null; then
	skip "aptp: nqptp accepts the master" "nqptp is not installed (not in Debian; see TESTBED.md)"
else
	nqptp_check
fi
exit $FAILED
