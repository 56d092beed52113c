// SPDX-License-Identifier: GPL-2.0-only
/* Histogram module: log-linear buckets (7 significant bits), percentiles without storing samples. */
#include <math.h>
#include <string.h>

#include "txpace/hist.h"

static unsigned bucket_of(uint64_t v)
{
	unsigned msb, shift;

	if (v < 128) {
		return (unsigned)v;
	}
	msb = 63 - (unsigned)__builtin_clzll(v);
	shift = msb - 6;
	return (shift << 6) + (unsigned)(v >> shift);
}

/* [lo, hi) of bucket b */
static void bucket_range(unsigned b, uint64_t *lo, uint64_t *hi)
{
	unsigned shift, mant;

	if (b < 128) {
		*lo = b;
		*hi = b + 1;
		return;
	}
	shift = (b >> 6) - 1;
	mant = (b & 63) + 64;
	*lo = (uint64_t)mant << shift;
	*hi = (uint64_t)(mant + 1) << shift;
}

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void hist_add(struct hist *h, uint64_t v)
{
	atomic_fetch_add_explicit(&h->b[bucket_of(v)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
	if (v > atomic_load_explicit(&h->max, memory_order_relaxed)) {
		atomic_store_explicit(&h->max, v, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t n = hist_count(h), max = hist_max(h), seen = 0, rank;

	if (n == 0) {
		return 0;
	}
	if (q >= 1.0) {
		return max;
	}
	/* nearest rank: the smallest value with at least q*n samples at or below it */
	rank = (uint64_t)ceil(q * (double)n);
	rank = rank > 0 ? rank - 1 : 0;
	if (rank >= n) {
		rank = n - 1;
	}
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		seen += atomic_load_explicit(&h->b[b], memory_order_relaxed);
		if (seen > rank) {
			uint64_t lo, hi, mid;

			bucket_range(b, &lo, &hi);
			mid = lo + (hi - lo) / 2;
			return mid > max ? max : mid;
		}
	}
	return max;
}
