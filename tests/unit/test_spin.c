// SPDX-License-Identifier: GPL-2.0-only
/*
 * The adaptive spin window on made-up wake-up lateness: it settles at the 99th percentile plus
 * the margin, grows at once on a late wake-up (to at most twice what it was), shrinks back once
 * quiet wake-ups replace the late ones, and never leaves [margin, cap]; the cap is the budget.
 */
#include "txpace/spin.h"
#include "unit.h"

int main(void)
{
	struct spin_auto s;
	int64_t w = 0;

	spin_auto_init(&s, 200000, 500000);
	CHECK_EQ(spin_auto_window(&s), 200000);
	/* quiet: 50 us wake-ups, every one */
	for (int i = 0; i < SPIN_SAMPLES; i++) {
		w = spin_auto_add(&s, 50000);
	}
	CHECK_EQ(w, 50000 + SPIN_MARGIN_NS);
	/* one late wake-up (300 us): twice the window at once (not all of a stall), then covered */
	w = spin_auto_add(&s, 300000);
	CHECK_EQ(w, 2 * (50000 + SPIN_MARGIN_NS));
	w = spin_auto_add(&s, 300000);
	CHECK_EQ(w, 4 * (50000 + SPIN_MARGIN_NS));
	w = spin_auto_add(&s, 300000);
	CHECK_EQ(w, 300000 + SPIN_MARGIN_NS);
	/* 1 % of them late stays within the percentile's reach: the window holds them */
	for (int i = 0; i < SPIN_SAMPLES; i++) {
		w = spin_auto_add(&s, i % 100 == 0 ? 300000 : 50000);
	}
	CHECK(w >= 50000 + SPIN_MARGIN_NS && w <= 300000 + SPIN_MARGIN_NS);
	/* quiet again for a window's worth: back down */
	for (int i = 0; i < SPIN_SAMPLES; i++) {
		w = spin_auto_add(&s, 40000);
	}
	CHECK_EQ(w, 40000 + SPIN_MARGIN_NS);
	/* a very loud machine: capped at half a packet time */
	for (int i = 0; i < SPIN_SAMPLES; i++) {
		w = spin_auto_add(&s, 2000000);
	}
	CHECK_EQ(w, 500000);
	/* a perfect one: never below the margin */
	for (int i = 0; i < SPIN_SAMPLES; i++) {
		w = spin_auto_add(&s, 0);
	}
	CHECK_EQ(w, SPIN_MARGIN_NS);
	CHECK_EQ(s.min_seen, SPIN_MARGIN_NS);
	CHECK_EQ(s.max_seen, 500000);
	CHECK(s.changes >= 5);
	/* the budget: 5 % of the packet time, at least the floor, at most half of it */
	CHECK_EQ(spin_auto_cap(1000000), SPIN_FLOOR_NS);
	CHECK_EQ(spin_auto_cap(8000000), 400000);
	CHECK_EQ(spin_auto_cap(20000000), 1000000);
	CHECK_EQ(spin_auto_cap(80000), 40000);
	return unit_done("test_spin");
}
