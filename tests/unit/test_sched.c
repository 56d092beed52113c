// SPDX-License-Identifier: GPL-2.0-only
/* Schedule arithmetic: exact launch times, no drift after 24 hours at any rate and packet time. */
#include <errno.h>

#include "txpace/clock.h"
#include "txpace/sched.h"
#include "unit.h"

/* The reference, computed without 128-bit arithmetic: whole seconds and remainder separately. */
static int64_t ref_offset(uint64_t pos, uint32_t rate)
{
	return (int64_t)(pos / rate) * NSEC_PER_SEC + (int64_t)((pos % rate) * NSEC_PER_SEC / rate);
}

static void test_day_no_drift(void)
{
	static const uint32_t rates[] = { 8000, 11025, 16000, 22050, 32000, 44100, 48000,
					  88200, 96000, 176400, 192000 };
	static const int64_t ptimes[] = { 125000, 250000, 333333, 1000000, 4000000, 20000000 };
	const int64_t start = 123456789012345LL;

	for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
		for (size_t p = 0; p < sizeof(ptimes) / sizeof(ptimes[0]); p++) {
			struct schedule s;
			uint32_t spp;
			int rc = sched_init(&s, rates[r], ptimes[p], start, 0, &spp);

			CHECK(rc == 0 || rc == 1);
			CHECK(spp >= 1);
			/* the packet that covers the sample at 24 h */
			uint64_t day = 86400ull * rates[r];
			uint64_t k = day / spp;
			int64_t got = sched_launch(&s, k) - start;

			CHECK_EQ(got, ref_offset(k * spp, rates[r]));
			/* where 24 h is a packet boundary, its launch is exactly 24 h after start */
			if (day % spp == 0) {
				CHECK_EQ(got, 86400LL * NSEC_PER_SEC);
			}
			/* the error against the ideal real-valued grid stays below 1 ns */
			long double ideal = (long double)k * spp * 1e9L / rates[r];

			CHECK(ideal - (long double)got >= 0 && ideal - (long double)got < 1);
			/* consecutive launches differ by floor or ceil of the exact packet time */
			for (uint64_t j = k - 5; j < k + 5; j++) {
				int64_t d = sched_launch(&s, j + 1) - sched_launch(&s, j);
				int64_t fl = (int64_t)((uint64_t)spp * NSEC_PER_SEC / rates[r]);

				CHECK(d == fl || d == fl + 1);
			}
		}
	}
}

static void test_rounding(void)
{
	struct schedule s;
	uint32_t spp;

	CHECK_EQ(sched_init(&s, 48000, 1000000, 0, 0, &spp), 0);
	CHECK_EQ(spp, 48);
	CHECK_EQ(sched_init(&s, 44100, 1000000, 0, 0, &spp), 1);
	CHECK_EQ(spp, 44);
	CHECK_EQ(sched_init(&s, 48000, 333000, 0, 0, &spp), 1);
	CHECK_EQ(spp, 16);
	CHECK_EQ(sched_init(&s, 48000, 125000, 0, 0, &spp), 0);
	CHECK_EQ(spp, 6);
	CHECK_EQ(sched_init(&s, 0, 1000000, 0, 0, &spp), -EINVAL);
	CHECK_EQ(sched_init(&s, 48000, 0, 0, 0, &spp), -EINVAL);
	/* 16 samples at 48 kHz: 333333.33 ns, launch times follow the sample grid exactly */
	sched_init(&s, 48000, 333333, 1000, 0, NULL);
	CHECK_EQ(sched_launch(&s, 3), 1000 + 1000000);
	CHECK_EQ(sched_ptime_ns(&s), 333333);
}

static void test_rtp_ts_wrap(void)
{
	struct schedule s;

	sched_init(&s, 48000, 1000000, 0, 0xffffffe0u, NULL);
	CHECK_EQ(sched_rtp_ts(&s, 0), 0xffffffe0u);
	CHECK_EQ(sched_rtp_ts(&s, 1), 0x10u);
	/* far past the 32-bit wrap (about 25 h at 48 kHz) it is still ts0 + k * spp mod 2^32 */
	CHECK_EQ(sched_rtp_ts(&s, 89478485ull), (uint32_t)(0xffffffe0u + 89478485ull * 48));
	CHECK_EQ(sched_rtp_ts(&s, 3ull << 30), (uint32_t)(0xffffffe0u + (3ull << 30) * 48));
}

static void test_first_at(void)
{
	struct schedule s;
	uint64_t x = 88172645463325252ull;

	sched_init(&s, 44100, 8000000, 5000, 0, NULL);	/* 353 samples: not a whole ns */
	CHECK_EQ(sched_first_at(&s, 0), 0);
	CHECK_EQ(sched_first_at(&s, 5000), 0);
	CHECK_EQ(sched_first_at(&s, 5001), 1);
	for (int i = 0; i < 10000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		int64_t t = 5001 + (int64_t)(x % (400ull * 86400 * NSEC_PER_SEC));
		uint64_t k = sched_first_at(&s, t);

		CHECK(sched_launch(&s, k) >= t);
		CHECK(k == 0 || sched_launch(&s, k - 1) < t);
	}
}

int main(void)
{
	test_day_no_drift();
	test_rounding();
	test_rtp_ts_wrap();
	test_first_at();
	return unit_done("test_sched");
}
