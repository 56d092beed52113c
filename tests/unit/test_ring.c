// SPDX-License-Identifier: GPL-2.0-only
/* SPSC ring and packet history: semantics, and a two-thread stress run (also under TSan). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "txpace/history.h"
#include "txpace/ring.h"
#include "unit.h"

#ifndef STRESS
#define STRESS 0
#endif
#define N_STRESS (STRESS ? 300000u : 2000000u)

static void test_basic(void)
{
	struct ring *r = ring_new(5, 100);
	struct pkt *p;

	CHECK(r != NULL);
	CHECK_EQ(ring_capacity(r), 8);
	CHECK(ring_consume_peek(r) == NULL);
	for (int i = 0; i < 8; i++) {
		p = ring_produce_begin(r);
		CHECK(p != NULL);
		p->k = (uint64_t)i;
		ring_produce_commit(r);
	}
	CHECK(ring_produce_begin(r) == NULL);	/* full */
	CHECK_EQ(ring_count(r), 8);
	for (int i = 0; i < 3; i++) {
		p = ring_consume_peek(r);
		CHECK(p && p->k == (uint64_t)i);
		ring_consume_release(r);
	}
	CHECK(ring_produce_begin(r) != NULL);
	CHECK(!ring_drained(r));
	ring_close(r);
	CHECK(!ring_drained(r));	/* closed but 5 left */
	while ((p = ring_consume_peek(r))) {
		ring_consume_release(r);
	}
	CHECK(ring_drained(r));
	CHECK(ring_new(0, 10) == NULL);
	ring_free(r);
	ring_free(NULL);
}

static void *producer(void *arg)
{
	struct ring *r = arg;

	for (uint32_t i = 0; i < N_STRESS; i++) {
		struct pkt *p;

		while (!(p = ring_produce_begin(r))) {
		}
		p->k = i;
		p->len = 4 + i % 60;
		for (uint32_t b = 0; b < p->len; b++) {
			p->data[b] = (uint8_t)(i + b);
		}
		ring_produce_commit(r);
	}
	ring_close(r);
	return NULL;
}

static void test_stress(void)
{
	struct ring *r = ring_new(16, 64);
	pthread_t t;
	uint64_t next = 0, bad = 0;

	pthread_create(&t, NULL, producer, r);
	for (;;) {
		struct pkt *p = ring_consume_peek(r);

		if (!p) {
			if (ring_drained(r)) {
				break;
			}
			continue;
		}
		if (p->k != next || p->len != 4 + next % 60) {
			bad++;
		}
		for (uint32_t b = 0; b < p->len; b++) {
			bad += p->data[b] != (uint8_t)(next + b);
		}
		next++;
		ring_consume_release(r);
	}
	pthread_join(t, NULL);
	CHECK_EQ(next, N_STRESS);
	CHECK_EQ(bad, 0);
	ring_free(r);
}

static void test_history(void)
{
	struct history *h = history_new(4, 32);
	uint8_t buf[64], small[2];

	CHECK(h != NULL);
	CHECK_EQ(history_get(h, 7, buf, sizeof(buf)), -ENOENT);
	history_put(h, 7, "seven", 5);
	CHECK_EQ(history_get(h, 7, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "seven", 5) == 0);
	CHECK_EQ(history_get(h, 7, small, sizeof(small)), -ENOSPC);
	history_put(h, 11, "eleven", 6);	/* same slot (depth 4): 7 is gone */
	CHECK_EQ(history_get(h, 7, buf, sizeof(buf)), -ENOENT);
	CHECK_EQ(history_get(h, 11, buf, sizeof(buf)), 6);
	/* 16-bit RTP sequence numbers wrap: 65535 and 0 are neighbours */
	history_put(h, 65535, "a", 1);
	history_put(h, 0, "b", 1);
	CHECK_EQ(history_get(h, 65535, buf, sizeof(buf)), 1);
	CHECK_EQ(history_get(h, 0, buf, sizeof(buf)), 1);
	history_free(h);
	history_free(NULL);
}

struct hctx {
	struct history *h;
	_Atomic int stop;
	_Atomic uint32_t last;		/* the newest sequence number written */
	_Atomic uint64_t reads;
	uint64_t torn;
};

static void *hist_reader(void *arg)
{
	struct hctx *c = arg;
	uint8_t buf[64];

	while (!c->stop) {
		/* the newest packet: still in the history unless the writer laps it meanwhile */
		uint32_t s = atomic_load(&c->last);
		int n = history_get(c->h, s % 4096, buf, sizeof(buf));

		if (n > 0) {
			atomic_fetch_add(&c->reads, 1);
			for (int b = 0; b < n; b++) {
				c->torn += buf[b] != (uint8_t)(s % 4096 + (uint32_t)b);
			}
		}
	}
	return NULL;
}

static void test_history_concurrent(void)
{
	struct hctx c = { .h = history_new(8, 64) };
	pthread_t t;
	uint8_t pkt[64];

	pthread_create(&t, NULL, hist_reader, &c);
	/* at least N_STRESS writes, and on until the reader has really read (a loaded machine may
	 * schedule it late), so "nothing torn" is about real reads */
	for (uint32_t i = 0; i < N_STRESS || (atomic_load(&c.reads) < 1000 && i < 100 * N_STRESS); i++) {
		uint32_t s = i % 4096;

		for (int b = 0; b < 64; b++) {
			pkt[b] = (uint8_t)(s + (uint32_t)b);
		}
		history_put(c.h, s, pkt, 16 + i % 48);
		atomic_store(&c.last, s);
	}
	c.stop = 1;
	pthread_join(t, NULL);
	CHECK(atomic_load(&c.reads) >= 1000);
	CHECK_EQ(c.torn, 0);
	history_free(c.h);
}

int main(void)
{
	test_basic();
	test_stress();
	test_history();
	test_history_concurrent();
	return unit_done(STRESS ? "test_ring (tsan)" : "test_ring");
}
