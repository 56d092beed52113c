// SPDX-License-Identifier: GPL-2.0-only
/* Pacer backend sleep: the baseline, a relative sleep of one packet time after each send. */
#include <time.h>

#include "txpace/clock.h"
#include "txpace/pacer.h"

/*
 * What typical senders do (usleep(ptime) after each packet): the sleep overshoots and the
 * error accumulates, so the stream runs slow and has no grid. Kept only for comparison.
 */
static void sleep_wait(struct pacer *p, int64_t deadline)
{
	int64_t last = pacer_last_send(p);
	struct timespec ts;

	clockid_t clk = pacer_cfg(p)->clock;
	int64_t want;

	if (last == 0) {
		ts = ns_to_ts(deadline);
		clock_nanosleep(clk, TIMER_ABSTIME, &ts, NULL);
		pacer_woke(p, clock_ns(clk) - deadline);
		return;
	}
	want = clock_ns(clk) + pacer_cfg(p)->ptime_ns;
	ts = ns_to_ts(pacer_cfg(p)->ptime_ns);
	nanosleep(&ts, NULL);
	pacer_woke(p, clock_ns(clk) - want);
}

const struct pacer_backend pacer_sleep = {
	.name = "sleep",
	.desc = "baseline for comparison: relative sleep of one packet time after each send",
	.wait = sleep_wait,
};
