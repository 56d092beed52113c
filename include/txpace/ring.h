/* SPDX-License-Identifier: GPL-2.0-only */
/* Lock-free single-producer single-consumer ring of fixed-size packet slots. */
#ifndef TXPACE_RING_H
#define TXPACE_RING_H

#include <stddef.h>
#include <stdint.h>

/* One packet, built completely by the producer, stamped with the instant it must leave. */
struct pkt {
	uint64_t k;		/* packet index in the schedule */
	int64_t launch_ns;	/* CLOCK_MONOTONIC */
	uint32_t len;
	uint32_t flags;		/* PKT_F_* */
	uint32_t seq;		/* the profile's sequence number: history and stamp key */
	uint32_t pad;
	uint8_t data[];
};

#define PKT_F_LAST 1u		/* the source ended with this packet */

struct ring;

/** @return a ring of @nslots (rounded up to a power of two) slots of @payload_max bytes, or NULL */
struct ring *ring_new(size_t nslots, size_t payload_max);
void ring_free(struct ring *r);
size_t ring_capacity(const struct ring *r);
size_t ring_payload_max(const struct ring *r);

/* Producer side. begin returns the next free slot or NULL when full; commit publishes it. */
struct pkt *ring_produce_begin(struct ring *r);
void ring_produce_commit(struct ring *r);
/** Mark the end of the stream (producer side; no slot is published after this). */
void ring_close(struct ring *r);

/* Consumer side. peek returns the oldest published slot or NULL when empty; release frees it. */
struct pkt *ring_consume_peek(struct ring *r);
void ring_consume_release(struct ring *r);
/** @return 1 when the producer closed the ring and every slot was consumed */
int ring_drained(struct ring *r);
/** @return the number of published, unconsumed slots (either side, approximate) */
size_t ring_count(struct ring *r);

#endif
