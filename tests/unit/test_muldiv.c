// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exact a * b / c: the portable path (what armhf runs, no __int128) against 128-bit arithmetic
 * on edge cases and on a million random triples whose quotient fits 64 bits. Where the target
 * has no 128-bit integers (armhf, under qemu-user in make check) each answer is checked
 * instead by its remainder (< c), by q x c + r == a x b modulo 2^64, and by a long double
 * estimate of the quotient.
 */
#include <math.h>
#include <stdint.h>

#include "txpace/muldiv.h"
#include "unit.h"

static uint64_t x;

static uint64_t rnd(void)
{
	/* xorshift64*: repeatable, no libc state */
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return x * 2685821657736338717ULL;
}

static int agrees(uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t r1, r2, q1 = mul_div_u64_portable(a, b, c, &r1), q2 = mul_div_u64(a, b, c, &r2);
#ifdef __SIZEOF_INT128__
	unsigned __int128 p = (unsigned __int128)a * b;

	return q1 == (uint64_t)(p / c) && r1 == (uint64_t)(p % c) && q2 == q1 && r2 == r1;
#else
	long double est = (long double)a * (long double)b / (long double)c;

	return q1 == q2 && r1 == r2 && r1 < c && q1 * c + r1 == a * b &&
	       fabsl((long double)q1 - est) <= est * 1e-12L + 2;
#endif
}

/* does a x b / c fit 64 bits (c > 0)? */
static int fits(uint64_t a, uint64_t b, uint64_t c)
{
	return b == 0 || a / c < UINT64_MAX / b || (long double)a * b / c < 1.8e19L;
}

int main(void)
{
	static const uint64_t edge[][3] = {
		{ 0, 0, 1 }, { 1, 1, 1 }, { UINT64_MAX, 1, 1 }, { UINT64_MAX, UINT64_MAX, UINT64_MAX },
		{ UINT64_MAX, UINT64_MAX - 1, UINT64_MAX }, { 1ULL << 63, 2, 3 },
		{ 48000, 1000000, 1000000000 }, { 44100, 7981859, 1000000000 },
		{ 18446744073709ULL, 1000000000, 44100 }, { 3, 5, 7 }, { 1ULL << 32, 1ULL << 32, 1ULL << 33 },
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		CHECK(agrees(edge[i][0], edge[i][1], edge[i][2]));
	}
	x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 1000000; i++) {
		uint64_t a = rnd() >> (rnd() & 63), b = rnd() >> (rnd() & 63), c = rnd() >> (rnd() & 63);
		if (c == 0 || !fits(a, b, c) || (long double)a * b / c >= 1.8e19L) {
			continue;
		}
		bad += !agrees(a, b, c);
	}
	CHECK_EQ(bad, 0);
	/* signed: rounded toward zero, as C divides */
	CHECK_EQ(mul_div_s64(-7, 1, 2), -3);
	CHECK_EQ(mul_div_s64(7, 1, 2), 3);
	CHECK_EQ(mul_div_s64(-1000000000000LL, 1000000000, 3000000000ULL), -333333333333LL);
	CHECK_EQ(mul_div_s64(INT64_MIN + 1, 1, 1), INT64_MIN + 1);
	return unit_done("test_muldiv");
}
