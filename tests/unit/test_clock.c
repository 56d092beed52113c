// SPDX-License-Identifier: GPL-2.0-only
/* Clock offsets: sampled offsets convert between MONOTONIC, REALTIME and TAI correctly. */
#include <sys/timex.h>

#include "txpace/clock.h"
#include "unit.h"

int main(void)
{
	struct clocks *c = clocks_new();
	struct timex tx = { 0 };
	int64_t tol;

	CHECK(c != NULL);
	if (!c) {
		return unit_done("test_clock");
	}
	CHECK_EQ(clocks_offset(c, CLOCK_MONOTONIC), 0);
	/* the sandwich width bounds the error of every conversion (plus a little scheduling) */
	tol = clocks_uncertainty(c) + 50 * NSEC_PER_USEC;
	CHECK(clocks_uncertainty(c) >= 0 && clocks_uncertainty(c) < NSEC_PER_MSEC);
	for (int i = 0; i < 100; i++) {
		int64_t m = mono_ns();
		int64_t r = clock_ns(CLOCK_REALTIME);
		int64_t conv = clocks_from_mono(c, CLOCK_REALTIME, m);

		CHECK(conv - r < tol && r - conv < tol);
		/* and back: a REALTIME instant read independently maps to the MONOTONIC one */
		int64_t m2 = mono_ns(), r2 = clock_ns(CLOCK_REALTIME), m3 = mono_ns();
		int64_t back = clocks_to_mono(c, CLOCK_REALTIME, r2);

		CHECK(back >= m2 - tol && back <= m3 + tol);
	}
	/*
	 * TAI: a conversion matches CLOCK_TAI read from the kernel (not the offset txpace derived
	 * from adjtimex, which would only check itself), and TAI - REALTIME is whole seconds.
	 */
	adjtimex(&tx);
	for (int i = 0; i < 100; i++) {
		int64_t m = mono_ns(), t = clock_ns(CLOCK_TAI);
		int64_t conv = clocks_from_mono(c, CLOCK_TAI, m);

		CHECK(conv - t < tol && t - conv < tol);
	}
	int64_t d = clocks_offset(c, CLOCK_TAI) - clocks_offset(c, CLOCK_REALTIME);

	CHECK_EQ(d % NSEC_PER_SEC, 0);
	/* resampling an unchanged clock reports no step */
	CHECK(clocks_track(c) < tol);
	CHECK(ns_to_ts(-1).tv_sec == -1 && ns_to_ts(-1).tv_nsec == NSEC_PER_SEC - 1);
	CHECK_EQ(ts_to_ns(&(struct timespec){ 3, 5 }), 3 * NSEC_PER_SEC + 5);
	clocks_free(c);
	clocks_free(NULL);
	return unit_done("test_clock");
}
