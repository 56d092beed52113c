// SPDX-License-Identifier: GPL-2.0-only
/* Schedule module: launch times from sample positions, exact in 128-bit integers. */
#include <errno.h>

#include "txpace/clock.h"
#include "txpace/sched.h"

int sched_init(struct schedule *s, uint32_t rate, int64_t ptime_ns, int64_t start_ns, uint32_t ts0,
	       uint32_t *spp_out)
{
	unsigned __int128 num;
	uint64_t spp;

	if (rate == 0 || ptime_ns <= 0) {
		return -EINVAL;
	}
	num = (unsigned __int128)rate * (uint64_t)ptime_ns;
	spp = (uint64_t)((num + NSEC_PER_SEC / 2) / NSEC_PER_SEC);
	if (spp == 0) {
		spp = 1;
	}
	if (spp_out) {
		*spp_out = (uint32_t)spp;
	}
	if (spp > UINT32_MAX) {
		return -EINVAL;
	}
	s->start_ns = start_ns;
	s->rate = rate;
	s->spp = (uint32_t)spp;
	s->ts0 = ts0;
	return (uint64_t)spp * NSEC_PER_SEC != num;
}

int64_t sched_launch(const struct schedule *s, uint64_t k)
{
	unsigned __int128 pos = (unsigned __int128)k * s->spp;

	return s->start_ns + (int64_t)(pos * NSEC_PER_SEC / s->rate);
}

int64_t sched_ptime_ns(const struct schedule *s)
{
	return (int64_t)((uint64_t)s->spp * NSEC_PER_SEC / s->rate);
}

uint64_t sched_first_at(const struct schedule *s, int64_t t)
{
	unsigned __int128 num, den;

	if (t <= s->start_ns) {
		return 0;
	}
	/* smallest k with k*spp*1e9/rate (floored) >= t - start: k = ceil((t-start)*rate / (spp*1e9)) */
	num = (unsigned __int128)(uint64_t)(t - s->start_ns) * s->rate;
	den = (unsigned __int128)s->spp * NSEC_PER_SEC;
	uint64_t k = (uint64_t)((num + den - 1) / den);

	/* flooring in sched_launch can put launch(k-1) at or past t; step back while it does */
	while (k > 0 && sched_launch(s, k - 1) >= t) {
		k--;
	}
	return k;
}
