#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Wi-Fi in the guest: Debian's full amd64 kernel (the package linux-image-amd64 depends on; the
# cloud kernel has no Wi-Fi), booted by scripts/guest.sh with mac80211_hwsim, and Debian's
# hostapd, wpa_supplicant and iw inside. tests/guest/wifi.sh runs there: two simulated radios,
# a WPA2 access point and a station, streams from the station with power save on before, probe's
# Wi-Fi facts, --backend auto's reason, kill -9 + txpace cleanup. Its PASS/FAIL lines are
# forwarded here as "wifi: ...". Skips, naming the package, only when the full kernel cannot be
# had (no package lists and nothing cached, or a kernel without mac80211_hwsim).
#
# Environment: TXPACE_WIFI_CACHE (default /var/cache/txpace-guest-full: scripts/guest.sh keeps
# one kernel per cache and removes the others, so not the cloud kernel's), TXPACE_WIFI_PACKAGE
# (a linux-image package instead of the one linux-image-amd64 depends on).
. "$(dirname "$0")/lib.sh"
GUEST=$TOP/scripts/guest.sh
export TXPACE_GUEST_CACHE=${TXPACE_WIFI_CACHE:-/var/cache/txpace-guest-full}
# the simulated radios; ccm and ctr for WPA2's CCMP (the kernel asks for "ccm(aes)", and the
# guest has no modprobe database to load them on demand)
export TXPACE_GUEST_MODULES="mac80211_hwsim ccm ctr"

if ! command -v qemu-system-x86_64 >/dev/null; then
	skip "wifi" "no qemu-system-x86_64 (package qemu-system-x86)"
	exit 0
fi
if [ ! -x /bin/busybox ]; then
	skip "wifi" "no /bin/busybox (package busybox-static)"
	exit 0
fi
extra=("$TXPACE")
for p in jq:jq hostapd:hostapd wpa_supplicant:wpasupplicant iw:iw; do
	if ! command -v "${p%%:*}" >/dev/null; then
		fail "wifi: ${p%%:*} on this machine" "package ${p#*:} (scripts/install-deps.sh installs it)"
		exit 1
	fi
	extra+=("$(command -v "${p%%:*}")")
done

start=$SECONDS
full_guest_prepare wifi "${TXPACE_WIFI_PACKAGE:-}"
pass "wifi: prepare ($(cat "$TXPACE_GUEST_CACHE/current/kernel"), $((SECONDS - start)) s)"

start=$SECONDS
"$GUEST" run --timeout 400 "$TOP/tests/guest/wifi.sh" "${extra[@]}" \
	>"$T/guest.log" 2>&1
rc=$?
took=$((SECONDS - start))
echo "wifi: the guest booted and ran tests/guest/wifi.sh in $took s (exit status $rc)"
while IFS= read -r line; do
	case $line in
	"PASS "* | "FAIL "* | "SKIP "*) echo "${line%% *} wifi: ${line#* }" ;;
	*) echo "$line" ;;
	esac
done <"$T/guest.log"
if [ $rc -eq 0 ]; then
	pass "wifi: boots and runs tests/guest/wifi.sh (${took} s)"
elif ! grep -q '^FAIL ' "$T/guest.log"; then
	fail "wifi: tests/guest/wifi.sh" "exit status $rc: $(tail -n 1 "$T/guest.log")"
fi
[ $rc -eq 0 ] || FAILED=1
exit $FAILED
