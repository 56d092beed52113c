/* SPDX-License-Identifier: GPL-2.0-only */
/* Token bucket: at most @rate events a second on average, @burst at once, in integer time. */
#ifndef TXPACE_TBUCKET_H
#define TXPACE_TBUCKET_H

#include <stdint.h>

/*
 * The bucket holds credit in units of 1/rate ns: time that passes adds (ns x rate), a token costs
 * one second's worth, up to burst seconds' worth. Over any T ns at most burst + T x rate / 1e9
 * tokens are taken, exactly (no rounded per-token cost for rates that do not divide 1e9).
 */
struct tbucket {
	int64_t rate;		/* tokens a second */
	int64_t cap;		/* burst x NSEC_PER_SEC */
	int64_t fill_ns;	/* time that fills an empty bucket (or more) */
	int64_t credit;
	int64_t last;		/* when credit was last added (any steady clock, ns) */
};

/**
 * Start a full bucket at @now.
 * @param rate tokens a second, >= 1
 * @param burst tokens at once, >= 1
 */
void tbucket_init(struct tbucket *b, uint32_t rate, uint32_t burst, int64_t now);
/** @return 1 when a token was taken at @now, 0 when the bucket is empty */
int tbucket_take(struct tbucket *b, int64_t now);

#endif
