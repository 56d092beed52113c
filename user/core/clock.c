// SPDX-License-Identifier: GPL-2.0-only
/* Clock module: MONOTONIC, REALTIME and TAI, their offsets sampled by sandwiching and tracked. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/timex.h>

#include "txpace/clock.h"
#include "txpace/muldiv.h"

struct clocks {
	_Atomic int64_t off_real;
	_Atomic int64_t off_tai;
	_Atomic int64_t width;
	_Atomic int64_t drift_ppb;
	/* tracker-only state */
	int64_t first_mono, first_off_real;
};

int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0) {
		return 0;
	}
	return ts_to_ns(&ts);
}

struct timespec ns_to_ts(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };

	if (ts.tv_nsec < 0) {
		ts.tv_nsec += NSEC_PER_SEC;
		ts.tv_sec--;
	}
	return ts;
}

/* The narrowest of a few mono/other/mono sandwiches: preemption inflates a sample, never shrinks it. */
static int64_t sample_offset(clockid_t id, int64_t *width)
{
	int64_t best_w = INT64_MAX, best = 0;

	for (int i = 0; i < 7; i++) {
		int64_t a = mono_ns();
		int64_t o = clock_ns(id);
		int64_t b = mono_ns();

		if (b - a < best_w) {
			best_w = b - a;
			best = o - (a + (b - a) / 2);
		}
	}
	if (width && best_w > *width) {
		*width = best_w;
	}
	return best;
}

struct clocks *clocks_new(void)
{
	struct clocks *c = calloc(1, sizeof(*c));

	if (!c) {
		return NULL;
	}
	clocks_track(c);
	c->first_mono = mono_ns();
	c->first_off_real = atomic_load(&c->off_real);
	return c;
}

void clocks_free(struct clocks *c)
{
	free(c);
}

int64_t clocks_track(struct clocks *c)
{
	int64_t w = 0;
	int64_t real = sample_offset(CLOCK_REALTIME, &w);
	int64_t tai, old_real = atomic_load(&c->off_real), step = 0, old_tai;
	struct timex tx = { .modes = 0 };

	/*
	 * A sample no narrower than the change it shows cannot tell a step from a preempted read
	 * (seen under emulation: ms-wide sandwiches): keep the earlier offset then.
	 */
	if (c->first_mono && w > 20 * NSEC_PER_USEC && llabs(real - old_real) < w) {
		real = old_real;
	}
	/* TAI - REALTIME is whole seconds, the kernel's own offset: exact, not sampled */
	if (adjtimex(&tx) >= 0) {
		tai = real + (int64_t)tx.tai * NSEC_PER_SEC;
	} else {
		tai = sample_offset(CLOCK_TAI, &w);
	}
	atomic_store(&c->off_real, real);
	old_tai = atomic_exchange(&c->off_tai, tai);

	atomic_store(&c->width, w);
	if (c->first_mono) {
		int64_t d1 = llabs(real - old_real), d2 = llabs(tai - old_tai);
		int64_t span = mono_ns() - c->first_mono;

		step = d1 > d2 ? d1 : d2;
		/* a step restarts the drift estimate; a slew shows as a slope */
		if (step > 1000 * NSEC_PER_USEC) {
			c->first_mono = mono_ns();
			c->first_off_real = real;
		} else if (span > NSEC_PER_SEC) {
			atomic_store(&c->drift_ppb, mul_div_s64(real - c->first_off_real,
								  NSEC_PER_SEC, (uint64_t)span));
		}
	}
	return step;
}

int64_t clocks_offset(const struct clocks *c, clockid_t id)
{
	switch (id) {
	case CLOCK_REALTIME:
		return atomic_load_explicit(&c->off_real, memory_order_relaxed);
	case CLOCK_TAI:
		return atomic_load_explicit(&c->off_tai, memory_order_relaxed);
	default:
		return 0;
	}
}

int64_t clocks_uncertainty(const struct clocks *c)
{
	return atomic_load(&c->width);
}

int64_t clocks_drift_ppb(const struct clocks *c)
{
	return atomic_load(&c->drift_ppb);
}
