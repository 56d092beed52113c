#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The layout's rules (CONTRIBUTING.md, "Where things go"), checked on the tree and on the built
# library: the library holds no CLI and writes to no stream of its own; each outside library
# is included by its one folder; no file or function grows past what a newcomer reads at once.
set -u
cd "$(dirname "$0")/../.."
B=${BUILD:-build}
LIB=$B/libtxpace.a
LIB_DIRS="core source encode proto profile pace kernel netlink measure"
fails=0

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1"; shift; [ $# -gt 0 ] && printf '        %s\n' "$@" | head -n 20; fails=$((fails + 1)); }
verdict() {	# verdict NAME OFFENDERS...: PASS when there are none
	local name=$1
	shift
	if [ $# -eq 0 ] || [ -z "$*" ]; then pass "$name"; else fail "$name" "$@"; fi
}

[ -f "$LIB" ] || { echo "FAIL layout: $LIB not built (make)"; exit 1; }

lib_srcs=()
for d in $LIB_DIRS; do
	[ -d "user/$d" ] || fail "layout: user/$d exists"
	lib_srcs+=(user/"$d"/*.c)
done

verdict "layout: no source file directly in user/ (one folder per stage)" \
	$(ls user/*.c 2>/dev/null)
verdict "layout: every folder under user/ is a stage the Makefile builds" \
	$(for d in user/*/; do d=${d%/}; d=${d#user/}; case " $LIB_DIRS cli " in *" $d "*) ;; *) echo "user/$d" ;; esac; done)

# the library: no subcommand, no CLI state, and no stream it was not given
syms=$(nm -A "$LIB" 2>/dev/null)
verdict "layout: libtxpace.a defines and uses no cmd_* and no cli_* symbol" \
	$(echo "$syms" | awk '$NF ~ /^(cmd_|cli_)/ { print $1 $NF }')
verdict "layout: libtxpace.a refers to no stdout, stderr, printf, puts or perror" \
	$(echo "$syms" | awk '$(NF-1) == "U" && $NF ~ /^(stdout|stderr|printf|puts|putchar|perror|vprintf)$/ { print $1 $NF }')
verdict "layout: no library source includes the CLI's headers" \
	$(grep -lE '#include "(cli|cmd|stream_opts|demo)\.h"' "${lib_srcs[@]}")

# each outside library through its one folder
only() {	# only PATTERN ALLOWED-REGEX: files under user/ or include/ including PATTERN outside ALLOWED
	grep -rlE "#include <$1" user include | grep -vE "$2" || true
}
verdict "layout: only user/netlink/ includes libmnl" $(only 'libmnl/' '^user/netlink/')
verdict "layout: only user/encode/crypto* includes libsodium or OpenSSL" \
	$(only '(sodium|openssl/)' '^user/encode/crypto')
verdict "layout: only user/source/ includes libavformat or libswresample" \
	$(only '(libavformat|libswresample)/' '^user/source/')
verdict "layout: only user/proto/ includes avahi" $(only 'avahi-' '^user/proto/')
verdict "layout: only user/proto/plist.c includes libplist" $(only 'plist/' '^user/proto/plist\.c$')
verdict "layout: only user/core/caps.c includes libcap" $(only 'sys/capability\.h' '^user/core/caps\.c$')

# sizes
verdict "layout: no file under user/ is over 700 lines" \
	$(wc -l user/*/*.c user/*/*.h | awk '$2 != "total" && $1 > 700 { print $2 ":" $1 }')
long=$(python3 - <<'PY'
import glob, re
for f in sorted(glob.glob('user/*/*.c')):
    name = start = None
    for i, l in enumerate(open(f).read().split('\n')):
        if start is None and re.match(r'^[A-Za-z_].*\(', l) and not l.endswith(';'):
            m = re.findall(r'(\w+)\s*\(', l)
            name, cand = (m[0] if m else l), i
        if l == '{' and name:
            start = cand
        if l == '}' and start is not None:
            if i - start + 1 > 100:
                print(f"{f}:{start + 1}:{name}:{i - start + 1}")
            name = start = None
PY
)
verdict "layout: no function under user/ is over 100 lines" $long
verdict "layout: CONTRIBUTING.md exists and names every folder" \
	$(for d in $LIB_DIRS cli; do grep -q "user/$d/" CONTRIBUTING.md || echo "user/$d/-missing"; done)
verdict "layout: README's Layout section names every folder" \
	$(for d in $LIB_DIRS cli; do sed -n '/^## Layout/,/^## /p' README.md | grep -qE "^ +$d/ " || echo "user/$d/-missing"; done)
exit $((fails > 0))
