# SPDX-License-Identifier: GPL-2.0-only
# txpace: build, test, install.  `make` builds build/txpace; `make check` runs every test;
# `make demo` runs the side-by-side pacing demo.  Quiet by default, V=1 for full commands.

.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

CC	?= cc
CLANG	?= clang
BPFTOOL	?= bpftool
PKG_CONFIG ?= pkg-config
BUILD	?= build
# make install: where things go (debian/rules sets them for the package)
PREFIX	?= /usr/local
DESTDIR	?=
BINDIR	?= $(PREFIX)/bin
LIBDIR	?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/txpace
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
# the version is debian/changelog's (txpace --version, txpace.pc, the man page)
VERSION	?= $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

# Every external library is found here, in one place.
PKGS	:= libavformat libavcodec libavutil libswresample libmnl libcrypto avahi-client libbpf \
	   libsodium libplist-2.0 libcap
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers
CFLAGS	?= -O2 -g
BASE_CFLAGS := -std=gnu11 $(WARN) -D_GNU_SOURCE -Iinclude -I$(BUILD)/bpf $(PKG_CFLAGS) -MMD -MP
LDLIBS	:= $(PKG_LIBS) -lpthread -lm

# user/: one folder per stage of the data flow (README, Layout). The library is every folder but
# cli/; the tool is cli/ (main, the option tables, one cmd_NAME.c per subcommand) on top of it.
LIB_DIRS := core source encode proto profile pace kernel netlink measure
LIB_SRCS := $(wildcard $(LIB_DIRS:%=user/%/*.c))
CLI_SRCS := $(filter-out user/cli/main.c,$(wildcard user/cli/*.c))
HDRS	:= $(wildcard include/txpace/*.h) $(wildcard user/*/*.h)
LIB_OBJS := $(LIB_SRCS:user/%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:user/%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(BUILD)/obj/cli/main.o
CLI_LIB  := $(BUILD)/libtxpace-cli.a
# ar keeps members by file name: a second kpace.o would silently replace the first
DUP_NAMES := $(shell ls user/*/*.c | sed 's|.*/||' | sort | uniq -d)
ifneq ($(DUP_NAMES),)
$(error two files under user/ share a name: $(DUP_NAMES))
endif

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
SAN_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/san/tests/%)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(BPF_SRCS:bpf/%.bpf.c=$(BUILD)/bpf/%.skel.h)
BPF_TESTS := $(patsubst tests/bpf/test_%.c,$(BUILD)/tests/test_bpf_%,$(wildcard tests/bpf/test_*.c))
BPF_LIBS  := $(shell $(PKG_CONFIG) --libs libbpf 2>/dev/null)
ARCH	  := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/armv.*/arm/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

# make deb: the package for this machine and the Raspberry Pi's, from these files
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null)
DEB_ARCHES := $(DEB_ARCH) $(filter-out $(DEB_ARCH),arm64 armhf)
DEB_TREE := Makefile vmlinux.h README.md user include bpf dist debian
DEB_SRCS := $(shell find $(DEB_TREE) -type f 2>/dev/null)
DEB_STAMPS := $(DEB_ARCHES:%=$(BUILD)/deb/%.stamp)

SAN_FLAGS  := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
TSAN_FLAGS := -O1 -g -fsanitize=thread

all: $(BUILD)/txpace $(BUILD)/bench/plain_sender $(BUILD)/bench/alac_bench

$(BUILD)/obj/%.o: user/%.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(BASE_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c $< -o $@
$(MAIN_OBJ): BASE_CFLAGS += -DTXPACE_VERSION='"$(VERSION)"'
$(MAIN_OBJ): debian/changelog

$(BUILD)/libtxpace.a: $(LIB_OBJS)
	$(call msg,AR,$@)$(AR) rcs $@ $^

$(CLI_LIB): $(CLI_OBJS)
	$(call msg,AR,$@)$(AR) rcs $@ $^

$(BUILD)/txpace: $(MAIN_OBJ) $(CLI_LIB) $(BUILD)/libtxpace.a
	$(call msg,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(MAIN_OBJ) $(CLI_LIB) $(BUILD)/libtxpace.a $(LDLIBS)

$(BUILD)/bench/plain_sender: bench/plain_sender.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) -std=gnu11 $(WARN) $(CFLAGS) -o $@ $< -lm

$(BUILD)/bench/alac_bench: bench/alac_bench.c $(BUILD)/libtxpace.a
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libtxpace.a $(LDLIBS)

# BPF: clang -target bpf -> bpftool gen object -> skeleton, all in build/ (UAPI headers only:
# the send path must load on kernels without BTF).
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c include/txpace_abi.h $(wildcard bpf/*.h)
	@mkdir -p $(@D)
	$(call msg,BPF,$@)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I. -Iinclude -Ibpf \
		$(if $(MULTIARCH),-I/usr/include/$(MULTIARCH)) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp && rm -f $@.tmp

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,SKEL,$@)$(BPFTOOL) gen skeleton $< name $* > $@

# BPF programs on canned packets (BPF_PROG_TEST_RUN; root at run time)
$(BUILD)/tests/test_bpf_%: tests/bpf/test_%.c $(BPF_SKELS) include/txpace_abi.h tests/unit/unit.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(BASE_CFLAGS) $(CFLAGS) -I$(BUILD)/bpf -Itests/unit -o $@ $< $(BPF_LIBS)

# Unit tests (plain here; with AddressSanitizer + UndefinedBehaviorSanitizer in build/san/).
$(BUILD)/tests/%: tests/unit/%.c $(CLI_LIB) $(BUILD)/libtxpace.a $(HDRS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/unit -Iuser/cli -o $@ $< $(CLI_LIB) $(BUILD)/libtxpace.a $(LDLIBS)

# Test drivers: small programs on the library that integration tests run (test_aptp.sh,
# test_pair.sh).
DRIVER_BINS := $(patsubst tests/drivers/%.c,$(BUILD)/drivers/%,$(wildcard tests/drivers/*.c))
$(BUILD)/drivers/%: tests/drivers/%.c $(BUILD)/libtxpace.a $(HDRS)
	@mkdir -p $(@D)
	$(call msg,CC,$@)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libtxpace.a $(LDLIBS)

# The SPSC ring and the packet history under ThreadSanitizer stress.
TSAN_SRCS := user/core/ring.c user/core/history.c user/core/log.c
$(BUILD)/tests-tsan/test_ring: tests/unit/test_ring.c $(TSAN_SRCS) $(HDRS) tests/unit/unit.h
	@mkdir -p $(@D)
	$(call msg,CC-TSAN,$@)$(CLANG) $(filter-out -MMD -MP,$(BASE_CFLAGS)) $(TSAN_FLAGS) -DSTRESS=1 -Itests/unit -o $@ $< $(TSAN_SRCS) -lpthread -lm

# libFuzzer targets for every parser of network input: the library compiled once, instrumented
# (fuzzer-no-link), each target linked with libFuzzer's main.
FUZZ_FLAGS := -O1 -g -fsanitize=address,undefined
FUZZ_OBJS := $(LIB_SRCS:user/%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/obj/%.o: user/%.c $(HDRS) | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(call msg,CC-FUZZ,$@)$(CLANG) $(filter-out -MMD -MP,$(BASE_CFLAGS)) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/libtxpace-fuzz.a: $(FUZZ_OBJS)
	$(call msg,AR,$@)$(AR) rcs $@ $^

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/fuzz/libtxpace-fuzz.a $(HDRS)
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)$(CLANG) $(filter-out -MMD -MP,$(BASE_CFLAGS)) $(FUZZ_FLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/fuzz/libtxpace-fuzz.a $(LDLIBS)

deps:
	$(Q)scripts/install-deps.sh

# Cross builds for the Raspberry Pi: Debian's cross compilers and the multiarch -dev packages
# (scripts/install-deps.sh). Each in build/ARCH/ (txpace, the unit tests, the BPF objects for
# that kernel architecture); tests/run.sh runs the unit tests under qemu-user.
CROSS_ARCHES := arm64 armhf
TRIPLET_arm64 := aarch64-linux-gnu
TRIPLET_armhf := arm-linux-gnueabihf
BPF_ARCH_arm64 := arm64
BPF_ARCH_armhf := arm
cross: $(CROSS_ARCHES:%=cross-%)
cross-%:
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/$* CC=$(TRIPLET_$*)-gcc AR=$(TRIPLET_$*)-ar \
		PKG_CONFIG=$(TRIPLET_$*)-pkg-config ARCH=$(BPF_ARCH_$*) cross-tests
cross-tests: $(BUILD)/txpace $(UNIT_BINS) $(BPF_TESTS)
	@:

# The unit tests and txpace itself under AddressSanitizer + UndefinedBehaviorSanitizer (txpace
# for a named subset of the integration tests, tests/run.sh): a build directory of their own,
# the library compiled once. (In the sub-make BUILD is $(BUILD)/san, so there these are the
# ordinary rules; with _FORTIFY_SOURCE as distributions build, whose checks -Werror then sees
# at -O1.)
$(BUILD)/san/txpace $(SAN_BINS) &: $(LIB_SRCS) $(CLI_SRCS) user/cli/main.c $(HDRS) $(BPF_SRCS) \
		include/txpace_abi.h $(UNIT_SRCS) tests/unit/unit.h
	$(Q)$(MAKE) --no-print-directory BUILD=$(BUILD)/san CFLAGS="$(SAN_FLAGS) -D_FORTIFY_SOURCE=2" \
		$(BUILD)/san/txpace $(SAN_BINS)

build-tests: $(UNIT_BINS) $(DRIVER_BINS) $(SAN_BINS) $(BUILD)/tests-tsan/test_ring $(FUZZ_BINS) $(BPF_TESTS) $(BUILD)/san/txpace \
	cross $(DIST) $(DEB_STAMPS)

check: deps
	$(Q)$(MAKE) --no-print-directory all build-tests
	$(Q)tests/run.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/txpace
	$(Q)$(BUILD)/txpace demo

bench: all
	$(Q)bench/pacing.sh

# txpace(8) and the bash completion, written by txpace itself from its option tables (so they
# never drift from --help). MANGEN runs a txpace built for this machine: the one just built, or
# in a cross build the host's (the page and the script are the same for every architecture).
MANGEN	?= $(BUILD)/txpace
$(BUILD)/txpace.8: $(BUILD)/txpace
	$(call msg,MAN,$@)$(MANGEN) --man > $@
$(BUILD)/txpace.bash: $(BUILD)/txpace
	$(call msg,GEN,$@)$(MANGEN) --bash-completion > $@
man: $(BUILD)/txpace.8 $(BUILD)/txpace.bash

DIST := $(BUILD)/txpace $(BUILD)/libtxpace.a $(BUILD)/txpace.8 $(BUILD)/txpace.bash
dist: $(DIST)

# The tool, its man page and completion, the systemd unit (txpace@NAME.service runs
# /etc/txpace/NAME.conf), and the library: libtxpace.a, its public headers, txpace.pc. The
# unit and txpace.pc name the install's paths, so they are written here, not in build/.
INSTALL_UNIT = $(DESTDIR)$(SYSTEMDUNITDIR)/txpace@.service
install: $(DIST)
	install -D -m 0755 $(BUILD)/txpace $(DESTDIR)$(BINDIR)/txpace
	install -D -m 0644 $(BUILD)/txpace.8 $(DESTDIR)$(MANDIR)/man8/txpace.8
	install -D -m 0644 $(BUILD)/txpace.bash $(DESTDIR)$(BASHCOMPDIR)/txpace
	install -d $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	sed -e 's|@BINDIR@|$(BINDIR)|g' dist/txpace@.service.in > $(INSTALL_UNIT) && \
		chmod 0644 $(INSTALL_UNIT)
	install -D -m 0644 dist/stream.conf $(DESTDIR)$(DOCDIR)/examples/stream.conf
	install -D -m 0644 $(BUILD)/libtxpace.a $(DESTDIR)$(LIBDIR)/libtxpace.a
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' dist/txpace.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/txpace.pc
	install -d $(DESTDIR)$(INCLUDEDIR)/txpace
	install -m 0644 include/txpace/*.h $(DESTDIR)$(INCLUDEDIR)/txpace/
	install -m 0644 include/txpace_abi.h $(DESTDIR)$(INCLUDEDIR)/txpace_abi.h

# Debian packages (debian/): dpkg-buildpackage in a copy of the tree under build/deb/ARCH/ (with
# none of this make's flags: debian/rules sets its own), for this machine and, cross-built, for
# the Raspberry Pi's arm64 and armhf; the .debs in build/deb/, then lintian (errors fail). The
# cross builds take the man page and completion from this machine's txpace. `make deb-ARCH`
# builds one; build-tests builds them all (test_install.sh checks them and runs lintian).
DEBS := $(foreach a,$(DEB_ARCHES),$(BUILD)/deb/txpace_$(VERSION)_$(a).deb \
	$(BUILD)/deb/libtxpace-dev_$(VERSION)_$(a).deb)
deb: $(DEB_STAMPS)
	$(call msg,LINTIAN,$(BUILD)/deb)lintian --fail-on error $(DEBS)
deb-%: $(BUILD)/deb/%.stamp
	@:
$(BUILD)/deb/%.stamp: $(DEB_SRCS) $(BUILD)/txpace
	$(call msg,DEB,$(BUILD)/deb/$*)rm -rf $(BUILD)/deb/$* && mkdir -p $(BUILD)/deb/$*/txpace
	$(Q)tar -cf - $(DEB_TREE) | tar -C $(BUILD)/deb/$*/txpace -xf -
	$(Q)cd $(BUILD)/deb/$*/txpace && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		TXPACE_HOST=$(abspath $(BUILD)/txpace) DEB_BUILD_OPTIONS="noddebs parallel=2$(if $(filter $(DEB_ARCH),$*),, nocheck)" \
		dpkg-buildpackage -b -us -uc $(if $(filter $(DEB_ARCH),$*),,-a$*) >../build.log 2>&1 || \
		{ tail -n 30 ../build.log >&2; echo "make deb: the $* build failed, see $(BUILD)/deb/$*/build.log" >&2; exit 1; }
	$(Q)cp $(BUILD)/deb/$*/*.deb $(BUILD)/deb/
	@touch $@

clean:
	rm -rf $(BUILD)

help:
	@echo 'targets: all (default) check demo bench install man deb clean help cross   options: V=1 CC= CLANG= PREFIX= DESTDIR='

.PHONY: all deps build-tests check demo bench install man dist deb clean help cross cross-tests

-include $(wildcard $(BUILD)/obj/*/*.d)
