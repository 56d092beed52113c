// SPDX-License-Identifier: GPL-2.0-only
/* Schedule module: launch times from sample positions, exact (128-bit products, txpace/muldiv.h). */
#include <errno.h>

#include "txpace/clock.h"
#include "txpace/muldiv.h"
#include "txpace/sched.h"

int sched_init(struct schedule *s, uint32_t rate, int64_t ptime_ns, int64_t start_ns, uint32_t ts0,
	       uint32_t *spp_out)
{
	uint64_t spp, rem;

	if (rate == 0 || ptime_ns <= 0) {
		return -EINVAL;
	}
	/* rate x ptime / 1 s, rounded to the nearest sample */
	spp = mul_div_u64(rate, (uint64_t)ptime_ns, NSEC_PER_SEC, &rem);
	spp += rem >= NSEC_PER_SEC / 2;
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
	return rem != 0;
}

int64_t sched_launch(const struct schedule *s, uint64_t k)
{
	return s->start_ns + (int64_t)mul_div_u64(k * s->spp, NSEC_PER_SEC, s->rate, NULL);
}

int64_t sched_ptime_ns(const struct schedule *s)
{
	return (int64_t)((uint64_t)s->spp * NSEC_PER_SEC / s->rate);
}

uint64_t sched_first_at(const struct schedule *s, int64_t t)
{
	uint64_t k, rem;

	if (t <= s->start_ns) {
		return 0;
	}
	/* smallest k with k*spp*1e9/rate (floored) >= t - start: k = ceil((t-start)*rate / (spp*1e9)) */
	k = mul_div_u64((uint64_t)(t - s->start_ns), s->rate, (uint64_t)s->spp * NSEC_PER_SEC, &rem);
	k += rem != 0;

	/* flooring in sched_launch can put launch(k-1) at or past t; step back while it does */
	while (k > 0 && sched_launch(s, k - 1) >= t) {
		k--;
	}
	return k;
}
