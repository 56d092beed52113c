// SPDX-License-Identifier: GPL-2.0-only
/* Ring module: SPSC ring, acquire/release indices on separate cache lines, no locks. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/ring.h"

#define CACHELINE 64

struct ring {
	_Alignas(CACHELINE) _Atomic size_t head;	/* next slot the producer fills */
	_Alignas(CACHELINE) _Atomic size_t tail;	/* next slot the consumer reads */
	_Alignas(CACHELINE) _Atomic int closed;
	size_t mask, slot_size, payload_max;
	uint8_t *slots;
};

struct ring *ring_new(size_t nslots, size_t payload_max)
{
	struct ring *r;
	size_t n = 1;

	if (nslots == 0 || payload_max == 0) {
		return NULL;
	}
	while (n < nslots) {
		n <<= 1;
	}
	r = aligned_alloc(CACHELINE, sizeof(*r));
	if (!r) {
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	r->mask = n - 1;
	r->payload_max = payload_max;
	r->slot_size = (sizeof(struct pkt) + payload_max + CACHELINE - 1) & ~(size_t)(CACHELINE - 1);
	r->slots = aligned_alloc(CACHELINE, n * r->slot_size);
	if (!r->slots) {
		free(r);
		return NULL;
	}
	/* touch every page now so the steady state takes no page faults */
	memset(r->slots, 0, n * r->slot_size);
	return r;
}

void ring_free(struct ring *r)
{
	if (!r) {
		return;
	}
	free(r->slots);
	free(r);
}

size_t ring_capacity(const struct ring *r)
{
	return r->mask + 1;
}

size_t ring_payload_max(const struct ring *r)
{
	return r->payload_max;
}

static struct pkt *slot(struct ring *r, size_t i)
{
	return (struct pkt *)(r->slots + (i & r->mask) * r->slot_size);
}

struct pkt *ring_produce_begin(struct ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (head - tail > r->mask) {
		return NULL;
	}
	return slot(r, head);
}

void ring_produce_commit(struct ring *r)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

void ring_close(struct ring *r)
{
	atomic_store_explicit(&r->closed, 1, memory_order_release);
}

struct pkt *ring_consume_peek(struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t head = atomic_load_explicit(&r->head, memory_order_acquire);

	if (head == tail) {
		return NULL;
	}
	return slot(r, tail);
}

void ring_consume_release(struct ring *r)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

int ring_drained(struct ring *r)
{
	/* closed is read first: a close after the last commit makes head final */
	if (!atomic_load_explicit(&r->closed, memory_order_acquire)) {
		return 0;
	}
	return atomic_load_explicit(&r->head, memory_order_acquire) ==
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

size_t ring_count(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}
