/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Adaptive spin (`--spin auto`): the rt pacer sleeps to launch - window and spins the rest. The
 * window follows the pacer's own recent wake-up lateness (how late clock_nanosleep returned):
 * the 99.5th percentile of the last SPIN_SAMPLES plus a margin, never more than the cap. A
 * wake-up later than the window raises it at once, to at most twice what it was (one stall of
 * milliseconds is not a reason to spin milliseconds); it shrinks as quieter wake-ups replace
 * the late ones. The cap is a budget: SPIN_BUDGET of the packet time, at least SPIN_FLOOR_NS,
 * at most half of it (spin_auto_cap). A spin that long costs more than it saves: on a shared
 * host the hypervisor takes the busy vCPU away more often (measured: 8 ms packets with a window
 * grown to 1-4 ms woke later, p99 577 us against 196 us with 200 us, and left later too).
 */
#ifndef TXPACE_SPIN_H
#define TXPACE_SPIN_H

#include <stdint.h>

#define SPIN_SAMPLES 512	/* at 1 ms packets half a second, at 8 ms four seconds */
#define SPIN_EVERY 64		/* the percentile is recomputed after this many wake-ups */
#define SPIN_MARGIN_NS 10000	/* above the percentile: the spin's own start and the send */
#define SPIN_QUANTILE 0.995	/* the receiver's p99 needs the wake-ups' p99.5 covered */
#define SPIN_BUDGET 0.05	/* of the packet time: the most the window takes */
#define SPIN_FLOOR_NS 50000	/* the budget never below this (125 us packets: 50 us) */

struct spin_auto {
	uint32_t late[SPIN_SAMPLES];	/* ns, clamped to 4 s */
	unsigned n, next, since;
	int64_t window, cap;
	int64_t min_seen, max_seen;	/* the window's range over the run */
	uint64_t changes;		/* how often it moved */
};

/** The window's cap for packets of @ptime_ns: the budget, at least the floor, at most half. */
static inline int64_t spin_auto_cap(int64_t ptime_ns)
{
	int64_t c = (int64_t)((double)ptime_ns * SPIN_BUDGET);

	if (c < SPIN_FLOOR_NS) {
		c = SPIN_FLOOR_NS;
	}
	return c > ptime_ns / 2 ? ptime_ns / 2 : c;
}
/** Start with @initial_ns (clamped to @cap_ns) until the first percentile is known. */
void spin_auto_init(struct spin_auto *s, int64_t initial_ns, int64_t cap_ns);
/** One wake-up @late_ns after its target. @return the window for the next deadline, ns */
int64_t spin_auto_add(struct spin_auto *s, int64_t late_ns);
static inline int64_t spin_auto_window(const struct spin_auto *s)
{
	return s->window;
}

#endif
