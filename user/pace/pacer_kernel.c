// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel backends: edt (root fq releases packets at the departure time the tc egress program
 * took from the schedule ring, or that SO_TXTIME carried) and etf (SO_TXTIME on CLOCK_TAI,
 * etf qdisc, NIC launch time where offloaded). The thread only hands packets over, --lead ahead,
 * in batches: its wake-up latency does not decide when audio leaves.
 */
#include <errno.h>
#include <sys/mman.h>
#include <time.h>

#include "txpace/memlock.h"
#include "txpace/clock.h"
#include "txpace/log.h"
#include "txpace/pacer.h"

static int kernel_setup(struct pacer *p)
{
	/* no page faults on the hand-off path; normal scheduling is enough */
	if (mem_lock() == 0) {
		atomic_store(&pacer_stats(p)->mlocked, 1);
	}
	return 0;
}

/*
 * Sleep until half a lead after the hand-off time, so one wake-up hands over every packet due
 * in the next half lead: about 2 * lead / ptime packets per wake-up, never later than lead / 2
 * before their launch.
 */
static void kernel_wait(struct pacer *p, int64_t handoff)
{
	const struct pacer_cfg *c = pacer_cfg(p);
	int64_t now = clock_ns(c->clock), wake;
	struct timespec ts;

	if (handoff <= now) {
		return;
	}
	wake = handoff + c->lead_ns / 2;
	while (wake - clock_ns(c->clock) > 50 * NSEC_PER_MSEC) {
		if (pacer_aborted(p)) {
			return;
		}
		ts = ns_to_ts(clock_ns(c->clock) + 50 * NSEC_PER_MSEC);
		clock_nanosleep(c->clock, TIMER_ABSTIME, &ts, NULL);
	}
	ts = ns_to_ts(wake);
	while (clock_nanosleep(c->clock, TIMER_ABSTIME, &ts, NULL) == EINTR) {
	}
	pacer_woke(p, clock_ns(c->clock) - wake);
}

const struct pacer_backend pacer_edt = {
	.name = "edt",
	.desc = "kernel pacing: tc egress BPF stamps the departure time from the schedule ring, "
		"fq releases the packet",
	.setup = kernel_setup,
	.wait = kernel_wait,
	.kernel = 1,
	.txtime_clock = -1,
};

const struct pacer_backend pacer_edt_txtime = {
	.name = "edt-txtime",
	.desc = "kernel pacing: SO_TXTIME (CLOCK_MONOTONIC) carries the departure time, fq releases",
	.setup = kernel_setup,
	.wait = kernel_wait,
	.kernel = 1,
	.txtime_clock = CLOCK_MONOTONIC,
};

const struct pacer_backend pacer_etf = {
	.name = "etf",
	.desc = "launch time: SO_TXTIME on CLOCK_TAI, etf qdisc (NIC offload where available)",
	.setup = kernel_setup,
	.wait = kernel_wait,
	.kernel = 1,
	.txtime_clock = CLOCK_TAI,
};
