#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install every build, test and runtime dependency of txpace from Debian's archive.
# Idempotent: when everything is present it only checks (no network, well under a second).
set -euo pipefail

PKGS=(
	# build
	make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev libmnl-dev
	libavformat-dev libavcodec-dev libavutil-dev libswresample-dev libssl-dev libavahi-client-dev
	libsodium-dev libplist-dev libcap-dev libclang-rt-14-dev
	# the guest kernel for fq/etf tests (scripts/guest.sh), and the ARM guests (--arch arm64,
	# armhf: their kernels and programs are downloaded into the cache, not installed)
	qemu-system-x86 qemu-system-arm busybox-static
	# the simulated Wi-Fi link in the guest (tests/guest/wifi.sh): an access point, a station
	hostapd wpasupplicant iw
	# runtime + tests
	iproute2 procps jq python3 rt-tests ffmpeg
	gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
	shairport-sync avahi-daemon dbus nftables linuxptp
	# test_aptp.sh: a second, independent PTP decoder (wireshark's dissector)
	tshark
	# least privilege (setcap, setpriv) and the AirPlay 2 test peer (ChaCha20-Poly1305, Ed25519)
	libcap2-bin util-linux python3-cryptography
	# cross builds for the Raspberry Pi (make cross), their unit tests under qemu-user
	gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user-static
	# packaging (make deb: debian/) and the install test (test_install.sh: a minimal tree made
	# with mmdebstrap, man -w, the completion under bash-completion, systemd-analyze verify)
	# (dpkg-buildpackage -a asks for build-essential and Build-Depends only: the cross compilers
	# above build the arm64 and armhf packages)
	build-essential debhelper dpkg-dev fakeroot lintian mmdebstrap man-db bash-completion systemd
)
# the libraries the cross builds link, from Debian's arm64 and armhf archives (multiarch)
CROSS_ARCHES=(arm64 armhf)
for a in "${CROSS_ARCHES[@]}"; do
	for p in libbpf-dev libelf-dev zlib1g-dev libmnl-dev libavformat-dev libavcodec-dev \
		 libavutil-dev libswresample-dev libssl-dev libavahi-client-dev libsodium-dev libplist-dev \
		 libcap-dev; do
		PKGS+=("$p:$a")
	done
done

missing=()
for p in "${PKGS[@]}"; do
	case "$p" in \#*) continue ;; esac
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages (${missing[*]}); run as root: sudo $0" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture: no (the tests run as root)
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
for a in "${CROSS_ARCHES[@]}"; do
	if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
		dpkg --add-architecture "$a"
		rm -f /tmp/txpace-apt.fresh	# the new architecture's package lists are needed
	fi
done
# apt-cache and install need a package list; refresh it once if it is missing or stale.
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/txpace-apt.log 2>&1; then
	apt-get update -q >>/tmp/txpace-apt.log 2>&1
	apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/txpace-apt.log 2>&1 || {
		echo "install-deps: apt-get failed, see /tmp/txpace-apt.log" >&2
		tail -n 20 /tmp/txpace-apt.log >&2
		exit 1
	}
fi
echo "install-deps: done" >&2
