/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Adaptive spin (`--spin auto`): the rt pacer sleeps to launch - window and spins the rest. The
 * window follows the pacer's own recent wake-up lateness (how late clock_nanosleep returned):
 * the 99.5th percentile of the last SPIN_SAMPLES plus a margin, never more than the cap (half a
 * packet time). A wake-up later than the window raises it at once; it shrinks as quieter
 * wake-ups replace the late ones.
 */
#ifndef TXPACE_SPIN_H
#define TXPACE_SPIN_H

#include <stdint.h>

#define SPIN_SAMPLES 512	/* at 1 ms packets half a second, at 8 ms four seconds */
#define SPIN_EVERY 64		/* the percentile is recomputed after this many wake-ups */
#define SPIN_MARGIN_NS 10000	/* above the percentile: the spin's own start and the send */
#define SPIN_QUANTILE 0.995	/* the receiver's p99 needs the wake-ups' p99.5 covered */

struct spin_auto {
	uint32_t late[SPIN_SAMPLES];	/* ns, clamped to 4 s */
	unsigned n, next, since;
	int64_t window, cap;
	int64_t min_seen, max_seen;	/* the window's range over the run */
	uint64_t changes;		/* how often it moved */
};

/** Start with @initial_ns (clamped to @cap_ns) until the first percentile is known. */
void spin_auto_init(struct spin_auto *s, int64_t initial_ns, int64_t cap_ns);
/** One wake-up @late_ns after its target. @return the window for the next deadline, ns */
int64_t spin_auto_add(struct spin_auto *s, int64_t late_ns);
static inline int64_t spin_auto_window(const struct spin_auto *s)
{
	return s->window;
}

#endif
