/* SPDX-License-Identifier: GPL-2.0-only */
/* What this machine offers for pacing, and the backend `--backend auto` takes. */
#ifndef TXPACE_PROBE_H
#define TXPACE_PROBE_H

#include <net/if.h>

/* Every fact `txpace probe` reports, in this order. */
enum probe_key {
	PROBE_HRT, PROBE_HZ, PROBE_BTF, PROBE_FIFO, PROBE_MLOCK, PROBE_TXTIME, PROBE_TSTAMP,
	PROBE_SETTS, PROBE_MMAP, PROBE_TIMER, PROBE_CLSACT, PROBE_CLSBPF, PROBE_FQ, PROBE_ETF,
	PROBE_DRIVER, PROBE_ETF_OFFLOAD, PROBE_HWTS, PROBE_WIFI_PS, PROBE_N
};

struct probe_check {
	const char *key;	/* the JSON key ("fq", "so_txtime", ...) */
	int ok;
	char why[160];		/* one line: what was found */
};

struct probe {
	struct probe_check c[PROBE_N];
	char ifname[IF_NAMESIZE], driver[32];
};

struct probe_choice {
	const char *backend;	/* edt, etf or rt */
	const char *stamp;	/* edt: bpf or txtime */
	char reason[256];
};

/** Every check, for the stream through @iface (NULL: the connected socket @fd's route; -1: default) */
void probe_run(struct probe *pr, const char *iface, int fd);
/** The backend `--backend auto` takes on what @pr found, and why (the choice table) */
void probe_decide(const struct probe *pr, struct probe_choice *out);
/** Probe for the stream through @iface (NULL: the connected socket @fd's route; -1: default). */
void probe_choose(const char *iface, int fd, struct probe_choice *out);
/** @return 1 when the stream's interface is Wi-Fi with power save on */
int probe_wifi_powersave(const char *iface, int fd);

#endif
