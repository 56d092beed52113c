// SPDX-License-Identifier: GPL-2.0-only
/* Adaptive spin window: a high percentile of the pacer's recent wake-up lateness. */
#include <stdlib.h>
#include <string.h>

#include "txpace/spin.h"

static int64_t clamp(const struct spin_auto *s, int64_t w)
{
	if (w < SPIN_MARGIN_NS) {
		w = SPIN_MARGIN_NS;
	}
	return w > s->cap ? s->cap : w;
}

static void set_window(struct spin_auto *s, int64_t w)
{
	w = clamp(s, w);
	if (w != s->window) {
		s->changes++;
	}
	s->window = w;
	if (w < s->min_seen) {
		s->min_seen = w;
	}
	if (w > s->max_seen) {
		s->max_seen = w;
	}
}

void spin_auto_init(struct spin_auto *s, int64_t initial_ns, int64_t cap_ns)
{
	memset(s, 0, sizeof(*s));
	s->cap = cap_ns > SPIN_MARGIN_NS ? cap_ns : SPIN_MARGIN_NS;
	s->window = clamp(s, initial_ns);
	s->min_seen = s->max_seen = s->window;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* the SPIN_QUANTILE of the samples held (a copy sorted: 512 values every 64 wake-ups) */
static int64_t quantile(const struct spin_auto *s)
{
	uint32_t v[SPIN_SAMPLES];
	unsigned i = (unsigned)(SPIN_QUANTILE * (s->n - 1) + 0.5);

	memcpy(v, s->late, s->n * sizeof(v[0]));
	qsort(v, s->n, sizeof(v[0]), cmp_u32);
	return v[i];
}

int64_t spin_auto_add(struct spin_auto *s, int64_t late_ns)
{
	uint32_t l = late_ns < 0 ? 0 : late_ns > 4000000000LL ? 4000000000U : (uint32_t)late_ns;

	s->late[s->next] = l;
	s->next = (s->next + 1) % SPIN_SAMPLES;
	if (s->n < SPIN_SAMPLES) {
		s->n++;
	}
	/* a wake-up the window did not cover: grow now (at most twice), not at the recompute */
	if ((int64_t)l + SPIN_MARGIN_NS > s->window) {
		int64_t w = (int64_t)l + SPIN_MARGIN_NS;

		set_window(s, w > 2 * s->window ? 2 * s->window : w);
	}
	if (++s->since >= SPIN_EVERY) {
		s->since = 0;
		set_window(s, quantile(s) + SPIN_MARGIN_NS);
	}
	return s->window;
}
