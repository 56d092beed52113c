#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install and package. `make install` (PREFIX, DESTDIR) lays out exactly what it should and the
# library builds a program through txpace.pc; txpace(8) and the bash completion name every
# option that each subcommand's --help shows (the never-drifts check: all three come from the
# same tables); the systemd unit passes systemd-analyze and hands its conf's arguments over
# intact; lintian finds no error in the .debs; and the .deb (built by build-tests: make
# deb-ARCH) installs with apt into a clean minimal Debian tree (mmdebstrap from the archive,
# cached in /var/cache/txpace-install like the guest kernel), where txpace --version, txpace
# probe and man -w txpace work from the installed files.
. "$(dirname "$0")/lib.sh"
cd "$TOP" || exit 1
B=${BUILD:-build}
VERSION=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
ARCH=$(dpkg --print-architecture)
CACHE=${TXPACE_INSTALL_CACHE:-/var/cache/txpace-install}

# --- make install ------------------------------------------------------------------------
# expected PREFIX: the files make install must lay out under PREFIX, one a line, sorted
expected() {
	local p=$1 h
	printf '%s\n' "$p/bin/txpace" "$p/share/man/man8/txpace.8" \
		"$p/share/bash-completion/completions/txpace" "$p/lib/systemd/system/txpace@.service" \
		"$p/share/doc/txpace/examples/stream.conf" "$p/lib/libtxpace.a" \
		"$p/lib/pkgconfig/txpace.pc" "$p/include/txpace_abi.h"
	for h in include/txpace/*.h; do
		echo "$p/include/txpace/${h##*/}"
	done | sort
}
# installed DESTDIR: every file under DESTDIR, as its path after DESTDIR
installed() { (cd "$1" && find . ! -type d | sed 's|^\.||' | sort); }

D1=$T/dest-default D2=$T/dest-opt
make -s --no-print-directory install DESTDIR="$D1" >"$T/install1.log" 2>&1 &&
	make -s --no-print-directory install DESTDIR="$D2" PREFIX=/opt/txpace >"$T/install2.log" 2>&1
rc=$?
check "make install: exit status 0" test $rc -eq 0
check "make install DESTDIR=D: exactly the tool, txpace(8), the completion, the unit, the example, libtxpace.a, txpace.pc and the headers, under /usr/local" \
	diff <(expected /usr/local | sort) <(installed "$D1")
check "make install PREFIX=/opt/txpace: the same files under /opt/txpace, nothing else" \
	diff <(expected /opt/txpace | sort) <(installed "$D2")
check "make install PREFIX=/opt/txpace: the unit runs /opt/txpace/bin/txpace, txpace.pc has prefix=/opt/txpace" \
	bash -c "grep -q \"exec /opt/txpace/bin/txpace \" '$D2/opt/txpace/lib/systemd/system/txpace@.service' &&
		grep -qx 'prefix=/opt/txpace' '$D2/opt/txpace/lib/pkgconfig/txpace.pc' &&
		grep -qx 'Version: $VERSION' '$D2/opt/txpace/lib/pkgconfig/txpace.pc'"
check "make install: the installed txpace is the built one, and says version $VERSION" \
	bash -c "cmp '$D1/usr/local/bin/txpace' '$B/txpace' && test \"\$('$D1/usr/local/bin/txpace' --version)\" = 'txpace $VERSION'"

# a program on the installed library alone: every public header, and symbols that pull in the
# pipeline (sources, kernel, netlink, crypto, avahi) so that txpace.pc's Requires must be right
{
	for h in include/txpace/*.h; do echo "#include <txpace/${h##*/}>"; done
	cat <<'C'
#include <txpace_abi.h>
#include <inttypes.h>
#include <stdio.h>
int main(void)
{
	struct stream *(*volatile open)(const struct stream_cfg *, char *, size_t) = stream_open;
	struct stream_cfg cfg;
	uint64_t r;

	stream_cfg_init(&cfg);
	if (mul_div_u64(3000000000ULL, 3000000000ULL, 7, &r) != 1285714285714285714ULL || r != 2)
		return 1;
	printf("linked %d\n", open != NULL);
	return 0;
}
C
} >"$T/prog.c"
pc="env PKG_CONFIG_PATH=$D1/usr/local/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D1 pkg-config"
check "txpace.pc: a program including every public header builds and links against the installed libtxpace.a" \
	bash -c "cc -std=gnu11 -Wall -Werror -o '$T/prog' '$T/prog.c' \$($pc --cflags --libs txpace) &&
		test \"\$('$T/prog')\" = 'linked 1'"

# --- txpace(8) and the completion follow the option tables --------------------------------
TX=$D1/usr/local/bin/txpace
MAN=$D1/usr/local/share/man/man8/txpace.8
cmds=$("$TX" --help | awk '/^  [a-z]/ { print $1 }')
check "txpace --help lists the subcommands" test "$(echo "$cmds" | wc -w)" -ge 7
# opt_rows help|man CMD: a line per option of CMD, "-k, --name ARG<TAB>its help line", as its
# --help prints them, or as its section of the man page (.SS "txpace CMD ...") says them
opt_rows() {
	python3 - "$1" "$2" "$TX" "$MAN" <<'PY'
import re, subprocess, sys
src, cmd, tx, man = sys.argv[1:]
def plain(s):	# roff to text: fonts, \& and the escaped minus and backslash
	return re.sub(r'\\f[BIR]|\\&', '', s).replace('\\-', '-').replace('\\e', '\\')
rows = []
if src == 'help':
	out = subprocess.run([tx, cmd, '--help'], capture_output=True, text=True).stdout
	for l in out.splitlines():
		m = re.match(r'^  (?:(-\S), |    )(--[a-z0-9-]+)(?: (\S+))? +(.*)$', l)
		if m:
			rows.append(((m[1] + ', ' if m[1] else '') + m[2] + (' ' + m[3] if m[3] else ''), m[4]))
else:
	lines, on = open(man).read().split('\n'), False
	for i, l in enumerate(lines):
		if l.startswith('.SH') or l.startswith('.SS'):
			on = l.startswith('.SS "txpace %s ' % cmd)
		elif on and l == '.TP' and lines[i + 1].startswith('\\fB\\-'):
			rows.append((plain(lines[i + 1]), plain(lines[i + 2])))
for r in rows:
	print('%s\t%s' % r)
PY
}
export -f opt_rows
export TX MAN
long_names() { cut -f1 | grep -oE -- '--[a-z0-9-]+'; }
for c in $cmds; do
	n=$(opt_rows help "$c" | wc -l)
	check "txpace(8) $c: its section has the $n options of its --help, each with its argument and help line, in order" \
		bash -c "test $n -gt 0 && diff <(opt_rows help $c) <(opt_rows man $c)"
done
check "txpace(8): renders without a groff warning" \
	bash -c "test -z \"\$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l '$MAN' 2>&1 >/dev/null)\""
check "txpace(8): says the backends, the files and the exit status" \
	bash -c "for s in BACKENDS FILES 'EXIT STATUS'; do grep -q \"^\\.SH \$s\" '$MAN' || exit 1; done &&
		for f in /run/txpace /var/lib/txpace /etc/txpace; do grep -q \"\$f\" '$MAN' || exit 1; done"

# the completion, driven as bash-completion drives it: COMP_WORDS, then the function's COMPREPLY
mkdir -p "$T/empty"
complete_words() {	# complete_words WORD...: what <TAB> offers after them (the last may be "")
	(cd "$T/empty" && bash -c '. /usr/share/bash-completion/bash_completion; . "$0"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_txpace; printf "%s\n" "${COMPREPLY[@]}"' \
		"$D1/usr/local/share/bash-completion/completions/txpace" txpace "$@" | sort)
}
if [ -f /usr/share/bash-completion/bash_completion ]; then
	check "completion: the subcommands" diff <(echo "$cmds" | sort) <(complete_words "" | grep -v '^-')
	for c in $cmds; do
		check "completion: txpace $c --<TAB> offers exactly the options of its --help" \
			diff <(opt_rows help "$c" | long_names | sort) <(complete_words "$c" --)
	done
	check "completion: txpace send --backend <TAB> offers the backends" \
		diff <(printf '%s\n' auto edt etf rt sleep) <(complete_words send --backend "")
	# every word the completion offers for an option's value is one the parser takes
	bad=
	for c in $cmds; do
		for o in $(opt_rows help "$c" | long_names); do
			for w in $(complete_words "$c" "$o" ""); do
				"$TX" "$c" "$o" "$w" --help >/dev/null 2>&1 || bad="$bad $c $o $w;"
			done
		done
	done
	check "completion: every value it offers is accepted by the parser${bad:+ (not:$bad)}" test -z "$bad"
else
	fail "completion" "no /usr/share/bash-completion/bash_completion (scripts/install-deps.sh installs bash-completion)"
fi

# --- the systemd unit ------------------------------------------------------------------------
UNIT=$D1/usr/local/lib/systemd/system/txpace@.service
if command -v systemd-analyze >/dev/null; then
	MANPATH=$D1/usr/local/share/man systemd-analyze verify "$UNIT" >"$T/verify.log" 2>&1
	rc=$?
	check "txpace@.service: systemd-analyze verify, no complaint" \
		bash -c "test $rc -eq 0 && ! test -s '$T/verify.log' || { cat '$T/verify.log'; exit 1; }"
else
	fail "txpace@.service" "no systemd-analyze (the systemd package)"
fi

# --- the packages: this machine's, and the Raspberry Pi's (cross-built) -------------------
DEBS=("$B/deb/txpace_${VERSION}_$ARCH.deb" "$B/deb/libtxpace-dev_${VERSION}_$ARCH.deb")
ALL_DEBS=()
for a in $ARCH arm64 armhf; do
	for p in txpace libtxpace-dev; do
		f=$B/deb/${p}_${VERSION}_$a.deb
		[ -f "$f" ] || { fail "packages" "no $f (make build-tests builds them: make deb)"; exit 1; }
		case " ${ALL_DEBS[*]} " in *" $f "*) ;; *) ALL_DEBS+=("$f") ;; esac
	done
done
lintian --fail-on error "${ALL_DEBS[@]}" >"$T/lintian.log" 2>&1
rc=$?
check "lintian: no error in the ${#ALL_DEBS[@]} packages ($(grep -c '^W:' "$T/lintian.log") warnings)" test $rc -eq 0
grep -E '^[EW]:' "$T/lintian.log" | sed 's/^/        /'
# deb_file DEB PATH: one file of a package, on stdout
deb_file() { dpkg-deb --fsys-tarfile "$1" | tar -xO "$2"; }
for a in arm64 armhf; do
	case $a in arm64) want='ELF 64-bit LSB .*ARM aarch64' ;; armhf) want='ELF 32-bit LSB .*ARM, EABI5' ;; esac
	deb=$B/deb/txpace_${VERSION}_$a.deb
	check "txpace_${VERSION}_$a.deb: /usr/bin/txpace is $a ($want), Architecture: $a" \
		bash -c "dpkg-deb --fsys-tarfile '$deb' | tar -xO ./usr/bin/txpace | file - | grep -qE '$want' &&
			test \"\$(dpkg-deb -f '$deb' Architecture)\" = $a"
	check "txpace_${VERSION}_$a.deb: the same txpace(8) and completion as $ARCH's (the host's txpace wrote them)" \
		bash -c "$(declare -f deb_file); for f in ./usr/share/man/man8/txpace.8.gz ./usr/share/bash-completion/completions/txpace; do
			cmp <(deb_file '$deb' \$f) <(deb_file '${DEBS[0]}' \$f) || exit 1; done"
done
check "libtxpace-dev: libtxpace.a, txpace.pc and every public header, multiarch" \
	diff <(dpkg-deb -c "${DEBS[1]}" | awk '$1 !~ /^d/ { print $NF }' | grep -v '^./usr/share/doc/' | sort) \
	<(m=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	  { echo "./usr/lib/$m/libtxpace.a"; echo "./usr/lib/$m/pkgconfig/txpace.pc"
	    echo ./usr/include/txpace_abi.h; for h in include/txpace/*.h; do echo "./usr/include/txpace/${h##*/}"; done; } | sort)

# --- the .deb in a clean minimal Debian tree ----------------------------------------------
SUITE=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
BASE=$CACHE/$SUITE-$ARCH-minbase.tar
# this machine's apt sources for SUITE (Debian's archive as apt reaches it here), or none:
# then mmdebstrap takes its default
host_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -qE "^[^#]*([[:space:]]|^)$SUITE([[:space:]]|$)" "$f" && echo "$f"
	done
}
mkdir -p "$CACHE/archives/partial"
exec 9>"$CACHE/.lock"
flock 9	# (one test at a time prepares the tree and uses the package cache)
t0=$(date +%s)
if ! [ -s "$BASE" ]; then
	echo "install test: making the $SUITE minbase tree once (mmdebstrap) into $BASE"
	mmdebstrap --variant=minbase --include=man-db --skip=cleanup/apt/lists --format=tar \
		"$SUITE" "$BASE.part" $(host_sources) >"$CACHE/mmdebstrap.log" 2>&1 &&
		mv "$BASE.part" "$BASE"
	rm -f "$BASE.part"
fi
if ! [ -s "$BASE" ]; then
	fail "a minimal $SUITE tree" "mmdebstrap failed: $(tail -n 3 "$CACHE/mmdebstrap.log" | tr '\n' ' ')"
	exit 1
fi
ROOT=$T/root
mkdir -p "$ROOT" && tar -C "$ROOT" --numeric-owner -xpf "$BASE"
cp "${DEBS[0]}" "$ROOT/tmp/"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
# in_root [--apt] [--netns NS] CMD...: CMD chrooted in ROOT with /proc and /sys (and, with
# --apt, the package cache), mounted in a mount namespace of its own, so nothing stays mounted
# after it; in network namespace NS if given
in_root() {
	local apt= pre=()
	[ "$1" = --apt ] && { apt=$CACHE/archives; shift; }
	[ "$1" = --netns ] && { pre=(ip netns exec "$2"); shift 2; }
	"${pre[@]}" unshare --mount --propagation private sh -c 'r=$1 a=$2; shift 2
		mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" || exit 1
		[ -z "$a" ] || mount --bind "$a" "$r/var/cache/apt/archives" || exit 1
		exec chroot "$r" "$@"' sh "$ROOT" "$apt" "$@"
}
apt_install() {
	in_root --apt env DEBIAN_FRONTEND=noninteractive apt-get -o APT::Sandbox::User=root \
		-o Dpkg::Use-Pty=0 install -y -q --no-install-recommends "/tmp/${DEBS[0]##*/}"
}
if ! apt_install >"$T/apt.log" 2>&1; then
	# the tree's package lists are older than the archive: refresh them, then again
	in_root --apt apt-get -o APT::Sandbox::User=root update -q >>"$T/apt.log" 2>&1
	apt_install >>"$T/apt.log" 2>&1
fi
rc=$?
flock -u 9
check "apt installs the $ARCH .deb and what it depends on into a clean $SUITE minbase tree ($(( $(date +%s) - t0 )) s)" \
	bash -c "test $rc -eq 0 || { tail -n 20 '$T/apt.log'; exit 1; }"
check "in the tree: txpace --version says $VERSION" \
	test "$(in_root txpace --version 2>&1)" = "txpace $VERSION"
in_root txpace probe >"$T/probe.txt" 2>&1
rc=$?
check "in the tree: txpace probe exits 0, checks the kernel and names a backend" \
	bash -c "test $rc -eq 0 && grep -q '^kernel ' '$T/probe.txt' && grep -qE '^backend: (rt|edt|etf)' '$T/probe.txt' ||
		{ cat '$T/probe.txt'; exit 1; }"
check "in the tree: man -w txpace finds the installed page" \
	test "$(in_root man -w txpace 2>&1)" = /usr/share/man/man8/txpace.8.gz
# (the package's build dated the page from debian/changelog: SOURCE_DATE_EPOCH)
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -STimestamp) in_root txpace --man >"$T/man.gen" 2>&1
zcat "$ROOT/usr/share/man/man8/txpace.8.gz" >"$T/man.inst"
check "in the tree: the installed page is what the installed txpace writes (txpace --man)" \
	cmp "$T/man.inst" "$T/man.gen"
check "in the tree: the completion and the unit are where bash-completion and systemd look" \
	test -f "$ROOT/usr/share/bash-completion/completions/txpace" -a -f "$ROOT/lib/systemd/system/txpace@.service"
tgid=$(awk -F: '$1 == "txpace" { print $3 }' "$ROOT/etc/group")
check "in the tree: /usr/bin/txpace has its file capabilities (permitted) and is 0750 root:txpace (postinst)" \
	bash -c "getcap '$ROOT/usr/bin/txpace' | grep -q 'cap_net_bind_service,cap_net_admin,cap_ipc_lock,cap_sys_nice,cap_perfmon,cap_bpf=p\$' &&
		test -n '$tgid' && test \"\$(stat -c '%a %u %g' '$ROOT/usr/bin/txpace')\" = '750 0 $tgid' ||
		{ getcap '$ROOT/usr/bin/txpace'; stat -c '%a %u %g' '$ROOT/usr/bin/txpace'; exit 1; }"
check "in the tree: /run/txpace is made root:txpace 2770 (tmpfiles.d)" \
	grep -qx 'd /run/txpace 2770 root txpace -' "$ROOT/usr/lib/tmpfiles.d/txpace.conf"

# the unit's own ExecStart line as systemd runs it (its $$ unescaped, TXPACE_ARGS from the conf),
# with arguments that need shell quoting, sending from the tree to a receiver in another namespace
if make_pair; then
	mkdir -p "$ROOT/etc/txpace"
	echo "TXPACE_ARGS=\"send --quiet --seconds 0.2 --name 'Two words' --sdp /tmp/u.sdp $RX4:5004 tone:440\"" \
		>"$ROOT/etc/txpace/u.conf"
	exec_start=$(sed -n "s/^ExecStart=\/bin\/sh -c '\(.*\)'$/\1/p" "$ROOT/lib/systemd/system/txpace@.service" |
		sed 's/\$\$/$/g')
	args=$(set -a && . "$ROOT/etc/txpace/u.conf" && printf '%s' "$TXPACE_ARGS")
	bg_rx "$T/u.json" "$TXPACE" measure --json --listen 0.0.0.0:5004 --seconds 30
	m=$BG
	wait_udp "$NS_RX" 5004 &&
		TXPACE_ARGS=$args in_root --netns "$NS_TX" /bin/sh -c "$exec_start" >"$T/u.log" 2>&1
	rc=$?
	stop $m
	check "txpace@.service's ExecStart with /etc/txpace/NAME.conf: the stream runs (exit 0), its arguments intact ('Two words' is one)" \
		bash -c "test -n '$exec_start' && test $rc -eq 0 && grep -qx \$'s=Two words\r' '$ROOT/tmp/u.sdp' ||
			{ cat '$T/u.log'; exit 1; }"
	check "txpace@.service's stream: the receiver got all 200 packets" jq_check "$T/u.json" '.packets == 200 and .lost == 0'
else
	fail "namespaces" "cannot create the veth pair"
fi
exit $FAILED
