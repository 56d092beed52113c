# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for the integration tests: a private veth pair between two network namespaces
# (names unique to this run), background peers tracked by PID, teardown in a trap.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TXPACE=${TXPACE:-$TOP/build/txpace}
T=$(mktemp -d /tmp/txpace-it.XXXXXX)
NS_TX="txp$$tx"
NS_RX="txp$$rx"
TX4=192.168.67.1 RX4=192.168.67.2 TX6=fd00:67::1 RX6=fd00:67::2
GROUP4=239.69.0.1 GROUP6=ff15::6701
PIDS=()
FAILED=0

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	ip netns del "$NS_TX" 2>/dev/null
	ip netns del "$NS_RX" 2>/dev/null
	ip netns del "$ST_NS" 2>/dev/null
	ip netns del "$AP_NS" 2>/dev/null
	if [ -s "$T/dbus.pid" ]; then
		kill "$(head -n 1 "$T/dbus.pid")" 2>/dev/null
		rm -f /run/dbus/pid /run/dbus/system_bus_socket
	fi
	rm -rf "$T"
}
trap teardown EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+: $2}"; FAILED=1; }
skip() { echo "SKIP $1: $2"; }
# check NAME COMMAND...: PASS when the command succeeds
check() {
	local name=$1
	shift
	if "$@"; then pass "$name"; else fail "$name"; fi
}

make_pair() {
	ip netns add "$NS_TX" && ip netns add "$NS_RX" || return 1
	ip link add "v$$t" type veth peer name "v$$r" || return 1
	ip link set "v$$t" netns "$NS_TX" && ip link set "v$$r" netns "$NS_RX"
	ip -n "$NS_TX" link set "v$$t" name v_tx && ip -n "$NS_RX" link set "v$$r" name v_rx
	ip -n "$NS_TX" addr add $TX4/24 dev v_tx && ip -n "$NS_RX" addr add $RX4/24 dev v_rx
	ip -n "$NS_TX" addr add $TX6/64 dev v_tx nodad && ip -n "$NS_RX" addr add $RX6/64 dev v_rx nodad
	local ns
	for ns in "$NS_TX" "$NS_RX"; do
		ip -n "$ns" link set lo up
	done
	ip -n "$NS_TX" link set v_tx up multicast on && ip -n "$NS_RX" link set v_rx up multicast on
	ip -n "$NS_TX" route add 224.0.0.0/4 dev v_tx && ip -n "$NS_RX" route add 224.0.0.0/4 dev v_rx
}

# qdisc_works QDISC [ARGS...]: can this kernel install QDISC (with ARGS) as a root qdisc? Checked
# with tc itself on a veth pair in a throwaway namespace, independently of txpace's own probe.
# clsact is asked for as "clsact" (not a root qdisc). Prints true or false.
qdisc_works() {
	local ns="txpq$$" ok=false
	ip netns add "$ns" 2>/dev/null || { echo false; return; }
	if ip -n "$ns" link add q0 type veth peer name q1 2>/dev/null; then
		if [ "$1" = clsact ]; then
			tc -n "$ns" qdisc add dev q0 clsact 2>/dev/null && ok=true
		else
			tc -n "$ns" qdisc add dev q0 root "$@" 2>/dev/null && ok=true
		fi
	fi
	ip netns del "$ns"
	echo $ok
}

in_tx() { ip netns exec "$NS_TX" "$@"; }
in_rx() { ip netns exec "$NS_RX" "$@"; }

# bg_rx OUT COMMAND...: start a peer in the rx namespace; its PID in $BG
bg_rx() {
	local out=$1
	shift
	ip netns exec "$NS_RX" "$@" >"$out" 2>"$out.err" &
	BG=$!
	PIDS+=("$BG")
}

# wait_udp NS PORT: until something is bound to UDP PORT in NS (10 s at most)
wait_udp() {
	local i
	for i in $(seq 1 200); do
		ip netns exec "$1" ss -Hlun "sport = :$2" | grep -q . && return 0
		sleep 0.05
	done
	echo "nothing listens on UDP $2 in $1" >&2
	return 1
}

# flow_rx OUT PORT [GROUP]: a plain receiver in the rx namespace that writes "flowing" to OUT
# once 300 packets have arrived and keeps receiving (so nothing bounces); its PID in $BG
flow_rx() {
	bg_rx "$1" python3 -u -c '
import socket, sys
port, group = int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((group or "0.0.0.0", port))
if group:
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 socket.inet_aton(group) + socket.inet_aton("'$RX4'"))
n = 0
while True:
    s.recv(65536); n += 1
    if n == 300: print("flowing", flush=True)' "${@:2}"
}

# wait_flowing OUT: until flow_rx has written "flowing" (10 s at most)
wait_flowing() {
	local i
	for i in $(seq 1 200); do
		grep -q flowing "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# wait_grep FILE PATTERN: until FILE has a line matching PATTERN (10 s at most)
wait_grep() {
	local i
	for i in $(seq 1 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no '$2' in $1 within 10 s" >&2
	return 1
}

# stop PID: SIGINT and wait for it to finish its output
stop() {
	kill -INT "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ramp_bytes BITS SAMPLES FILE: the ramp source's expected payload, computed independently
ramp_bytes() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
bits, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mask, nb = (1 << bits) - 1, bits // 8
with open(path, 'wb') as f:
    f.write(b''.join((i & mask).to_bytes(nb, 'big') for i in range(n)))
PY
}

# same_prefix REF OUT MAXTAIL: OUT starts with REF and has at most MAXTAIL zero bytes after it
same_prefix() {
	local ref=$1 out=$2 maxtail=$3 rs os
	rs=$(stat -c %s "$ref") os=$(stat -c %s "$out")
	if [ "$os" -lt "$rs" ] || [ $((os - rs)) -gt "$maxtail" ]; then
		echo "size: reference $rs, received $os (tail allowed $maxtail)" >&2
		return 1
	fi
	cmp -n "$rs" "$ref" "$out" >&2 || return 1
	[ "$os" -eq "$rs" ] || tail -c $((os - rs)) "$out" | cmp -n $((os - rs)) - /dev/zero >&2
}

jq_check() { jq -e "$2" "$1" >/dev/null || { echo "jq '$2' false for:" >&2; cat "$1" >&2; return 1; }; }

# AirPlay receiver: shairport-sync with avahi in a private namespace that has only loopback,
# so nothing is announced outside it. start_airplay NAME [extra general options]
# sets AP_NS, AP_OUT (the receiver's S16LE output) and AP_LOG.
AP_NS="txp$$ap"
# shairport_bin AIRPLAY1|AIRPLAY2: the shairport-sync on this machine that speaks that version
# (Debian's is AirPlay 1; an AirPlay 2 build, by hand, says "AirPlay2" in its -V)
shairport_bin() {
	local c
	for c in /usr/bin/shairport-sync $(type -ap shairport-sync); do
		[ -x "$c" ] || continue
		if "$c" -V 2>&1 | grep -q AirPlay2; then
			[ "$1" = AIRPLAY2 ] && { echo "$c"; return 0; }
		else
			[ "$1" = AIRPLAY1 ] && { echo "$c"; return 0; }
		fi
	done
	return 1
}
start_airplay() {
	local name=$1 extra=${2:-} i
	AP_OUT=$T/airplay.s16le AP_LOG=$T/airplay.log
	# a system bus that answers is used as it is; otherwise start one (clearing what a dead
	# one left behind: its pid file and socket block a new daemon)
	if ! python3 -c 'import socket; socket.socket(socket.AF_UNIX).connect("/run/dbus/system_bus_socket")' 2>/dev/null; then
		mkdir -p /run/dbus
		rm -f /run/dbus/pid /run/dbus/system_bus_socket
		dbus-daemon --system --fork --print-pid >"$T/dbus.pid" || return 1
	fi
	ip netns add "$AP_NS" && ip -n "$AP_NS" link set lo up || return 1
	ip netns exec "$AP_NS" avahi-daemon --no-drop-root --no-chroot -f /dev/null >"$T/avahi.log" 2>&1 &
	PIDS+=("$!")
	cat >"$T/rx.conf" <<CONF
general = { name = "$name"; port = 5000; output_backend = "stdout"; mdns_backend = "avahi";
            ignore_volume_control = "yes"; interpolation = "basic";
            resync_threshold_in_seconds = 0.0;
            audio_backend_buffer_desired_length_in_seconds = 0.2; $extra };
CONF
	for i in $(seq 1 100); do
		[ -S /run/avahi-daemon/socket ] && break
		sleep 0.05
	done
	: >"$AP_OUT"
	# append mode: a test truncates the output between sessions and it starts again at 0
	ip netns exec "$AP_NS" "$(shairport_bin AIRPLAY1)" -c "$T/rx.conf" -u -vv >>"$AP_OUT" 2>"$AP_LOG" &
	AP_PID=$!
	PIDS+=("$AP_PID")
	for i in $(seq 1 200); do
		ip netns exec "$AP_NS" ss -Hltn "sport = :5000" | grep -q . && return 0
		sleep 0.05
	done
	echo "shairport-sync did not start: $(tail -n 5 "$AP_LOG")" >&2
	return 1
}
in_ap() { ip netns exec "$AP_NS" "$@"; }

# add_stranger: put the AirPlay namespace on a network (AP_LAN4 on a veth) where another host,
# ST4 in its own namespace ST_NS, is neither the sender nor the receiver
ST_NS="txp$$st"
AP_LAN4=192.168.68.1 ST4=192.168.68.2
add_stranger() {
	ip netns add "$ST_NS" && ip -n "$ST_NS" link set lo up || return 1
	ip link add "v$$a" type veth peer name "v$$s" || return 1
	ip link set "v$$a" netns "$AP_NS" && ip link set "v$$s" netns "$ST_NS" || return 1
	ip -n "$AP_NS" addr add $AP_LAN4/24 dev "v$$a" && ip -n "$ST_NS" addr add $ST4/24 dev "v$$s" &&
		ip -n "$AP_NS" link set "v$$a" up && ip -n "$ST_NS" link set "v$$s" up
}
in_st() { ip netns exec "$ST_NS" "$@"; }

# raop_ports ERRFILE: "CONTROL TIMING", the ports a `txpace send --profile raop -v` bound, as it
# logs them to ERRFILE (10 s at most)
raop_ports() {
	local i p
	for i in $(seq 1 200); do
		p=$(sed -n 's/^raop: control port \([0-9]*\), timing port \([0-9]*\)$/\1 \2/p' "$1")
		[ -n "$p" ] && { echo "$p"; return 0; }
		sleep 0.05
	done
	echo "no control/timing ports in $1: $(tail -c 300 "$1")" >&2
	return 1
}

# wait_output BYTES: until the receiver's output holds BYTES (15 s at most)
wait_output() {
	local i
	for i in $(seq 1 300); do
		[ "$(stat -c %s "$AP_OUT")" -gt "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# airplay_exact REF OUT: the receiver's output holds REF (S16LE stereo) bit for bit from its
# 10th packet to its last sample (the receiver replaces the first 9 packets after a start with
# silence, and its lead-in silence carries +-1 LSB dither, so the audio is found by content)
airplay_exact() {
	python3 - "$1" "$2" <<'PY'
import sys
ref, out = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
part = ref[9 * 352 * 4:]
pos = out.find(part[:8192])
if pos < 0:
    sys.exit(f"the source's audio is not in the receiver's output ({len(out)} bytes)")
seg = out[pos:pos + len(part)]
if seg != part:
    i = next(i for i in range(0, min(len(seg), len(part)), 4) if seg[i:i + 4] != part[i:i + 4]) \
        if len(seg) == len(part) else len(seg)
    sys.exit(f"output differs from the source at frame {i // 4 + 9 * 352} of {len(ref) // 4}")
PY
}

# airplay_seek REF OUT [MIN_GAP_FRAMES]: the output holds REF from its 10th packet for a while, then
# silence (the FLUSH; at least MIN_GAP_FRAMES, 0.2 s by default), then a part of REF at least 10 s
# further on (the seek) that runs bit-exact to the end
airplay_seek() {
	python3 - "$1" "$2" "${3:-8820}" <<'PY'
import sys
ref, out = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
F, R, skip, min_gap = 4, 44100, 9 * 352, int(sys.argv[3])
# the sender ends with 63 packets (0.5 s) of silence, so a lost last packet can still be asked
# for; the receiver's output may end there or carry on with its own silence
end = len(out)
while end >= F and out[end - F:end] == bytes(F):
    end -= F
out = out[:end]
pos = out.find(ref[skip * F:skip * F + 8192])
if pos < 0:
    sys.exit("the start of the source is not in the output")
a = 0
while pos + (a + 1) * F <= len(out) and out[pos + a * F:pos + (a + 1) * F] == ref[(skip + a) * F:(skip + a + 1) * F]:
    a += 1
b = 0
while (b + 1) * F <= min(len(ref), len(out)) and out[len(out) - (b + 1) * F:len(out) - b * F] == ref[len(ref) - (b + 1) * F:len(ref) - b * F]:
    b += 1
gap_start, gap_end = pos // F + a, len(out) // F - b
gap = out[gap_start * F:gap_end * F]
quiet = all(abs(int.from_bytes(gap[i:i + 2], 'little', signed=True)) <= 1 for i in range(0, len(gap), 2))
jump = (len(ref) // F - b) - (skip + a)
print(f"played {a / R:.2f} s, silent {(gap_end - gap_start) / R:.2f} s, then {b / R:.2f} s to the end, "
      f"{jump / R:.2f} s further on in the source")
if a < R or b < R or gap_end - gap_start < min_gap or not quiet or not (10 * R <= jump <= 14 * R):
    sys.exit("not the expected play / silence / play-after-seek pattern")
PY
}

# private_run NS: a process in network namespace NS holding a mount namespace of its own whose
# /run/dbus, /run/avahi-daemon and /dev/shm (nqptp's shared memory) are empty: a system bus and an avahi-daemon started there
# (private_mdns) are this test's alone, whatever else runs on the machine. Sets PRIV (its PID);
# in_priv PID CMD... runs CMD inside. In the background, run `nsenter -F -t PID -m -n CMD... &`
# itself (not in_priv: a function in the background is a subshell, and $! would be its PID).
private_run() {
	ip netns exec "$1" unshare -m --propagation private sh -c \
		'mount -t tmpfs tmpfs /run/dbus && mkdir -p /run/avahi-daemon &&
		 mount -t tmpfs tmpfs /run/avahi-daemon && mount -t tmpfs tmpfs /dev/shm &&
		 echo ready && exec sleep 86400' \
		>"$T/priv.$1" 2>&1 &
	PRIV=$!
	PIDS+=("$PRIV")
	wait_grep "$T/priv.$1" ready
}
in_priv() { local p=$1; shift; nsenter -F -t "$p" -m -n "$@"; }
# private_mdns PID: a system bus and avahi-daemon in private_run PID's namespaces
private_mdns() {
	local p=$1 i
	in_priv "$p" dbus-daemon --system --fork --print-pid >"$T/dbus.$p" || return 1
	PIDS+=("$(head -n 1 "$T/dbus.$p")")
	nsenter -F -t "$p" -m -n avahi-daemon --no-drop-root --no-chroot -f /dev/null >"$T/avahi.$p" 2>&1 &
	PIDS+=("$!")
	for i in $(seq 1 100); do
		in_priv "$p" test -S /run/avahi-daemon/socket && return 0
		sleep 0.05
	done
	echo "avahi-daemon did not start: $(tail -n 3 "$T/avahi.$p")" >&2
	return 1
}

# start_airplay2 NAME: a real AirPlay 2 receiver (shairport_bin AIRPLAY2, with nqptp) in NS_RX and
# the sender's side in NS_TX (make_pair: RX4/TX4 on a veth; the PTP master and nqptp both bind
# UDP 319/320, so never one host), each with a private system bus and avahi-daemon. Sets RXP,
# TXP (in_priv them), AP2, AP2_OUT (the receiver's S16LE output, appended), AP2_LOG, AP2_PID,
# AP2_META (its metadata items: ap2_volumes lists the AirPlay volumes it set).
# restart_airplay2 starts the receiver again.
start_airplay2() {
	AP2=$(shairport_bin AIRPLAY2) || { echo "no AirPlay 2 shairport-sync" >&2; return 1; }
	make_pair || return 1
	private_run "$NS_RX" && RXP=$PRIV && private_mdns "$RXP" || return 1
	private_run "$NS_TX" && TXP=$PRIV && private_mdns "$TXP" || return 1
	AP2_OUT=$T/ap2.s16le AP2_LOG=$T/ap2.log AP2_META=$T/ap2.meta
	cat >"$T/ap2.conf" <<CONF
general = { name = "$1"; output_backend = "stdout"; mdns_backend = "avahi";
            ignore_volume_control = "yes"; interpolation = "basic";
            resync_threshold_in_seconds = 0.0;
            audio_backend_buffer_desired_length_in_seconds = 0.2; };
stdout = { output_rate = 44100; output_format = "S16_LE"; };
metadata = { enabled = "yes"; include_cover_art = "no"; pipe_name = "$AP2_META"; };
CONF
	: >"$AP2_META"	# a plain file: the receiver's "pipe" is opened O_NONBLOCK, so no reader
	nsenter -F -t "$RXP" -m -n nqptp >"$T/nqptp.log" 2>&1 &
	PIDS+=("$!")
	: >"$AP2_OUT"
	restart_airplay2
}
restart_airplay2() {
	local i n
	# it announces itself on mDNS after it listens; a SETUP before that aborts it (an assertion
	# in its avahi code), so wait for the announcement too
	n=$(grep -c "successfully added" "$AP2_LOG" 2>/dev/null)
	nsenter -F -t "$RXP" -m -n "$AP2" -c "$T/ap2.conf" -u ${AP2_VERBOSE:--vv} >>"$AP2_OUT" 2>>"$AP2_LOG" &
	AP2_PID=$!
	PIDS+=("$AP2_PID")
	for i in $(seq 1 200); do
		in_priv "$RXP" ss -Hltn "sport = :7000" | grep -q . &&
			[ "$(grep -c "successfully added" "$AP2_LOG")" -gt "${n:-0}" ] && return 0
		sleep 0.05
	done
	echo "the AirPlay 2 receiver did not start: $(tail -n 5 "$AP2_LOG")" >&2
	return 1
}
# ap2_volumes: the AirPlay volumes (dB) start_airplay2's receiver set, one a line, from its
# metadata ("ssnc" "pvol": airplay volume,output volume,lowest,highest); its log shows a volume
# only when it arrives before the player starts (debug 2), so that is no witness
ap2_volumes() {
	python3 - "$AP2_META" <<'PY'
import base64, re, sys
text = open(sys.argv[1], 'rb').read().decode('latin-1')
for m in re.finditer(r'<type>73736e63</type><code>70766f6c</code><length>\d+</length>\s*'
                     r'<data encoding="base64">\s*([A-Za-z0-9+/=\s]+?)\s*</data>', text):
    print(base64.b64decode(m.group(1)).decode().split(',')[0])
PY
}
# guest_prepare NAME [KERNEL]: scripts/guest.sh prepare, or end the test: a SKIP when there is
# no KERNEL (default: the 6.1 kernel) to boot (no network and nothing cached) or, with
# MISSING_MODULE_SKIPS=1, when it lacks a module asked for; else a FAIL with prepare's last line
guest_prepare() {
	local kernel=${2:-6.1 kernel}
	if ! "$TOP/scripts/guest.sh" prepare >"$T/prepare.log" 2>&1; then
		if grep -qE 'apt-get download|apt-cache names no' "$T/prepare.log"; then
			skip "$1" "no $kernel to boot: $(tail -n 1 "$T/prepare.log")"
			exit 0
		fi
		if [ "${MISSING_MODULE_SKIPS:-0}" = 1 ] && grep -q 'has no module' "$T/prepare.log"; then
			skip "$1" "$kernel: $(tail -n 1 "$T/prepare.log")"
			exit 0
		fi
		fail "$1: prepare${2:+ $2}" "$(tail -n 1 "$T/prepare.log")"
		exit 1
	fi
}
# full_guest_prepare NAME [PACKAGE]: Debian's full amd64 kernel for scripts/guest.sh (Wi-Fi,
# e1000e, netem: the cloud kernel has none), the package linux-image-amd64 depends on today (or
# PACKAGE, or the one cached in $TXPACE_GUEST_CACHE when apt names none), prepared with
# $TXPACE_GUEST_MODULES; exports TXPACE_GUEST_PACKAGE. Skips (exit 0) only when no such kernel
# can be had or it lacks a module asked for; fails (exit 1) otherwise.
full_guest_prepare() {
	local name=$1 pkg=${2:-}
	full_package() {
		apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: <\{0,1\}\(linux-image-[^>]*\)>\{0,1\}$/\1/p' | head -n 1
	}
	[ -n "$pkg" ] || pkg=$(full_package)
	if [ -z "$pkg" ]; then
		apt-get update -q >"$T/apt.log" 2>&1
		pkg=$(full_package)
	fi
	if [ -z "$pkg" ] && [ -f "$TXPACE_GUEST_CACHE/current/package" ]; then
		pkg=$(cat "$TXPACE_GUEST_CACHE/current/package")
	fi
	if [ -z "$pkg" ]; then
		skip "$name" "apt names no kernel for linux-image-amd64 (Debian's full kernel package) and none is cached in $TXPACE_GUEST_CACHE"
		exit 0
	fi
	export TXPACE_GUEST_PACKAGE=$pkg
	MISSING_MODULE_SKIPS=1 guest_prepare "$name" "$pkg"
}
# guest_source NAME SEED: 3 s of pink noise as $T/in.wav and its PCM $T/in.ref, and a copy
# under the repository, $SRC (build/tests/NAME.wav: the guest gets files there at the same
# relative path; its /tmp is a tmpfs), removed at exit
guest_source() {
	ffmpeg -v error -f lavfi -i "anoisesrc=d=3:c=pink:r=44100:a=0.3:seed=$2" -ac 2 -c:a pcm_s16le "$T/in.wav"
	ffmpeg -v error -i "$T/in.wav" -f s16le "$T/in.ref"
	SRC=$TOP/build/tests/$1.wav
	mkdir -p "$TOP/build/tests" && cp "$T/in.wav" "$SRC" && trap 'rm -f "$SRC"; teardown' EXIT
}
# guest_ap2_peers TEST NAME...: $NS_RX (created here, only its loopback: qemu's user-mode
# network reaches 127.0.0.1 there as 10.0.2.2) with a tests/peers/ap2_receiver.py --once per
# NAME on RTSP port 7000, 7001, ..., each writing $T/NAME.pcm, .sum and .peer. @return 1, with
# a FAIL for TEST, when the namespace or a peer does not start
guest_ap2_peers() {
	local test=$1 i=0 n
	shift
	ip netns add "$NS_RX" && ip -n "$NS_RX" link set lo up || { fail "$test" "no namespace"; return 1; }
	for n in "$@"; do
		ip netns exec "$NS_RX" python3 "$TOP/tests/peers/ap2_receiver.py" --once --bind 127.0.0.1 \
			--port $((7000 + i)) --ptp-bind 127.0.0.1 --ptp-event-port $((10319 + 2 * i)) \
			--ptp-general-port $((10320 + 2 * i)) --pcm "$T/$n.pcm" --summary "$T/$n.sum" \
			2>"$T/$n.peer" &
		PIDS+=("$!")
		wait_grep "$T/$n.peer" "listening on RTSP" || { fail "$test" "the $n peer did not start"; return 1; }
		i=$((i + 1))
	done
}
# ap2_exact REF OUT: OUT holds all of REF (S16LE stereo) bit for bit, found by content (the
# lead-in silence carries dither)
ap2_exact() {
	python3 - "$1" "$2" <<'PY'
import sys
ref, out = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
pos = out.find(ref[:8192])
if pos < 0:
    sys.exit(f"the source's start is not in the receiver's output ({len(out)} bytes)")
seg = out[pos:pos + len(ref)]
if seg != ref:
    i = next((i for i in range(0, min(len(seg), len(ref)), 4) if seg[i:i + 4] != ref[i:i + 4]),
             len(seg))
    sys.exit(f"output differs from the source at frame {i // 4} of {len(ref) // 4}")
PY
}
# peer_exact REF PCM [MAXTAIL]: PCM (a test peer's decoded output) is REF, bit for bit, then only
# silence (the sender ends with 63 packets, 0.5 s, of it, so that a lost last packet can still
# be asked for), at most MAXTAIL packets of 352 frames of it when given
peer_exact() {
	python3 - "$1" "$2" "${3:-0}" <<'PY'
import sys
ref, pcm = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
if pcm[:len(ref)] != ref:
    i = next((i for i in range(0, min(len(ref), len(pcm)), 4) if pcm[i:i + 4] != ref[i:i + 4]), len(pcm))
    sys.exit(f"differs from the source at frame {i // 4} of {len(ref) // 4}")
tail, most = pcm[len(ref):], int(sys.argv[3])
if tail.strip(b"\0"):
    sys.exit(f"{len(tail) // 4} frames after the source, not all silent")
if most and len(tail) > most * 352 * 4:
    sys.exit(f"{len(tail) // 4} frames after the source, more than {most} packets")
PY
}
# ap2_kill_midstream [send options...]: txpace send to start_airplay2's receiver, which is killed
# (-9) once it has played about 2 s; DIE_RC is the send's exit status, $T/die.err its stderr
# without -v's progress lines
ap2_kill_midstream() {
	local s i
	: >"$AP2_OUT"
	nsenter -F -t "$TXP" -m -n "$TXPACE" send --quiet "$@" 2>"$T/die.log" &
	s=$!
	PIDS+=("$s")
	for i in $(seq 1 300); do [ "$(stat -c %s "$AP2_OUT")" -gt 400000 ] && break; sleep 0.05; done
	kill -9 "$AP2_PID"
	wait "$s"
	DIE_RC=$?
	grep -v "^airplay2:\|^pair-setup\|^backend" "$T/die.log" >"$T/die.err"
}
# start_airplay1_beside NAME: Debian's AirPlay 1 shairport-sync in start_airplay2's receiver
# namespace (port 5000, its own avahi service), for comparisons over the same veth. AP1_OUT.
start_airplay1_beside() {
	local i
	AP1_OUT=$T/ap1.s16le
	cat >"$T/ap1.conf" <<CONF
general = { name = "$1"; port = 5000; output_backend = "stdout"; mdns_backend = "avahi";
            ignore_volume_control = "yes"; interpolation = "basic";
            resync_threshold_in_seconds = 0.0;
            audio_backend_buffer_desired_length_in_seconds = 0.2; };
CONF
	nsenter -F -t "$RXP" -m -n "$(shairport_bin AIRPLAY1)" -c "$T/ap1.conf" -u >>"$AP1_OUT" \
		2>"$T/ap1.log" &
	PIDS+=("$!")
	for i in $(seq 1 200); do
		in_priv "$RXP" ss -Hltn "sport = :5000" | grep -q . && return 0
		sleep 0.05
	done
	echo "the AirPlay 1 receiver did not start: $(tail -n 5 "$T/ap1.log")" >&2
	return 1
}
