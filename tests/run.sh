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
for t in "$B"/tests/test_* "$B"/tests-san/test_* "$B"/tests-tsan/test_*; do
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

echo
[ ${#failures[@]} -gt 0 ] && printf 'failed: %s\n' "${failures[@]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
