/* SPDX-License-Identifier: GPL-2.0-only */
/* Sender-side departure stamps (SO_TIMESTAMPING) and socket errors from the error queue. */
#ifndef TXPACE_TXSTAMP_H
#define TXPACE_TXSTAMP_H

#include <stdint.h>

enum txstamp_kind { TXSTAMP_SCHED, TXSTAMP_SND };

struct txstamp_event {
	int is_error;		/* 1: an ICMP or local error (err holds the errno), 0: a stamp */
	enum txstamp_kind kind;
	uint32_t key;		/* OPT_ID counter: the n-th datagram sent on this socket */
	int64_t realtime_ns;	/* the stamp (CLOCK_REALTIME) */
	int err;
	const uint8_t *data;	/* errors: the start of the datagram that bounced */
	size_t len;
	int origin, code;	/* errors: SO_EE_ORIGIN_* and its code (TXTIME: 1 invalid, 2 missed) */
	uint64_t txtime;	/* SO_EE_ORIGIN_TXTIME: the packet's departure time */
};

/** Turn on SCHED + SND software stamps with OPT_ID and OPT_TSONLY. @return 0 or -errno */
int txstamp_enable(int fd);
/**
 * Read everything queued on @fd's error queue without blocking, calling @cb for each event.
 * @return events read, or a negative errno
 */
int txstamp_drain(int fd, void (*cb)(void *ctx, const struct txstamp_event *ev), void *ctx);

#endif
