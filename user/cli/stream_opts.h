/* SPDX-License-Identifier: GPL-2.0-only */
/* Options that `send` and `relay` share: one set of keys, one parser with the ranges. */
#ifndef TXPACE_STREAM_OPTS_H
#define TXPACE_STREAM_OPTS_H

#include "cli.h"
#include "txpace/profile.h"

enum stream_opt_key {
	SO_FORMAT = 512, SO_RATE, SO_CHANNELS, SO_PTIME, SO_IFACE, SO_TTL, SO_DSCP, SO_PTP_SOCKET,
	SO_PTP_DOMAIN, SO_REQUIRE_LOCK, SO_LOCK_TIMEOUT, SO_SAP, SO_NAME, SO_SPIN, SO_PRIO, SO_CPU,
};

/* The rt pacer's knobs. */
struct pace_opts {
	int64_t spin_ns;
	long prio, cpu;
};

/**
 * Store the value of a shared option.
 * @return 1 when @key is one of them, 0 when it is not, -EINVAL on a bad value (reported)
 */
int stream_opt(const struct cli *c, int key, const char *arg, struct profile_opts *po,
	       struct pace_opts *pace);

#endif
