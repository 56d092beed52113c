#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every test: unit tests (plain, ASan+UBSan, TSan), fuzz targets briefly on their seed
# corpora, and the integration tests in network namespaces (root). Ends with the count line.
set -u
cd "$(dirname "$0")/.."
B=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
passed=0 failed=0 skipped=0
failures=()

ok() { passed=$((passed + 1)); printf '  ok    %s\n' "$1"; }
bad() { failed=$((failed + 1)); failures+=("$1"); printf '  FAIL  %s\n' "$1"; }
skip() { skipped=$((skipped + 1)); printf '  skip  %s: %s\n' "$1" "$2"; }

log=$(mktemp /tmp/txpace-test.XXXXXX)
trap 'rm -f "$log"' EXIT

echo "unit tests"
for t in "$B"/tests/test_* "$B"/san/tests/test_* "$B"/tests-tsan/test_*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	name=${t#"$B"/}
	"$t" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		ok "$name ($(tail -n 1 "$log" | sed 's/^[^:]*: //'))"
	elif [ $rc -eq 77 ]; then
		skip "$name" "$(tail -n 1 "$log" | sed 's/^[^:]*: //')"
	else
		bad "$name"
		tail -n 20 "$log" | sed 's/^/        /'
	fi
done

# The Raspberry Pi's architectures (make cross): every unit test but the BPF ones (those need
# a kernel: the ARM guests run them) under qemu-user, against Debian's arm64/armhf libraries.
for arch in arm64 armhf; do
	case $arch in arm64) q=qemu-aarch64-static ;; armhf) q=qemu-arm-static ;; esac
	ls "$B/$arch"/tests/test_* >/dev/null 2>&1 || continue
	echo "unit tests ($arch, under $q)"
	if ! command -v "$q" >/dev/null; then
		skip "$arch unit tests" "no $q (scripts/install-deps.sh installs qemu-user-static)"
		continue
	fi
	for t in "$B/$arch"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		case $t in *test_bpf_*) continue ;; esac
		name=$arch/$(basename "$t")
		"$q" "$t" >"$log" 2>&1
		rc=$?
		if [ $rc -eq 0 ]; then
			ok "$name ($(tail -n 1 "$log" | sed 's/^[^:]*: //'))"
		elif [ $rc -eq 77 ]; then
			skip "$name" "$(tail -n 1 "$log" | sed 's/^[^:]*: //')"
		else
			bad "$name"
			tail -n 20 "$log" | sed 's/^/        /'
		fi
	done
done

echo "fuzz targets (${FUZZ_SECONDS}s each, seed corpus copied)"
for f in "$B"/fuzz/fuzz_*; do
	[ -f "$f" ] && [ -x "$f" ] || continue
	name=$(basename "$f")
	work=$(mktemp -d /tmp/txpace-fuzz.XXXXXX)
	cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
	if "$f" -max_total_time="$FUZZ_SECONDS" -artifact_prefix="$work/" "$work" >"$log" 2>&1; then
		ok "$name ($(grep -o 'Done [0-9]* runs' "$log"))"
	else
		bad "$name"
		grep -E 'ERROR|SUMMARY|crash-|leak-|timeout-' "$log" | head -n 10 | sed 's/^/        /'
	fi
	rm -rf "$work"
done

echo "integration tests (network namespaces, real peers)"
for s in tests/integration/test_*.sh; do
	if [ "$(id -u)" -ne 0 ]; then
		skip "$(basename "$s")" "needs root for network namespaces"
		continue
	fi
	bash "$s" >"$log" 2>&1
	rc=$?
	while read -r verdict rest; do
		case $verdict in
		PASS) ok "$(basename "$s" .sh): $rest" ;;
		FAIL) bad "$(basename "$s" .sh): $rest" ;;
		SKIP) skip "$(basename "$s" .sh)" "$rest" ;;
		esac
	done < <(grep -E '^(PASS|FAIL|SKIP) ' "$log")
	if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
		bad "$(basename "$s") exited $rc"
	fi
	if [ $rc -ne 0 ] || grep -q '^FAIL ' "$log"; then
		grep -vE '^(PASS|SKIP) ' "$log" | tail -n 30 | sed 's/^/        /'
	fi
done

# the same tests against txpace built with ASan + UBSan: a sanitizer's report fails the script
# (reports go to files, not stderr, which some checks count lines of)
SAN_TESTS=${SAN_TESTS:-test_cli test_bad_input test_send_measure}
if [ -x "$B/san/txpace" ] && [ "$(id -u)" -eq 0 ]; then
	echo "integration tests against an ASan+UBSan txpace ($SAN_TESTS)"
	for n in $SAN_TESTS; do
		sd=$(mktemp -d /tmp/txpace-san.XXXXXX)
		TXPACE=$(cd "$B" && pwd)/san/txpace ASAN_OPTIONS="log_path=$sd/asan:detect_leaks=1:abort_on_error=0" \
			UBSAN_OPTIONS="log_path=$sd/ubsan:print_stacktrace=1:halt_on_error=1" \
			bash "tests/integration/$n.sh" >"$log" 2>&1
		rc=$?
		reports=$(cat "$sd"/* 2>/dev/null | grep -cE 'ERROR: (Address|Leak)Sanitizer|runtime error')
		if [ "$reports" -gt 0 ]; then
			bad "san: $n: $reports sanitizer reports"
			cat "$sd"/* | grep -E -A 6 'ERROR: |runtime error' | head -n 40 | sed 's/^/        /'
		elif [ $rc -ne 0 ] || grep -q '^FAIL ' "$log"; then
			bad "san: $n: checks failed under the sanitizers"
			grep -E '^FAIL ' "$log" | head -n 10 | sed 's/^/        /'
		else
			ok "san: $n ($(grep -c '^PASS ' "$log") checks, no sanitizer report)"
		fi
		rm -rf "$sd"
	done
fi

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
