#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Raspberry Pi's architectures on real kernels: scripts/guest.sh boots Debian's arm64 kernel
# (qemu-system-aarch64 -M virt -cpu cortex-a53; it has BTF) and its 32-bit armmp kernel
# (qemu-system-arm -M virt; no BTF, HZ=250, the BPF JIT off: the Raspberry Pi OS situation) under
# TCG, with the cross-built txpace (make cross), and runs tests/guest/arm.sh in each: the BPF
# objects load and attach, edt with fq and --watch's hand-off times (a 32-bit tracepoint record
# on armhf), etf in software mode, the exact restore after an exit and after kill -9 + cleanup.
# Their PASS/FAIL/SKIP lines are forwarded as "ARCH guest: ...", with each boot's time.
. "$(dirname "$0")/lib.sh"
GUEST=$TOP/scripts/guest.sh

if [ ! -x /bin/busybox ]; then
	skip "arm guests" "no /bin/busybox (package busybox-static)"
	exit 0
fi
for arch in arm64 armhf; do
	case $arch in
	arm64) qemu=qemu-system-aarch64 meta=linux-image-arm64 ;;
	armhf) qemu=qemu-system-arm meta=linux-image-armmp ;;
	esac
	if ! command -v $qemu >/dev/null; then
		skip "$arch guest" "no $qemu (package qemu-system-arm)"
		continue
	fi
	if [ ! -x "$TOP/build/$arch/txpace" ] || [ ! -x "$TOP/build/$arch/tests/test_bpf_egress" ]; then
		fail "$arch guest" "no build/$arch/txpace or its BPF test: make cross"
		continue
	fi
	start=$SECONDS
	if ! "$GUEST" --arch $arch prepare >"$T/prepare.log" 2>&1; then
		# no network and nothing cached yet: nothing to boot
		if grep -qE 'apt-get download|apt-cache names no' "$T/prepare.log"; then
			skip "$arch guest" "no $meta:$arch kernel or programs to boot: $(tail -n 1 "$T/prepare.log")"
			continue
		fi
		fail "$arch guest: prepare" "$(tail -n 1 "$T/prepare.log")"
		continue
	fi
	kver=$(cat "${TXPACE_GUEST_CACHE:-/var/cache/txpace-guest}-$arch/current/kernel")
	pass "$arch guest: prepare (kernel $kver, $((SECONDS - start)) s)"
	start=$SECONDS
	"$GUEST" --arch $arch run --timeout 600 "$TOP/tests/guest/arm.sh" >"$T/guest.log" 2>&1
	rc=$?
	# (a soft lockup of the emulated kernel ends the boot at once: say so and boot once more)
	if [ $rc -ne 0 ] && grep -q 'soft lockup' "$T/guest.log"; then
		echo "$arch guest: the guest kernel soft-locked ($(grep -m1 'soft lockup' "$T/guest.log" | sed 's/^ *\[[^]]*\] //')): booting once more"
		"$GUEST" --arch $arch run --timeout 600 "$TOP/tests/guest/arm.sh" >"$T/guest.log" 2>&1
		rc=$?
	fi
	took=$((SECONDS - start))
	while IFS= read -r line; do
		case $line in
		"PASS "* | "FAIL "* | "SKIP "*) echo "${line%% *} $arch guest: ${line#* }" ;;
		*) echo "$line" ;;
		esac
	done <"$T/guest.log"
	if [ $rc -eq 0 ]; then
		pass "$arch guest: boots and runs tests/guest/arm.sh (${took} s)"
	elif ! grep -q '^FAIL ' "$T/guest.log"; then
		fail "$arch guest" "exit status $rc: $(tail -n 1 "$T/guest.log")"
	fi
	[ $rc -eq 0 ] || FAILED=1
done
exit $FAILED
