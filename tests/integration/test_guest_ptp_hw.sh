#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# AirPlay 2's PTP master on a NIC with hardware timestamping: Debian's full 6.1 kernel in the
# guest (the cloud kernel has no e1000e), booted with qemu's e1000e (scripts/guest.sh run --nic
# e1000e), whose driver registers a PHC and says it has hardware TX stamps. tests/guest/ptp_hw.sh
# streams to tests/peers/ap2_receiver.py on the host side and reads the NIC's timestamping
# configuration with linuxptp's hwstamp_ctl. Checked: txpace turns TX timestamping on for the
# stream and back off after it (no journal left), leaves it on where it was on, a kill -9
# leaves its journal and `txpace cleanup` turns it back; every Sync gets its Follow_Up, with the
# hardware stamp where the driver delivers them (tests/drivers/hwstamp_probe says whether it
# does, independently) and the software one where it does not (qemu 7.2's e1000e claims them
# and never delivers one: txpace says so and goes on with software stamps).
. "$(dirname "$0")/lib.sh"
GUEST=$TOP/scripts/guest.sh
export TXPACE_GUEST_CACHE=${TXPACE_WIFI_CACHE:-/var/cache/txpace-guest-full}
export TXPACE_GUEST_MODULES="e1000e"
N="ptp hw"

for b in qemu-system-x86_64 busybox jq ffmpeg hwstamp_ctl phc_ctl; do
	if ! command -v $b >/dev/null && [ ! -x /bin/$b ]; then
		fail "$N" "$b missing (scripts/install-deps.sh)"
		exit 1
	fi
done
[ -x "$TOP/build/drivers/hwstamp_probe" ] || { fail "$N" "build/drivers/hwstamp_probe missing (make)"; exit 1; }
python3 -c 'import cryptography' 2>/dev/null ||
	{ fail "$N" "python3-cryptography missing (scripts/install-deps.sh)"; exit 1; }
full_guest_prepare "$N"
guest_source guest-ptp 19
guest_ap2_peers "$N" edt on kill || exit 1
ip netns exec "$NS_RX" "$GUEST" run --nic e1000e --timeout 400 "$TOP/tests/guest/ptp_hw.sh" \
	"$TXPACE" "$(command -v jq)" "$(command -v hwstamp_ctl)" "$(command -v phc_ctl)" \
	"$TOP/build/drivers/hwstamp_probe" "$SRC" >"$T/guest.log" 2>&1
rc=$?
grep -q '^AP2 ' "$T/guest.log" ||
	{ fail "$N" "the guest ran no stream (exit $rc): $(tail -n 5 "$T/guest.log")"; exit 1; }
val() { grep "^$1 $2 " "$T/guest.log" | head -n 1 | cut -d' ' -f3-; }
report() { grep "^AP2 $1 " "$T/guest.log" | cut -d' ' -f4- >"$T/$1.json"; grep "^AP2 $1 " "$T/guest.log" | cut -d' ' -f3; }
delivers=$(grep '^DELIVERS ' "$T/guest.log" | cut -d' ' -f2-)
hw_n=$(echo "$delivers" | awk '{print $2}')
echo "$N: e1000e's driver, asked directly (tests/drivers/hwstamp_probe): $delivers"

check "the guest's e1000e has a PHC, readable ($(grep '^PHC ' "$T/guest.log"))" \
	grep -q '^PHC ptp[0-9]* 1$' "$T/guest.log"
check "TX timestamping is off before the first stream" test "$(val HW before)" = 0
check "txpace turned it on for the stream" test "$(val HW during-edt)" = 1
check "and back off after it, no journal left ($(val STATE after-edt))" \
	test "$(val HW after-edt)" = 0 -a -z "$(val STATE after-edt | tr -d ' ')"
if [ "$(report edt)" = 0 ]; then
	check "edt stream: the peer's output is the source, bit for bit" peer_exact "$T/in.ref" "$T/edt.pcm"
	check "edt stream: every packet sent, none early" \
		jq_check "$T/edt.json" '.complete and .sent == .packets and .early == 0 and .send_errors == 0'
	check "every Sync got its Follow_Up, each with the hardware or the software stamp or the time before it" \
		jq_check "$T/edt.json" '.airplay2.ptp as $p | $p.syncs > 8 and $p.follow_ups == $p.syncs and
			$p.stamps_hw + $p.stamps_sw + $p.stamps_missing == $p.follow_ups'
	if [ "${hw_n:-0}" -gt 0 ]; then
		check "the driver delivers hardware stamps: txpace used them ($(jq -c '.airplay2.ptp | {hw_stamps, stamps_hw, stamps_sw}' "$T/edt.json"))" \
			jq_check "$T/edt.json" '.airplay2.ptp.hw_stamps == "on" and .airplay2.ptp.stamps_hw > 0'
	else
		check "the driver delivers none: txpace gave up after 8 Syncs and went on with software stamps ($(jq -c '.airplay2.ptp | {hw_stamps, hw_missing, stamps_sw, stamps_missing}' "$T/edt.json"))" \
			jq_check "$T/edt.json" '.airplay2.ptp | .hw_stamps == "gave up" and .stamps_hw == 0 and
				.hw_missing == 8 and .stamps_sw >= .syncs - 8 and (.hw | test("eth0: gave no hardware TX stamp"))'
		check "and said so in one warning" grep -q "PTP: eth0: gave no hardware TX stamp for 8 Syncs" <<<"$(val AP2-ERR edt)"
	fi
else
	fail "edt stream" "exit $(report edt): $(val AP2-ERR edt)"
fi
check "on already (as ptp4l -H leaves it): used, and left on" \
	test "$(val HW before-on)" = 1 -a "$(val HW after-on)" = 1
if [ "$(report on)" = 0 ]; then
	check "on already: the report says so ($(jq -r '.airplay2.ptp.hw' "$T/on.json"))" \
		jq_check "$T/on.json" '.airplay2.ptp.hw | test("on already \\(left as it was\\)")'
else
	fail "on-already stream" "exit $(report on): $(val AP2-ERR on)"
fi
check "kill -9 while on: still on, its journal left ($(val STATE killed))" \
	test "$(val HW killed)" = 1 -a -n "$(val STATE killed | grep -E 'eth0(@[0-9]+)?\+ptp\.state')"
cleaned=$(grep '^CLEANUP ' "$T/guest.log" | cut -d' ' -f2-)
check "txpace cleanup turned it back off ($cleaned)" \
	test "$(val HW cleaned)" = 0 -a -z "$(val STATE cleaned | grep 'ptp')"
check "txpace cleanup said what it did" grep -q "hardware TX timestamping back off" <<<"$cleaned"
exit $FAILED
