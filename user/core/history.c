// SPDX-License-Identifier: GPL-2.0-only
/* History module: per-slot sequence locks, so a reader never returns a half-overwritten packet. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/history.h"

struct hslot {
	_Atomic uint32_t version;	/* odd while the writer is inside */
	_Atomic uint32_t seq;
	_Atomic uint32_t len;
};

struct history {
	size_t mask, payload_max;
	_Atomic uint64_t puts;		/* how many packets were put; release after newest */
	_Atomic uint32_t newest;	/* the last one's seq */
	struct hslot *meta;
	_Atomic uint8_t *data;	/* byte atomics: the seqlock makes torn reads detectable, not UB */
};

struct history *history_new(size_t depth, size_t payload_max)
{
	struct history *h = calloc(1, sizeof(*h));
	size_t n = 1;

	if (!h) {
		return NULL;
	}
	while (n < depth) {
		n <<= 1;
	}
	h->mask = n - 1;
	h->payload_max = payload_max;
	h->meta = calloc(n, sizeof(*h->meta));
	h->data = malloc(n * payload_max);
	if (!h->meta || !h->data) {
		history_free(h);
		return NULL;
	}
	/* touch every page now: no page faults in the pacer's first seconds */
	memset((void *)h->data, 0, n * payload_max);
	return h;
}

void history_free(struct history *h)
{
	if (!h) {
		return;
	}
	free(h->meta);
	free((void *)h->data);
	free(h);
}

void history_put(struct history *h, uint32_t seq, const void *data, size_t len)
{
	struct hslot *s = &h->meta[seq & h->mask];
	_Atomic uint8_t *dst = h->data + (seq & h->mask) * h->payload_max;
	const uint8_t *src = data;
	uint32_t v = atomic_load_explicit(&s->version, memory_order_relaxed);

	if (len > h->payload_max) {
		len = h->payload_max;
	}
	atomic_store_explicit(&s->version, v + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (size_t i = 0; i < len; i++) {
		atomic_store_explicit(&dst[i], src[i], memory_order_relaxed);
	}
	atomic_store_explicit(&s->seq, seq, memory_order_relaxed);
	atomic_store_explicit(&s->len, (uint32_t)len, memory_order_relaxed);
	atomic_store_explicit(&s->version, v + 2, memory_order_release);
	/* newest before the count: a reader that sees the count sees a newest at least as new */
	atomic_store_explicit(&h->newest, seq, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->puts, 1, memory_order_release);
}

int history_get(struct history *h, uint32_t seq, void *buf, size_t cap)
{
	struct hslot *s = &h->meta[seq & h->mask];
	_Atomic uint8_t *src = h->data + (seq & h->mask) * h->payload_max;
	uint8_t *dst = buf;

	for (int tries = 0; tries < 8; tries++) {
		uint32_t v1 = atomic_load_explicit(&s->version, memory_order_acquire);
		uint32_t len, got;

		if (v1 & 1) {
			continue;
		}
		if (v1 == 0 || atomic_load_explicit(&s->seq, memory_order_relaxed) != seq) {
			return -ENOENT;
		}
		len = atomic_load_explicit(&s->len, memory_order_relaxed);
		if (len > cap) {
			/* only trust the length once the version says it was not torn */
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(&s->version, memory_order_relaxed) == v1) {
				return -ENOSPC;
			}
			continue;
		}
		for (size_t i = 0; i < len; i++) {
			dst[i] = atomic_load_explicit(&src[i], memory_order_relaxed);
		}
		atomic_thread_fence(memory_order_acquire);
		got = atomic_load_explicit(&s->version, memory_order_relaxed);
		if (got == v1) {
			return (int)len;
		}
	}
	return -EAGAIN;
}

int history_window(struct history *h, uint32_t *newest, size_t *held)
{
	uint64_t puts = atomic_load_explicit(&h->puts, memory_order_acquire);
	size_t room = h->mask ? h->mask : 1;

	if (!puts) {
		return -ENOENT;
	}
	*newest = atomic_load_explicit(&h->newest, memory_order_relaxed);
	*held = puts < room ? (size_t)puts : room;
	return 0;
}
