#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The AirPlay 2 test peer (tests/peers/ap2_receiver.py) checked on its own, with no sender: its
# /info, pairing and fault replies, PTP acceptance rules, ALAC decoding path and encrypted RTSP
# framing (tests/peers/selftest_ap2_receiver.py; loopback only, 127.0.0.1-3).
. "$(dirname "$0")/lib.sh"

for b in python3 ffmpeg; do
	command -v "$b" >/dev/null || { fail "ap2 peer" "$b missing (scripts/install-deps.sh)"; exit 1; }
done
if ! python3 -c 'import cryptography.hazmat.primitives.ciphers.aead' 2>/dev/null; then
	fail "ap2 peer" "python3 cryptography missing (scripts/install-deps.sh: python3-cryptography)"
	exit 1
fi
python3 "$TOP/tests/peers/selftest_ap2_receiver.py" >"$T/selftest.out" 2>"$T/selftest.err"
rc=$?
grep -E '^(PASS|FAIL) ' "$T/selftest.out"
grep -q '^PASS ' "$T/selftest.out" || fail "ap2 peer self-test" "no result: $(tail -n 3 "$T/selftest.err")"
[ $rc -eq 0 ] || FAILED=1
exit $FAILED
