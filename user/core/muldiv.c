// SPDX-License-Identifier: GPL-2.0-only
/* Exact a * b / c: __int128 where the compiler has it, else a 128-bit product by 32-bit halves and a restoring division. */
#include <stddef.h>

#include "txpace/muldiv.h"

uint64_t mul_div_u64_portable(uint64_t a, uint64_t b, uint64_t c, uint64_t *rem)
{
	uint64_t a_lo = (uint32_t)a, a_hi = a >> 32, b_lo = (uint32_t)b, b_hi = b >> 32;
	uint64_t ll = a_lo * b_lo, lh = a_lo * b_hi, hl = a_hi * b_lo, hh = a_hi * b_hi;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
	uint64_t lo = (mid << 32) | (uint32_t)ll;
	uint64_t hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);

	/* (hi < c, since the quotient fits 64 bits) */
	/* one quotient bit per step, shifted into lo as lo's own bits move out into hi */
	for (int i = 0; i < 64; i++) {
		uint64_t top = hi >> 63;

		hi = (hi << 1) | (lo >> 63);
		lo <<= 1;
		if (top || hi >= c) {
			hi -= c;
			lo |= 1;
		}
	}
	if (rem) {
		*rem = hi;
	}
	return lo;
}

uint64_t mul_div_u64(uint64_t a, uint64_t b, uint64_t c, uint64_t *rem)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 p = (unsigned __int128)a * b;

	if (rem) {
		*rem = (uint64_t)(p % c);
	}
	return (uint64_t)(p / c);
#else
	return mul_div_u64_portable(a, b, c, rem);
#endif
}

int64_t mul_div_s64(int64_t a, uint64_t b, uint64_t c)
{
	uint64_t m = a < 0 ? -(uint64_t)a : (uint64_t)a;
	uint64_t q = mul_div_u64(m, b, c, NULL);

	return a < 0 ? -(int64_t)q : (int64_t)q;
}
