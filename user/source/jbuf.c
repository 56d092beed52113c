// SPDX-License-Identifier: GPL-2.0-only
/* The jitter buffer: RTP payloads by sequence number, each stored packet decided exactly once. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "txpace/jbuf.h"

/*
 * Slot states, the low byte of jb_slot.state (the sequence number above it). The storing
 * thread writes a slot's payload only while it holds WRITING, the consumer reads it only while
 * it holds TAKEN; every other change is one compare-and-swap on the state. So the consumer's
 * decision for a sequence number (take it, or make its slot silent) and the store of that
 * packet cannot interleave: each stored packet ends exactly once as used, late or dropped.
 */
enum jb_state {
	JB_FREE,	/* nothing stored */
	JB_WRITING,	/* the receiver is storing seq */
	JB_STORED,	/* seq is here, undecided */
	JB_TAKEN,	/* the consumer is copying seq into its output packet */
	JB_USED,	/* seq went out */
	JB_SILENT,	/* seq's slot went out as silence: seq arriving now is late */
	JB_DROPPED,	/* seq was here but is not used (another RTP time, a re-anchor) */
};

struct jb_slot {
	_Atomic uint32_t state;		/* seq << 8 | enum jb_state */
	uint32_t ts;			/* the packet's RTP time */
	uint32_t len;
	uint8_t data[JBUF_PAYLOAD_MAX];
};

struct jbuf {
	_Atomic int started;
	_Atomic uint32_t next_needed;	/* consumer: the seq it decides next */
	_Atomic uint64_t used, late, dropped;
	struct jb_slot slot[JBUF_DEPTH];
};

static inline uint32_t jb_word(uint16_t seq, enum jb_state st)
{
	return (uint32_t)seq << 8 | st;
}

static inline uint16_t jb_seq(uint32_t w)
{
	return (uint16_t)(w >> 8);
}

static inline enum jb_state jb_st(uint32_t w)
{
	return (enum jb_state)(w & 0xff);
}

/* a is before b in RTP sequence order */
static inline int seq_before(uint16_t a, uint16_t b)
{
	return (int16_t)(a - b) < 0;
}

struct jbuf *jbuf_new(void)
{
	return calloc(1, sizeof(struct jbuf));
}

void jbuf_free(struct jbuf *jb)
{
	free(jb);
}

/* Store @seq, unless its slot was decided already (late) or it cannot be kept (a duplicate;
 * the consumer holds its slot). */
static enum jbuf_outcome store(struct jbuf *jb, uint16_t seq, uint32_t ts, const uint8_t *payload,
			       uint32_t len)
{
	struct jb_slot *sl = &jb->slot[seq % JBUF_DEPTH];
	uint32_t w = atomic_load(&sl->state), want;

	for (;;) {
		if (jb_seq(w) == seq && jb_st(w) != JB_FREE) {
			/* decided as silence: late; anything else: this packet again */
			return jb_st(w) == JB_SILENT ? JBUF_LATE : JBUF_DROPPED;
		}
		/* behind the consumer: its slot went out (or the output began after it) */
		if (atomic_load(&jb->started) &&
		    seq_before(seq, (uint16_t)atomic_load(&jb->next_needed))) {
			return JBUF_LATE;
		}
		if (jb_st(w) == JB_TAKEN) {
			return JBUF_DROPPED;	/* the consumer reads a packet JBUF_DEPTH away */
		}
		if (atomic_compare_exchange_weak(&sl->state, &w, jb_word(seq, JB_WRITING))) {
			break;
		}
	}
	if (jb_st(w) == JB_STORED) {
		atomic_fetch_add(&jb->dropped, 1);	/* evicted, never decided */
	}
	sl->ts = ts;
	sl->len = len;
	memcpy(sl->data, payload, len);
	want = jb_word(seq, JB_WRITING);
	if (atomic_compare_exchange_strong(&sl->state, &want, jb_word(seq, JB_STORED))) {
		return JBUF_STORED;
	}
	/* the consumer reached the silence decision for it while we were writing */
	return want == jb_word(seq, JB_SILENT) ? JBUF_LATE : JBUF_DROPPED;
}

enum jbuf_outcome jbuf_store(struct jbuf *jb, uint16_t seq, uint32_t ts, const uint8_t *payload,
			     uint32_t len)
{
	enum jbuf_outcome o = store(jb, seq, ts, payload, len);

	if (o == JBUF_LATE) {
		atomic_fetch_add(&jb->late, 1);
	} else if (o == JBUF_DROPPED) {
		atomic_fetch_add(&jb->dropped, 1);
	}
	return o;
}

void jbuf_next(struct jbuf *jb, uint16_t seq)
{
	atomic_store(&jb->next_needed, seq);
}

void jbuf_started(struct jbuf *jb)
{
	atomic_store(&jb->started, 1);
}

int jbuf_take(struct jbuf *jb, uint16_t seq, uint32_t want_ts, uint32_t len, uint8_t *out,
	      int final)
{
	struct jb_slot *sl = &jb->slot[seq % JBUF_DEPTH];
	uint32_t w = atomic_load(&sl->state);

	for (;;) {
		if (w == jb_word(seq, JB_STORED)) {
			if (!atomic_compare_exchange_weak(&sl->state, &w, jb_word(seq, JB_TAKEN))) {
				continue;
			}
			int ok = sl->len == len && sl->ts == want_ts;

			if (ok) {
				memcpy(out, sl->data, len);
			}
			atomic_store(&sl->state, jb_word(seq, ok ? JB_USED : JB_DROPPED));
			/* another RTP time under this number: not this timeline's packet */
			atomic_fetch_add(ok ? &jb->used : &jb->dropped, 1);
			return ok;
		}
		if (!final) {
			return -EAGAIN;
		}
		/* a packet for later (more than the buffer ahead) keeps its slot */
		if (jb_seq(w) != seq && (jb_st(w) == JB_WRITING ||
					 (jb_st(w) == JB_STORED && !seq_before(jb_seq(w), seq)))) {
			return 0;
		}
		if (atomic_compare_exchange_weak(&sl->state, &w, jb_word(seq, JB_SILENT))) {
			if (jb_st(w) == JB_STORED) {
				atomic_fetch_add(&jb->dropped, 1);	/* older, never decided */
			}
			return 0;
		}
	}
}

void jbuf_sweep(struct jbuf *jb, uint16_t before, int all)
{
	for (size_t i = 0; i < JBUF_DEPTH; i++) {
		_Atomic uint32_t *st = &jb->slot[i].state;
		uint32_t w = atomic_load(st);

		while (jb_st(w) == JB_STORED && (all || seq_before(jb_seq(w), before))) {
			if (atomic_compare_exchange_weak(st, &w, jb_word(jb_seq(w), JB_DROPPED))) {
				atomic_fetch_add(&jb->dropped, 1);
				break;
			}
		}
	}
}

void jbuf_counts(const struct jbuf *jb, struct jbuf_counts *c)
{
	struct jbuf *m = (struct jbuf *)jb;

	*c = (struct jbuf_counts){ atomic_load(&m->used), atomic_load(&m->late),
				   atomic_load(&m->dropped) };
}
