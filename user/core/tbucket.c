// SPDX-License-Identifier: GPL-2.0-only
/* Token bucket module: a rate limit for what strangers or a confused peer could ask us to send. */
#include "txpace/clock.h"
#include "txpace/tbucket.h"

void tbucket_init(struct tbucket *b, uint32_t rate, uint32_t burst, int64_t now)
{
	b->rate = rate ? rate : 1;
	b->cap = (int64_t)(burst ? burst : 1) * NSEC_PER_SEC;
	b->fill_ns = b->cap / b->rate + 1;
	b->credit = b->cap;
	b->last = now;
}

int tbucket_take(struct tbucket *b, int64_t now)
{
	/* a clock read before @last (another thread's older stamp) adds nothing */
	if (now > b->last) {
		int64_t dt = now - b->last;

		/* clamped first, so the product cannot overflow after a long idle time */
		b->credit += (dt < b->fill_ns ? dt : b->fill_ns) * b->rate;
		if (b->credit > b->cap) {
			b->credit = b->cap;
		}
		b->last = now;
	}
	if (b->credit < NSEC_PER_SEC) {
		return 0;
	}
	b->credit -= NSEC_PER_SEC;
	return 1;
}
