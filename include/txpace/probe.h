/* SPDX-License-Identifier: GPL-2.0-only */
/* What this machine offers for pacing, and the backend `--backend auto` takes. */
#ifndef TXPACE_PROBE_H
#define TXPACE_PROBE_H

struct probe_choice {
	const char *backend;	/* edt, etf or rt */
	const char *stamp;	/* edt: bpf or txtime */
	char reason[256];
};

/** Probe for the stream through @iface (NULL: the connected socket @fd's route; -1: default). */
void probe_choose(const char *iface, int fd, struct probe_choice *out);
/** @return 1 when the stream's interface is Wi-Fi with power save on */
int probe_wifi_powersave(const char *iface, int fd);

#endif
