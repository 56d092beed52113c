/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A jitter buffer of RTP payloads kept by sequence number, between one storing thread (a
 * receiver) and one deciding thread (the consumer, e.g. the relay's producer). The consumer
 * decides each sequence number once: its payload, or silence when it is not here in time. A
 * store and a decision of the same number meet in one compare-and-swap, so every packet offered
 * ends exactly once as used, late or dropped, and is counted so.
 */
#ifndef TXPACE_JBUF_H
#define TXPACE_JBUF_H

#include <stdint.h>

#define JBUF_PAYLOAD_MAX 1500	/* the largest payload kept */
#define JBUF_DEPTH 1024		/* packets kept, by sequence number */

struct jbuf;

enum jbuf_outcome {
	JBUF_STORED,	/* here, undecided */
	JBUF_LATE,	/* its number was decided already (silence), or is behind the consumer */
	JBUF_DROPPED,	/* not kept: a duplicate, or its slot is being read */
};

struct jbuf_counts {
	uint64_t used, late, dropped;
};

/** @return an empty buffer, or NULL with errno set */
struct jbuf *jbuf_new(void);
void jbuf_free(struct jbuf *jb);

/** Storing thread: offer packet @seq (@len <= JBUF_PAYLOAD_MAX). @return its fate (counted) */
enum jbuf_outcome jbuf_store(struct jbuf *jb, uint16_t seq, uint32_t ts, const uint8_t *payload,
			     uint32_t len);

/* The consumer: */
/** It decides @seq next: a packet before it that is offered now is late (once started). */
void jbuf_next(struct jbuf *jb, uint16_t seq);
/** It has started: from now on, packets behind jbuf_next() are late, not stored. */
void jbuf_started(struct jbuf *jb);
/**
 * Decide @seq: a stored packet of @len bytes and RTP time @want_ts is taken (another one is
 * dropped). Before the deadline (@final 0) -EAGAIN when it is not here; at the deadline its
 * number is marked silent instead, in one compare-and-swap against the store.
 * @return 1 with the payload in @out, 0 for silence, -EAGAIN
 */
int jbuf_take(struct jbuf *jb, uint16_t seq, uint32_t want_ts, uint32_t len, uint8_t *out,
	      int final);
/** Count every stored packet before @before (all of them if @all) as dropped. */
void jbuf_sweep(struct jbuf *jb, uint16_t before, int all);

void jbuf_counts(const struct jbuf *jb, struct jbuf_counts *c);

#endif
