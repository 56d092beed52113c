/* SPDX-License-Identifier: GPL-2.0-only */
/* The schedule: launch time and RTP timestamp of packet k, exact integer arithmetic, no drift. */
#ifndef TXPACE_SCHED_H
#define TXPACE_SCHED_H

#include <stdint.h>

/*
 * Packet k carries samples [k*spp, (k+1)*spp) of the stream and must leave at
 * start_ns + floor(k * spp * 1e9 / rate). Every launch time is computed from k alone (128-bit
 * product), so there is no accumulated rounding: after a day at any rate the error is < 1 ns.
 */
struct schedule {
	int64_t start_ns;	/* launch time of packet 0, CLOCK_MONOTONIC */
	uint32_t rate;		/* samples per second */
	uint32_t spp;		/* samples per packet */
	uint32_t ts0;		/* RTP timestamp of packet 0 */
};

/**
 * Fill @s for @rate and a packet time of @ptime_ns, rounded to the nearest whole number of
 * samples (set in *spp_out if given); launch times then follow the exact sample grid.
 * @return 0 when @ptime_ns is a whole number of samples, 1 when it was rounded, -EINVAL
 */
int sched_init(struct schedule *s, uint32_t rate, int64_t ptime_ns, int64_t start_ns, uint32_t ts0,
	       uint32_t *spp_out);
/** @return CLOCK_MONOTONIC launch time of packet @k */
int64_t sched_launch(const struct schedule *s, uint64_t k);
/** @return the exact (possibly fractional) packet time in ns, floored */
int64_t sched_ptime_ns(const struct schedule *s);
/** @return RTP timestamp of packet @k (mod 2^32, exact) */
static inline uint32_t sched_rtp_ts(const struct schedule *s, uint64_t k)
{
	return s->ts0 + (uint32_t)(k * s->spp);
}
/** @return the first packet whose launch time is >= @t */
uint64_t sched_first_at(const struct schedule *s, int64_t t);

#endif
