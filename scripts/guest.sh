#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run a test script inside Debian's 6.1 cloud kernel, which has what this machine's kernel lacks
# (fq, etf, mqprio as modules; clsact and cls_bpf), booted under qemu with TCG (nested KVM hangs
# on the project's VM) from a busybox initramfs built for each run. With --arch arm64 or armhf:
# Debian's arm64 kernel (qemu-system-aarch64 -M virt -cpu cortex-a53; it has BTF) or its 32-bit
# armmp kernel (qemu-system-arm -M virt, a Cortex-A15; no BTF, HZ=250: the Raspberry Pi OS
# situation), with the cross-built txpace (make cross) and Debian's programs for that
# architecture.
#
#   scripts/guest.sh [--arch amd64|arm64|armhf] prepare
#	Download the kernel package once (apt-get download, into the cache), keep its vmlinuz and
#	the modules the guest loads with what they depend on; for ARM also the guest's programs
#	(busybox-static, bash, iproute2, bpftool, jq, coreutils, util-linux, findutils and the
#	libraries they need, from that architecture's archive). Fast and offline when cached.
#   scripts/guest.sh [--arch ARCH] run [--timeout SEC] [--mem MB] [--modules "NAME..."]
#                        [--net | --nic virtio|e1000e] [--verbose] SCRIPT [EXTRA...]
#	Boot the guest with SCRIPT as /test.sh and print what it prints; exit with its status.
#	The modules (veth sch_fq sch_etf sch_mqprio sch_ingress cls_bpf, and --modules) are
#	loaded, each after those it depends on, before SCRIPT starts. --net: a virtio NIC on
#	qemu's user-mode network (slirp: the guest is 10.0.2.15/24, left unconfigured for SCRIPT to
#	set up; 10.0.2.2 is the loopback of the network namespace qemu was started in, so a peer
#	there on 127.0.0.1 is reached through the guest's real NIC, qdisc and driver). virtio_net
#	(and virtio_pci or virtio_mmio) are loaded with the other modules. --nic e1000e (amd64,
#	Debian's full kernel: the cloud one has no e1000e): qemu's Intel 82574 instead, whose
#	driver registers a PHC and says it has hardware TX stamps (qemu 7.2 never delivers one).
#	The guest holds busybox (every applet), bash, iproute2's ip and tc, bpftool, build/txpace
#	and build/tests/test_bpf_* when built, and each EXTRA file or directory, ELF programs with
#	every library ldd lists. A path inside the repository keeps its repository-relative path
#	under / (the script runs in /, so `build/txpace` works there as it does at the top of the
#	repository); any other path keeps its absolute path (e.g. /usr/bin/jq).
#	On ARM: build/ARCH/txpace as /build/txpace and build/ARCH/tests/test_bpf_* in
#	/build/tests/, jq too, the programs from the cached tree of that architecture's packages,
#	and the libraries of every ELF file (their DT_NEEDED, found in the host's multiarch
#	directories, where the cross build's -dev packages put them, then in that tree): an
#	EXTRA program must be built for the guest's architecture.
#
# Environment: TXPACE_GUEST_ARCH (as --arch; default amd64), TXPACE_GUEST_CACHE (default
# /var/cache/txpace-guest; an ARM guest's is that with -arm64 or -armhf after it),
# TXPACE_GUEST_PACKAGE (a linux-image package instead of the one the architecture's meta
# package, linux-image-cloud-amd64, linux-image-arm64 or linux-image-armmp, depends on),
# TXPACE_GUEST_MODULES (as --modules, for every run and prepare), QEMU,
# TXPACE_GUEST_KEEP=1 (keep the initramfs tree and the raw console log, and say where).
#
# In the guest: /sys/fs/bpf, /sys/kernel/tracing, /sys/kernel/debug, /tmp and /run are mounted,
# /var/run is /run (so `ip netns` works), lo is up, TXPACE=/build/txpace, PATH has everything.
# Time under TCG is good to about a millisecond: assert ordering and coarse delays, not
# microseconds.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GUEST_ARCH=${TXPACE_GUEST_ARCH:-amd64}
QEMU_ENV=${QEMU:-}
# clsact lives in sch_ingress
MODULES="veth sch_fq sch_etf sch_mqprio sch_ingress cls_bpf ${TXPACE_GUEST_MODULES:-}"
SENTINEL=TXPACE-GUEST-EXIT
START=TXPACE-GUEST-START

die() {
	echo "guest.sh: $*" >&2
	exit 1
}

# set_arch: what the guest of GUEST_ARCH boots and with which programs.
# META: the meta package whose dependency is the kernel; DEBARCH: the Debian architecture of the
# packages (empty: the host's); TRIPLET: the multiarch directory of its libraries; BUILDDIR: its
# txpace build; QEMU_ARGS and CONSOLE: the machine and its serial console.
set_arch() {
	case $GUEST_ARCH in
	amd64)
		META=linux-image-cloud-amd64 DEBARCH='' TRIPLET='' BUILDDIR=$TOP/build
		QEMU=${QEMU_ENV:-qemu-system-x86_64} QEMU_PKG=qemu-system-x86 CONSOLE=ttyS0
		# tsc=reliable: TCG's rdtsc reads the host's TSC, the same counter on every vCPU, but
		# the kernel's synchronisation check fails on the emulation's skew and falls back to
		# the HPET, whose every read is an emulated MMIO access and a syscall: with the TSC,
		# clock_gettime is a vDSO call (~80 ns instead of ~900 ns) and 1 ms wake-ups are late
		# by less (p99 ~0.3 ms instead of ~0.8 ms)
		QEMU_ARGS=(-accel tcg -cpu max) APPEND=tsc=reliable
		;;
	arm64)
		META=linux-image-arm64 DEBARCH=arm64 TRIPLET=aarch64-linux-gnu BUILDDIR=$TOP/build/arm64
		QEMU=${QEMU_ENV:-qemu-system-aarch64} QEMU_PKG=qemu-system-arm CONSOLE=ttyAMA0
		# the Raspberry Pi Zero 2 W's core (the Arm generic timer is the clocksource)
		QEMU_ARGS=(-M virt -accel tcg -cpu cortex-a53) APPEND=
		;;
	armhf)
		# armmp, not armmp-lpae: the Pi's 32-bit kernels have no LPAE either (highmem=off: no
		# device above 4 GB, which a kernel without LPAE cannot reach)
		META=linux-image-armmp DEBARCH=armhf TRIPLET=arm-linux-gnueabihf BUILDDIR=$TOP/build/armhf
		QEMU=${QEMU_ENV:-qemu-system-arm} QEMU_PKG=qemu-system-arm CONSOLE=ttyAMA0
		QEMU_ARGS=(-M virt,highmem=off -accel tcg -cpu cortex-a15) APPEND=
		;;
	*) die "unknown architecture $GUEST_ARCH (amd64, arm64 or armhf)" ;;
	esac
	CACHE=${TXPACE_GUEST_CACHE:-/var/cache/txpace-guest}
	[ "$GUEST_ARCH" = amd64 ] || CACHE+=-$GUEST_ARCH
}

# apt_name PKG: the name apt takes for a package of the guest's architecture
apt_name() {
	echo "$1${DEBARCH:+:$DEBARCH}"
}

# usage [STATUS]: to stderr for a usage error (2), to stdout when asked (0)
usage() {
	local fd=2
	[ "${1:-2}" -ne 0 ] || fd=1
	cat >&$fd <<'EOF'
usage: scripts/guest.sh [--arch amd64|arm64|armhf] prepare
       scripts/guest.sh [--arch ARCH] run [--timeout SEC] [--mem MB] [--modules "NAME..."]
                            [--verbose] SCRIPT [EXTRA_FILE_OR_DIR...]
  --arch     the guest's architecture: amd64 (default; Debian's cloud kernel), arm64 or armhf
             (Debian's arm64 or 32-bit armmp kernel on qemu's virt machine, build/ARCH/txpace)
  prepare    download Debian's kernel once and keep vmlinuz and the modules it needs (for ARM,
             also that architecture's busybox, bash, iproute2, bpftool, jq and their libraries)
  run        boot it under qemu (TCG) with SCRIPT as /test.sh, print what SCRIPT prints, and
             exit with its status (1 with a reason when the guest fails or times out)
  --timeout  seconds for the whole boot and test (default 120)
  --mem      guest memory in MB (default 1024; the initramfs alone takes ~180 MB)
  --nic      virtio (as --net) or e1000e (a PHC and claimed hardware TX stamps; full kernel)
  --modules  more kernel modules to load (with what they depend on), e.g. "sch_netem nf_tables"
  --verbose  print the whole console, the kernel's boot messages included
See the comment at the top of this script for what the guest holds and the environment.
EOF
	exit "${1:-2}"
}

# ---------------------------------------------------------------------------------------------
# prepare

# The package META points at, e.g. linux-image-6.1.0-56-cloud-amd64 (without its architecture)
kernel_package() {
	if [ -n "${TXPACE_GUEST_PACKAGE:-}" ]; then
		echo "${TXPACE_GUEST_PACKAGE%:*}"
		return
	fi
	apt-cache depends "$(apt_name $META)" 2>/dev/null |
		sed -n 's/^ *Depends: <\{0,1\}\(linux-image-[^>:]*\)\(:[a-z0-9]*\)\{0,1\}>\{0,1\}$/\1/p' |
		head -n 1
}

# unpack_module SRC DEST: a .ko, decompressed here (busybox insmod in the guest may not)
unpack_module() {
	case $1 in
	*.ko) cp "$1" "$2" ;;
	*.ko.xz) xz -dc "$1" >"$2" ;;
	*.ko.zst) zstd -qdc "$1" >"$2" ;;
	*.ko.gz) gzip -dc "$1" >"$2" ;;
	*) die "unknown module format: $1" ;;
	esac
}

# extract DEB DEST NAME...: vmlinuz, and each module with what it depends on, decompressed
# (modules/NAME.ko), its dependencies' names (modules/NAME.deps), or a marker when it is built
# in (modules/NAME.builtin). The package ships no modules.dep (its postinst runs depmod), so
# the dependencies come from each module's own "depends=" modinfo string.
extract() {
	local deb=$1 dest=$2 x kver mdir f n
	local -A file=() seen=()
	shift 2
	x=$(mktemp -d "$CACHE/extract.XXXXXX")
	dpkg -x "$deb" "$x"
	kver=$(ls "$x/lib/modules")
	mdir=$x/lib/modules/$kver
	[ -f "$x/boot/vmlinuz-$kver" ] || die "no boot/vmlinuz-$kver in $deb"
	while read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		file[${n//-/_}]=$f
	done < <(find "$mdir/kernel" -name '*.ko*')
	mkdir -p "$dest/modules"
	# take NAME: it and its dependencies
	take() {
		local name=${1//-/_} dep deps
		[ -z "${seen[$name]:-}" ] || return 0
		seen[$name]=1
		if [ -z "${file[$name]:-}" ]; then
			if grep -qE "/(${name}|${1})\.ko\$" "$mdir/modules.builtin" 2>/dev/null; then
				: >"$dest/modules/$name.builtin"
				return 0
			fi
			die "kernel $kver has no module $1"
		fi
		unpack_module "${file[$name]}" "$dest/modules/$name.ko"
		deps=$(tr '\0' '\n' <"$dest/modules/$name.ko" | sed -n 's/^depends=//p' | tr , ' ')
		echo "${deps//-/_}" >"$dest/modules/$name.deps"
		for dep in $deps; do
			take "$dep"
		done
	}
	for n in "$@"; do
		take "$n"
	done
	cp "$x/boot/vmlinuz-$kver" "$dest/vmlinuz"
	echo "$kver" >"$dest/kernel"
	rm -rf "$x"
}

# have_modules DIR: every module in MODULES is in the prepared kernel DIR
have_modules() {
	local n
	for n in $MODULES; do
		n=${n//-/_}
		[ -f "$1/modules/$n.ko" ] || [ -f "$1/modules/$n.builtin" ] || return 1
	done
}

# load_order: the modules of MODULES and what they depend on, each after its dependencies
# (the order insmod needs), from the prepared kernel KDIR
load_order() {
	local -A seen=()
	local n
	# after NAME: its dependencies, then it
	after() {
		local name=${1//-/_} dep deps
		[ -z "${seen[$name]:-}" ] || return 0
		seen[$name]=1
		[ -f "$KDIR/modules/$name.ko" ] || return 0
		read -ra deps <"$KDIR/modules/$name.deps"
		for dep in "${deps[@]}"; do
			after "$dep"
		done
		echo "$name"
	}
	for n in $MODULES; do
		after "$n"
	done
}

# Sets KDIR to the prepared kernel's directory in the cache (downloading what is missing);
# one at a time (tests may run in parallel), the lock released once it is ready.
prepare() {
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.lock"
	flock 9
	prepare_locked
	exec 9>&-
}

# cached_deb PKG: the package's .deb in the cache, or nothing
cached_deb() {
	local f
	for f in "$CACHE/$1"_*.deb; do
		[ -f "$f" ] && echo "$f" && return 0
	done
	return 0
}

# download DIR PKG...: apt-get download into DIR (the names as apt takes them), quietly, its
# log in $CACHE/apt.log
download() {
	local dir=$1
	shift
	# apt's _apt sandbox user cannot write to the cache: download as root
	if ! (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$@") >"$CACHE/apt.log" 2>&1; then
		# the lists may name a version the mirror no longer has: refresh them once
		apt-get update -q >>"$CACHE/apt.log" 2>&1 || true
		(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$@") >>"$CACHE/apt.log" 2>&1 ||
			die "apt-get download $* failed: $(tail -n 1 "$CACHE/apt.log")"
	fi
}

prepare_locked() {
	local pkg deb dir old want
	pkg=$(kernel_package)
	if [ -z "$pkg" ]; then
		# no package lists yet: fetch them once, or use what is cached when that fails
		apt-get update -q >"$CACHE/apt.log" 2>&1 || true
		pkg=$(kernel_package)
	fi
	if [ -z "$pkg" ] && [ -f "$CACHE/current/kernel" ]; then
		pkg=$(cat "$CACHE/current/package")
		echo "guest.sh: apt knows no $(apt_name $META); using the cached $pkg" >&2
	fi
	[ -n "$pkg" ] || die "apt-cache names no $(apt_name $META) (see $CACHE/apt.log)"
	[ -z "$DEBARCH" ] || prepare_userland
	dir=$CACHE/$pkg
	if [ -f "$dir/kernel" ] && have_modules "$dir"; then
		ln -sfn "$pkg" "$CACHE/current"
		KDIR=$dir
		return 0
	fi
	deb=$(cached_deb "$pkg")
	if [ -z "$deb" ]; then
		echo "guest.sh: downloading $pkg" >&2
		download "$CACHE" "$(apt_name "$pkg")"
		deb=$(cached_deb "$pkg")
		[ -n "$deb" ] || die "apt-get download $pkg left no .deb in $CACHE"
	fi
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp"
	read -ra want <<<"$MODULES"
	extract "$deb" "$dir.tmp" "${want[@]}"
	echo "$pkg" >"$dir.tmp/package"
	if [ -f "$dir/kernel" ]; then
		# more modules for the same kernel: other runs may be reading it, so add, replace
		# nothing (and runs that ask for other modules don't undo each other)
		mv -n "$dir.tmp"/modules/* "$dir/modules/"
		rm -rf "$dir.tmp"
	else
		rm -rf "$dir"
		mv "$dir.tmp" "$dir"
	fi
	ln -sfn "$pkg" "$CACHE/current"
	# older kernels are no longer what the meta package names
	for old in "$CACHE"/linux-image-*; do
		case $old in "$dir" | "$deb") ;; *) rm -rf "$old" ;; esac
	done
	KDIR=$dir
	echo "guest.sh: prepared $(cat "$dir/kernel") in $dir" >&2
}

# The programs of an ARM guest: Debian's packages of that architecture, unpacked in
# $CACHE/userland (they cannot be installed beside the host's own: Multi-Arch: foreign).
USERLAND_PKGS="busybox-static bash iproute2 bpftool jq coreutils util-linux findutils"

# lib_closure PKG...: the packages and the library packages (lib*) they depend on, recursively
lib_closure() {
	local -A seen=()
	local todo=("$@") next p
	for p in "$@"; do
		seen[$p]=1
	done
	while [ ${#todo[@]} -gt 0 ]; do
		next=()
		while read -r p; do
			[ -n "${seen[$p]:-}" ] || { seen[$p]=1; next+=("$p"); }
		done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
			--no-replaces --no-enhances "${todo[@]/%/:$DEBARCH}" 2>/dev/null |
			sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \(lib[^<>: ]*\)\(:[a-z0-9]*\)\{0,1\}$/\2/p')
		todo=("${next[@]}")
	done
	printf '%s\n' "${!seen[@]}" | sort
}

prepare_userland() {
	local u=$CACHE/userland pkgs d
	[ -f "$u/.done" ] && return 0
	mapfile -t pkgs < <(lib_closure $USERLAND_PKGS)
	[ ${#pkgs[@]} -gt 8 ] || die "apt-cache names no packages for $DEBARCH (dpkg --add-architecture $DEBARCH; apt-get update)"
	echo "guest.sh: downloading ${#pkgs[@]} $DEBARCH packages for the guest's programs" >&2
	rm -rf "$u.tmp"
	mkdir -p "$u.tmp/debs"
	download "$u.tmp/debs" "${pkgs[@]/%/:$DEBARCH}"
	for d in "$u.tmp"/debs/*.deb; do
		dpkg -x "$d" "$u.tmp/root"
		basename "$d" >>"$u.tmp/packages"
	done
	# (docs, manuals and locales: nothing the guest reads)
	rm -rf "$u.tmp/debs" "$u.tmp/root/usr/share" "$u"
	: >"$u.tmp/.done"
	mv "$u.tmp" "$u"
}

# ---------------------------------------------------------------------------------------------
# the initramfs

declare -A HAVE=()

# put SRC DEST [lib]: copy a host file to DEST in the guest's root; an ELF program or library
# brings every library it needs (and the loader): on amd64 those ldd lists, at the paths ldd
# names (ldd lists them all, indirect ones too, so they are copied as they are: "lib"); on ARM
# those foreign_libs finds.
put() {
	local src=$1 dest=$2 lib
	[ -z "${HAVE[$dest]:-}" ] || return 0
	HAVE[$dest]=1
	mkdir -p "$ROOT$(dirname "$dest")"
	cp -L --preserve=mode "$src" "$ROOT$dest"
	[ -z "${3:-}" ] || return 0
	[ "$(head -c 4 "$src")" = $'\x7fELF' ] || return 0
	if [ -n "$DEBARCH" ]; then
		foreign_libs "$src" >"$WORK/libs"
		while read -r lib; do
			put "$lib" "${lib#"$CACHE/userland/root"}" lib
		done <"$WORK/libs"
		return 0
	fi
	# not a dynamic executable: a static program, an object file
	ldd "$src" >"$WORK/ldd" 2>/dev/null || return 0
	if grep -q 'not found' "$WORK/ldd"; then
		die "$src: $(grep 'not found' "$WORK/ldd" | head -n 1 | tr -s '\t ' ' ')"
	fi
	while read -r lib; do
		put "$lib" "$lib" lib
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' "$WORK/ldd")
}

# foreign_libs ELF: every library an ARM program or library needs, indirect ones too, and its
# loader: the DT_NEEDED names (readelf reads any architecture's ELF), each found where the ARM
# loader looks (/lib/TRIPLET, /usr/lib/TRIPLET), in the host's multiarch directories (the
# libraries the cross build linked against) or else in the unpacked packages
foreign_libs() {
	local -A seen=()
	local todo=("$1") next f n d found
	local dirs=(/lib/$TRIPLET /usr/lib/$TRIPLET "$CACHE/userland/root/lib/$TRIPLET"
		"$CACHE/userland/root/usr/lib/$TRIPLET")
	f=$(readelf -l "$1" 2>/dev/null | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
	if [ -z "$f" ]; then
		:	# static
	elif [ -e "$f" ]; then
		echo "$f"
	elif [ -e "$CACHE/userland/root$f" ]; then
		echo "$CACHE/userland/root$f"
	else
		die "$1: no loader $f"
	fi
	while [ ${#todo[@]} -gt 0 ]; do
		next=()
		for f in "${todo[@]}"; do
			while read -r n; do
				[ -z "${seen[$n]:-}" ] || continue
				seen[$n]=1
				found=
				for d in "${dirs[@]}"; do
					[ -e "$d/$n" ] && found=$d/$n && break
				done
				[ -n "$found" ] || die "$1 needs $n, which no $DEBARCH package here has"
				echo "$found"
				next+=("$found")
			done < <(readelf -d "$f" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
		done
		todo=("${next[@]}")
	done
}

# put_tree SRC DEST: a file or a directory (recursively, each ELF with its libraries)
put_tree() {
	local src=$1 dest=$2 f
	if [ -d "$src" ]; then
		while IFS= read -r -d '' f; do
			put "$f" "$dest${f#"$src"}"
		done < <(find "$src" -type f -print0)
	else
		put "$src" "$dest"
	fi
}

# in_tree PATH: a path in the unpacked packages, its symbolic links followed there (/sbin/ip is
# a link to /bin/ip: the tree's, not the host's)
in_tree() {
	local p=$1 t n
	for n in 1 2 3 4 5 6 7 8; do
		[ -L "$p" ] || break
		t=$(readlink "$p")
		case $t in
		/*) p=$CACHE/userland/root$t ;;
		*) p=$(dirname "$p")/$t ;;
		esac
	done
	echo "$p"
}

# put_programs: an ARM guest's busybox and programs, from the unpacked packages
put_programs() {
	local u=$CACHE/userland/root p d
	[ -x "$u/bin/busybox" ] || die "no busybox in $u (busybox-static:$DEBARCH)"
	put "$u/bin/busybox" /bin/busybox
	for p in ip tc bpftool bash jq env timeout xargs nice taskset chrt unshare nsenter setsid flock; do
		for d in usr/local/sbin usr/local/bin usr/sbin usr/bin sbin bin; do
			if [ -f "$u/$d/$p" ]; then
				put "$(in_tree "$u/$d/$p")" "/$d/$p"
				continue 2
			fi
		done
		die "no $p in $u"
	done
}

# the program a PATH name runs: Debian's bpftool may be a wrapper script around the real one
real_program() {
	local p c
	p=$(command -v "$1") || return 1
	p=$(readlink -f "$p")
	if [ "$(head -c 2 "$p")" = '#!' ]; then
		for c in $(grep -o '/usr/lib/[^" ]*'"$1" "$p" || true) /usr/lib/linux-tools*/"$1" \
			/usr/lib/linux-tools/*/"$1"; do
			if [ -f "$c" ] && [ "$(head -c 4 "$c")" = $'\x7fELF' ]; then
				echo "$c"
				return 0
			fi
		done
		return 1
	fi
	echo "$p"
}

build_initramfs() {
	local script=$1 kver d p src rel
	shift
	kver=$(cat "$KDIR/kernel")
	ROOT=$WORK/root
	mkdir -p "$ROOT"
	# the host's /usr merge (bin -> usr/bin, ...), so library paths from ldd hold in the guest
	for d in bin sbin lib lib32 lib64 libx32; do
		if [ -L "/$d" ]; then
			ln -s "$(readlink "/$d")" "$ROOT/$d"
			mkdir -p "$ROOT/$(readlink "/$d")"
		fi
	done
	mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/local/bin,bin,sbin,dev,proc,sys,tmp,run,var,etc,root}
	ln -s ../run "$ROOT/var/run"
	# the kernel opens /dev/console for /init before anything is mounted
	mknod -m 600 "$ROOT/dev/console" c 5 1
	mknod -m 666 "$ROOT/dev/null" c 1 3
	# Debian's busybox runs its own applet for a command of that name before looking at PATH
	# (in ash, and in applets that run commands: env, timeout, unshare, ...), which would put
	# busybox's ip and tc in place of iproute2's: /bin/sh is bash, and these are the real ones
	if [ -n "$DEBARCH" ]; then
		put_programs
	else
		put /bin/busybox /bin/busybox
		for p in ip tc bpftool bash; do
			src=$(real_program $p) || die "no $p on this machine (iproute2, bpftool, bash)"
			put "$src" "$(command -v $p)"
		done
		for p in env timeout xargs nice taskset chrt unshare nsenter setsid flock; do
			src=$(real_program $p) && put "$src" "$(command -v $p)"
		done
	fi
	ln -s bash "$ROOT/bin/sh"
	[ -x "$BUILDDIR/txpace" ] && put "$BUILDDIR/txpace" /build/txpace
	for p in "$BUILDDIR"/tests/test_bpf_*; do
		case $p in *.d) continue ;; esac
		[ -f "$p" ] && [ -x "$p" ] && put "$p" "/build/tests/${p##*/}"
	done
	[ -x "$ROOT/build/txpace" ] && ln -s /build/txpace "$ROOT/usr/local/bin/txpace"
	for p in "$@"; do
		[ -e "$p" ] || die "no such file: $p"
		src=$(readlink -f "$p")
		case $src in
		"$TOP"/*) rel=${src#"$TOP"} ;;
		*) rel=$src ;;
		esac
		put_tree "$src" "$rel"
	done
	# what `busybox --install -s` does, here; a real program copied above (ip, tc) wins over
	# the applet of its name wherever both would be on PATH
	while read -r p; do
		for d in usr/local/sbin usr/local/bin usr/sbin usr/bin sbin bin; do
			[ -e "$ROOT/$d/${p##*/}" ] && continue 2
		done
		ln -s /bin/busybox "$ROOT/$p"
	done < <(/bin/busybox --list-full)
	mkdir -p "$ROOT/lib/modules/$kver"
	load_order >"$ROOT/etc/modules.load"
	while read -r p; do
		cp "$KDIR/modules/$p.ko" "$ROOT/lib/modules/$kver/"
	done <"$ROOT/etc/modules.load"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOT/etc/passwd"
	printf 'root:x:0:\n' >"$ROOT/etc/group"
	printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
	cp "$script" "$ROOT/test.sh"
	chmod 755 "$ROOT/test.sh"
	cat >"$ROOT/init" <<EOF
#!/bin/sh
# PID 1: file systems, lo, modules, the test; its exit status on the console; power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TXPACE=/build/txpace TXPACE_GUEST=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t bpf bpf /sys/fs/bpf
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
# /tmp and /run are tmpfs as on a host; what the initramfs holds there moves in
for d in /tmp /run; do
	mkdir -p /.m
	mount -t tmpfs tmpfs /.m
	cp -a \$d/. /.m/
	mount --move /.m \$d
done
rmdir /.m
ip link set lo up
for m in \$(cat /etc/modules.load); do
	insmod /lib/modules/$kver/\$m.ko || echo "guest: insmod \$m failed"
done
cd /
echo $START
/test.sh </dev/null
echo "$SENTINEL \$?"
poweroff -f
EOF
	chmod 755 "$ROOT/init"
	# uncompressed: gzip here and gunzip in the emulated guest cost more than copying it
	(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | /bin/busybox cpio -o -H newc -0 \
		>"$WORK/initrd" 2>/dev/null)
}

# ---------------------------------------------------------------------------------------------
# run

QEMU_PID=
WORK=
cleanup() {
	if [ -n "$QEMU_PID" ]; then
		kill "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	if [ -n "$WORK" ] && [ -n "${TXPACE_GUEST_KEEP:-}" ]; then
		echo "guest.sh: kept $WORK" >&2
	elif [ -n "$WORK" ]; then
		rm -rf "$WORK"
	fi
}

run() {
	local timeout=120 mem=1024 verbose=0 net=0 model=virtio script line rc='' reason shown=0 deadline
	local left status
	local -a nic=()
	while [ $# -gt 0 ]; do
		case $1 in
		--timeout) timeout=${2:?--timeout SEC}; shift 2 ;;
		--mem) mem=${2:?--mem MB}; shift 2 ;;
		--modules) MODULES+=" ${2?--modules \"NAME...\"}"; shift 2 ;;
		--net) net=1; shift ;;
		--nic) model=${2:?--nic virtio|e1000e}; net=1; shift 2 ;;
		--arch) GUEST_ARCH=${2:?--arch amd64|arm64|armhf}; set_arch; shift 2 ;;
		--verbose | -v) verbose=1; shift ;;
		-h | --help) usage 0 ;;
		--) shift; break ;;
		-*) echo "guest.sh: unknown option $1" >&2; usage ;;
		*) break ;;
		esac
	done
	[ $# -ge 1 ] || usage
	script=$1
	shift
	[ -f "$script" ] || die "no such script: $script"
	command -v "$QEMU" >/dev/null || die "no $QEMU (apt-get install $QEMU_PKG)"
	[ -x /bin/busybox ] || die "no /bin/busybox (apt-get install busybox-static)"
	if [ "$net" -eq 1 ] && [ "$model" = e1000e ]; then
		[ "$GUEST_ARCH" = amd64 ] || die "--nic e1000e: amd64 only"
		nic=(-netdev user,id=n0 -device e1000e,netdev=n0)
		MODULES+=" e1000e"
	elif [ "$net" -eq 1 ]; then
		[ "$model" = virtio ] || die "--nic: virtio or e1000e, not $model"
		case $GUEST_ARCH in
		amd64) nic=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0) MODULES+=" virtio_pci" ;;
		*) nic=(-netdev user,id=n0 -device virtio-net-device,netdev=n0) MODULES+=" virtio_mmio" ;;
		esac
		MODULES+=" virtio_net"
	fi
	prepare
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	WORK=$(mktemp -d /tmp/txpace-guest.XXXXXX)
	build_initramfs "$script" "$@"
	mkfifo "$WORK/console"
	# softlockup_panic: a kernel that soft-locks ends the run at once (panic=-1, -no-reboot)
	# instead of at --timeout, its messages on the console. (The TSC note: set_arch.) Still,
	# time here is good to about a millisecond, not microseconds.
	"$QEMU" "${QEMU_ARGS[@]}" "${nic[@]}" -m "$mem" -smp 2 -nodefaults -display none -no-reboot \
		-serial stdio -monitor none -kernel "$KDIR/vmlinuz" -initrd "$WORK/initrd" \
		-append "console=$CONSOLE panic=-1 softlockup_panic=1${APPEND:+ $APPEND}$([ "$verbose" -eq 1 ] || echo ' quiet')" \
		</dev/null >"$WORK/console" 2>"$WORK/qemu.err" &
	QEMU_PID=$!
	exec 3<"$WORK/console"
	deadline=$((SECONDS + timeout))
	: >"$WORK/console.log"
	while :; do
		left=$((deadline - SECONDS))
		if [ "$left" -le 0 ]; then
			reason="no exit status from the guest within $timeout s: qemu killed"
			break
		fi
		line=
		if IFS= read -r -t "$left" line <&3; then
			:
		else
			status=$?
			if [ "$status" -gt 128 ]; then
				continue
			fi
			[ -n "$line" ] || break
		fi
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$WORK/console.log"
		if [[ $line =~ ^(.*)$SENTINEL\ ([0-9]+)$ ]]; then
			rc=${BASH_REMATCH[2]}
			# the test's last line may lack its newline
			[ -z "${BASH_REMATCH[1]}" ] || printf '%s\n' "${BASH_REMATCH[1]}"
			# the guest powers off now; nothing after this is the test's
			break
		fi
		if [ "$shown" -eq 1 ] || [ "$verbose" -eq 1 ]; then
			printf '%s\n' "$line"
		fi
		[[ $line == *"$START"* ]] && shown=1
	done
	exec 3<&-
	if [ -n "$rc" ]; then
		# poweroff -f is immediate; don't wait on a guest that lingers
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$QEMU_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
		QEMU_PID=
		return "$rc"
	fi
	kill "$QEMU_PID" 2>/dev/null || true
	wait "$QEMU_PID" 2>/dev/null && status=0 || status=$?
	QEMU_PID=
	if [ -z "${reason:-}" ]; then
		if grep -q 'Kernel panic' "$WORK/console.log"; then
			reason="kernel panic: $(grep -m 1 -o 'Kernel panic.*' "$WORK/console.log")"
		elif [ -s "$WORK/qemu.err" ]; then
			reason="qemu exited ($status): $(tail -n 1 "$WORK/qemu.err")"
		else
			reason="the guest stopped (qemu status $status) before the test reported"
			reason+=" its exit status"
		fi
	fi
	if [ "$shown" -eq 0 ] && [ "$verbose" -eq 0 ]; then
		# it failed before the test started: the boot's last words say why
		tail -n 15 "$WORK/console.log" | sed 's/^/  console: /' >&2
	fi
	echo "guest.sh: $reason" >&2
	return 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--arch) GUEST_ARCH=${2:?--arch amd64|arm64|armhf}; shift 2 ;;
	--arch=*) GUEST_ARCH=${1#--arch=}; shift ;;
	*) break ;;
	esac
done
set_arch
case ${1:-} in
-h | --help | help) usage 0 ;;
prepare)
	shift
	[ $# -eq 0 ] || usage
	prepare
	;;
run)
	shift
	run "$@"
	;;
*) usage ;;
esac
