#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# In Debian's full 6.1 kernel with an e1000e NIC (scripts/guest.sh run --nic e1000e, from
# tests/integration/test_guest_ptp_hw.sh): AirPlay 2's PTP master and the NIC's hardware TX
# timestamping. The driver says it has hardware TX stamps and a PHC; txpace turns TX
# timestamping on for the stream and back at the end, leaves it on when it was on already, and
# after kill -9 `txpace cleanup` turns it back. The configuration is read with linuxptp's
# hwstamp_ctl (SIOCGHWTSTAMP), not with txpace. Streams go to the AirPlay 2 test peers on the
# host side (10.0.2.2, ports 7000-7002).
# Prints: "HW WHEN TX_TYPE" (before, during, after, ...), "PHC ...", "AP2 NAME RC REPORT",
# "AP2-ERR NAME STDERR", "STATE WHEN FILES", "CLEANUP OUTPUT", and "DELIVERS hw H sw S of N"
# (tests/drivers/hwstamp_probe: whether the driver gives hardware TX stamps at all).
SOURCE=build/tests/guest-ptp.wav
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2
hw() { hwstamp_ctl -i eth0 2>/dev/null | sed -n 's/^tx_type //p' | head -n 1; }
# stream NAME PORT [send options...] (in the background: PID in $SPID)
stream() {
	local name=$1 port=$2
	shift 2
	$TXPACE send --quiet --profile airplay2 --timeout 5000 --pair-dir /tmp/pair \
		--report /tmp/ap2-$name.json "$@" 10.0.2.2:$port "$SOURCE" 2>/tmp/ap2-$name.err &
	SPID=$!
}
# during: poll the NIC's configuration until it is on or the sender has ended
during() {
	local i
	for i in $(seq 1 400); do
		[ "$(hw)" = 1 ] && { echo "HW during-$1 1"; return 0; }
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "HW during-$1 $(hw)"
}
finish() {
	wait "$SPID"
	local rc=$?
	echo "AP2-ERR $1 $(tr '\n' ' ' </tmp/ap2-$1.err)"
	echo "AP2 $1 $rc $(jq -c . /tmp/ap2-$1.json 2>/dev/null || echo '{}')"
}
echo "PHC $(ls /sys/class/net/eth0/device/ptp 2>/dev/null) $(phc_ctl eth0 get 2>&1 | grep -c 'clock time is')"
echo "HW before $(hw)"
# 1. off before: on for the stream (edt: the pacing journal and the PTP one side by side), off after
stream edt 7000 --backend edt
during edt
finish edt
echo "HW after-edt $(hw)"
echo "STATE after-edt $(ls /run/txpace 2>/dev/null | tr '\n' ' ')"
# 2. on already (as ptp4l -H leaves it): used, and left on
hwstamp_ctl -i eth0 -t 1 >/dev/null
echo "HW before-on $(hw)"
stream on 7001 --backend rt
finish on
echo "HW after-on $(hw)"
hwstamp_ctl -i eth0 -t 0 >/dev/null
# 3. kill -9 while it is on: still on; txpace cleanup turns it back
stream kill 7002 --backend rt
during kill
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
echo "HW killed $(hw)"
echo "STATE killed $(ls /run/txpace 2>/dev/null | tr '\n' ' ')"
echo "CLEANUP $($TXPACE cleanup eth0 2>&1 | tr '\n' ' ')"
echo "HW cleaned $(hw)"
echo "STATE cleaned $(ls /run/txpace 2>/dev/null | tr '\n' ' ')"
# 4. independently of txpace: does this driver deliver hardware TX stamps at all?
hwstamp_ctl -i eth0 -t 1 >/dev/null
echo "DELIVERS $(build/drivers/hwstamp_probe 10.0.2.2 4)"
hwstamp_ctl -i eth0 -t 0 >/dev/null
