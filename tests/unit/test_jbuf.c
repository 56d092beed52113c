// SPDX-License-Identifier: GPL-2.0-only
/* The jitter buffer: each packet offered ends once as used, late or dropped, and is counted so. */
#include <errno.h>
#include <string.h>

#include "txpace/jbuf.h"
#include "unit.h"

static const uint8_t pay[4] = { 1, 2, 3, 4 };

static void counts(struct jbuf *jb, uint64_t used, uint64_t late, uint64_t dropped)
{
	struct jbuf_counts c;

	jbuf_counts(jb, &c);
	CHECK_EQ(c.used, used);
	CHECK_EQ(c.late, late);
	CHECK_EQ(c.dropped, dropped);
}

static void test_take_and_silence(void)
{
	struct jbuf *jb = jbuf_new();
	uint8_t out[4] = { 0 };

	CHECK(jb != NULL);
	CHECK_EQ(jbuf_store(jb, 100, 4800, pay, 4), JBUF_STORED);
	CHECK_EQ(jbuf_store(jb, 100, 4800, pay, 4), JBUF_DROPPED);	/* a duplicate */
	CHECK_EQ(jbuf_take(jb, 100, 4800, 4, out, 0), 1);
	CHECK(!memcmp(out, pay, 4));
	/* not here before the deadline: wait; at it: silence, and the packet arriving now is late */
	CHECK_EQ(jbuf_take(jb, 101, 4848, 4, out, 0), -EAGAIN);
	CHECK_EQ(jbuf_take(jb, 101, 4848, 4, out, 1), 0);
	CHECK_EQ(jbuf_store(jb, 101, 4848, pay, 4), JBUF_LATE);
	/* another RTP time under the number wanted: not this timeline's packet */
	CHECK_EQ(jbuf_store(jb, 102, 9999, pay, 4), JBUF_STORED);
	CHECK_EQ(jbuf_take(jb, 102, 4896, 4, out, 1), 0);
	counts(jb, 1, 1, 2);
	jbuf_free(jb);
}

static void test_consumer_and_sweep(void)
{
	struct jbuf *jb = jbuf_new();

	for (uint16_t s = 0; s < 10; s++) {
		CHECK_EQ(jbuf_store(jb, (uint16_t)(65530 + s), s * 48u, pay, 4), JBUF_STORED);
	}
	/* the consumer starts at 2 (past the wrap): what is before it goes, and comes late now */
	jbuf_next(jb, 2);
	jbuf_sweep(jb, 2, 0);
	jbuf_started(jb);
	counts(jb, 0, 0, 8);
	CHECK_EQ(jbuf_store(jb, 65000, 0, pay, 4), JBUF_LATE);
	/* a packet the buffer's depth later evicts the undecided one in its slot */
	CHECK_EQ(jbuf_store(jb, 2 + JBUF_DEPTH, 0, pay, 4), JBUF_STORED);
	counts(jb, 0, 1, 9);
	jbuf_sweep(jb, 0, 1);
	counts(jb, 0, 1, 11);
	jbuf_free(jb);
}

int main(void)
{
	test_take_and_silence();
	test_consumer_and_sweep();
	return unit_done("jbuf");
}
