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

# the kernel package linux-image-amd64 names today, e.g. linux-image-6.1.0-57-amd64
full_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: <\{0,1\}\(linux-image-[^>]*\)>\{0,1\}$/\1/p' | head -n 1
}
pkg=${TXPACE_WIFI_PACKAGE:-$(full_package)}
if [ -z "$pkg" ]; then
	apt-get update -q >"$T/apt.log" 2>&1
	pkg=$(full_package)
fi
if [ -z "$pkg" ] && [ -f "$TXPACE_GUEST_CACHE/current/package" ]; then
	pkg=$(cat "$TXPACE_GUEST_CACHE/current/package")
fi
if [ -z "$pkg" ]; then
	skip "wifi" "apt names no kernel for linux-image-amd64 (Debian's full kernel package) and none is cached in $TXPACE_GUEST_CACHE"
	exit 0
fi
export TXPACE_GUEST_PACKAGE=$pkg
start=$SECONDS
if ! "$GUEST" prepare >"$T/prepare.log" 2>&1; then
	if grep -qE 'apt-get download|apt-cache names no' "$T/prepare.log"; then
		skip "wifi" "no $pkg to boot: $(tail -n 1 "$T/prepare.log")"
		exit 0
	fi
	if grep -q 'has no module mac80211_hwsim' "$T/prepare.log"; then
		skip "wifi" "$pkg has no mac80211_hwsim: $(tail -n 1 "$T/prepare.log")"
		exit 0
	fi
	fail "wifi: prepare $pkg" "$(tail -n 1 "$T/prepare.log")"
	exit 1
fi
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
