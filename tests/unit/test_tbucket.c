// SPDX-License-Identifier: GPL-2.0-only
/* Token bucket: the burst at once, then the rate, never more than burst + rate x time. */
#include "txpace/clock.h"
#include "txpace/tbucket.h"
#include "unit.h"

static int take_all(struct tbucket *b, int64_t now)
{
	int n = 0;

	while (tbucket_take(b, now)) {
		n++;
	}
	return n;
}

static void test_burst_then_rate(void)
{
	struct tbucket b;
	int64_t t0 = 5 * NSEC_PER_SEC;

	tbucket_init(&b, 250, 128, t0);
	CHECK_EQ(take_all(&b, t0), 128);
	/* 4 ms earns one token at 250/s; a little less earns none */
	CHECK_EQ(take_all(&b, t0 + 3999999), 0);
	CHECK_EQ(take_all(&b, t0 + 4000000), 1);
	/* a second of asking every 1 ms: 250 more, not 1000 */
	int n = 0;

	for (int ms = 5; ms <= 1004; ms++) {
		n += take_all(&b, t0 + ms * NSEC_PER_MSEC);
	}
	CHECK_EQ(n, 250);
	/* idle for a minute: refills to the burst, no more */
	CHECK_EQ(take_all(&b, t0 + 61 * NSEC_PER_SEC), 128);
	/* time going backwards adds nothing and takes nothing away */
	CHECK_EQ(take_all(&b, t0), 0);
	CHECK_EQ(take_all(&b, t0 + 61 * NSEC_PER_SEC + 8 * NSEC_PER_MSEC), 2);
}

static void test_bound(void)
{
	struct tbucket b;
	uint64_t taken = 0, over = 0;
	int64_t t = 0;

	/* uneven asking for 10 s, at a rate that does not divide 1e9: never above burst + rate x t */
	tbucket_init(&b, 300, 7, 0);
	for (int i = 0; i < 100000; i++) {
		t += (i * 7919) % 211 * 1000;
		taken += (uint64_t)take_all(&b, t);
		over += taken > 7 + (uint64_t)(t * 300 / NSEC_PER_SEC);
	}
	CHECK_EQ(over, 0);
	CHECK(t > 10 * NSEC_PER_SEC);
	CHECK(taken + 1 >= (uint64_t)(t * 300 / NSEC_PER_SEC));
}

int main(void)
{
	test_burst_then_rate();
	test_bound();
	return unit_done("test_tbucket");
}
