/* SPDX-License-Identifier: GPL-2.0-only */
/* Fixed-size log-linear histogram of nanosecond values: no allocation per sample, ~1.6 % buckets. */
#ifndef TXPACE_HIST_H
#define TXPACE_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#define HIST_BUCKETS 3776	/* values below 128 exact, then 64 buckets per power of two */

/*
 * One writer adds, any thread may read percentiles at any time (relaxed atomics: a reader may see
 * a sample or two in flight, never a torn count).
 */
struct hist {
	_Atomic uint64_t count;
	_Atomic uint64_t max;
	_Atomic uint64_t sum;
	_Atomic uint64_t b[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/** @return the value at quantile @q (0..1): the middle of its bucket, clamped to the exact max */
uint64_t hist_quantile(const struct hist *h, double q);
static inline uint64_t hist_count(const struct hist *h)
{
	return atomic_load_explicit(&h->count, memory_order_relaxed);
}
static inline uint64_t hist_max(const struct hist *h)
{
	return atomic_load_explicit(&h->max, memory_order_relaxed);
}

#endif
