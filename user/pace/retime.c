// SPDX-License-Identifier: GPL-2.0-only
/*
 * The relay's producer: input packets re-timed onto the PTP grid. Each output packet carries one
 * input packet, bit for bit, or silence, and leaves at its slot on the grid. The input is
 * anchored to the grid once the output can start (after the PTP lock, with the pacer running):
 * an input packet leaves in the first slot a link offset after its arrival, and the output
 * consumes exactly one input packet per packet time (never faster). A missing or late input
 * packet becomes silence, and a stalled input gives silence, not a burst, when it comes back. A
 * restarted input, a regained lock or a clock step re-anchor the output (counted); a slot
 * already past is skipped, never sent late.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txpace/clock.h"
#include "txpace/jbuf.h"
#include "txpace/retime.h"
#include "txpace/ring.h"
#include "txpace/rtp.h"
#include "txpace/rtp_input.h"
#include "txpace/worker.h"

/* the producer needs this long between choosing a slot and that slot's silence decision */
#define ANCHOR_GUARD_NS (250 * NSEC_PER_USEC)
/* further behind its grid than this (a clock step, a stall), the output skips ahead instead of
 * catching up at max_burst packets per packet time */
#define BEHIND_NS (20 * NSEC_PER_MSEC)

static const char *const why_name[] = {
	[RETIME_NONE] = "start", [RETIME_RESYNC] = "the input restarted on another timeline",
	[RETIME_LOCK] = "PTP locked", [RETIME_STEP] = "CLOCK_REALTIME stepped",
	[RETIME_BEHIND] = "the output fell behind its grid",
};

/* Output slot k carries input packet seq + (k - this.k), RTP time ts + (k - this.k) * spp. */
struct mapping {
	uint64_t k;
	uint16_t seq;
	uint32_t ts;
};

struct retime {
	struct retime_cfg cfg;
	struct retime_out out;
	struct rtp_input *in;
	struct jbuf *jb;		/* the input's: this is its consumer */
	int64_t lead;			/* a packet is built this long before its slot */
	_Atomic int stop, anchored;
	_Atomic int reanchor_req;	/* enum retime_why */
	_Atomic int64_t reanchor_after;	/* re-anchor on a packet that arrived after this */
	struct mapping map;	/* producer: which input packet goes into which output slot */
	int marker;		/* the next packet starts a new run */
	_Atomic uint64_t built, silent, resyncs, reanchors, skipped_slots;
	/* the latest (re-)anchor, for the main thread's line */
	_Atomic uint64_t anchor_checks;
	_Atomic int last_why, last_moved;
	int64_t anchor_delay_ns;	/* the first anchor, published by anchored */
	uint16_t anchor_seq;
	pthread_t thread;
	int started;
};

/* The input packet @m puts into output slot @k (at or after m->k): seq and RTP time. */
static void mapped(const struct retime *rt, const struct mapping *m, uint64_t k, uint16_t *seq,
		   uint32_t *ts)
{
	uint64_t d = k - m->k;

	*seq = (uint16_t)(m->seq + d);
	*ts = m->ts + (uint32_t)(d * rt->out.sched->spp);
}

/* The mapping from slot @k on in which @ref leaves in the first slot a link offset after it
 * arrived: one input packet per slot from there, both ways. */
static struct mapping map_from(const struct retime *rt, const struct rtp_input_pkt *ref,
			       uint64_t k)
{
	const struct schedule *s = rt->out.sched;
	int64_t d = (int64_t)k - (int64_t)sched_first_at(s, ref->arrival + rt->cfg.link_offset_ns);

	return (struct mapping){ k, (uint16_t)(ref->seq + d),
				 ref->ts + (uint32_t)((uint64_t)d * s->spp) };
}

/* @return the first slot the producer can still decide in time */
static uint64_t first_reachable(const struct retime *rt)
{
	return sched_first_at(rt->out.sched, clock_ns(CLOCK_REALTIME) + rt->lead + ANCHOR_GUARD_NS);
}

/*
 * The first anchor, once the output can start (after the lock, with the pacer running): the
 * first input packet, in the slot a link offset after its arrival, when that slot is still
 * ahead; otherwise the newest packet, from the first slot that can still be made. What came
 * before is dropped (counted), never sent late.
 * @return the first output slot
 */
static uint64_t anchor_first(struct retime *rt)
{
	const struct schedule *s = rt->out.sched;
	uint64_t reach = first_reachable(rt);
	struct rtp_input_pkt first, ref;
	uint64_t k;
	uint16_t before;

	rtp_input_first(rt->in, &first);
	k = sched_first_at(s, first.arrival + rt->cfg.link_offset_ns);
	ref = first;
	if (k < reach) {
		if (rtp_input_latest(rt->in, &ref)) {
			ref = first;
		}
		k = reach;
	}
	rt->map = map_from(rt, &ref, k);
	/* not from a packet before the first (packets that came in a burst), when it is near */
	before = (uint16_t)(first.seq - rt->map.seq);
	if (before > 0 && before < JBUF_DEPTH) {
		k += before;
		rt->map = map_from(rt, &ref, k);
	}
	/* what the main thread reports: the delay the mapping gives the reference packet */
	rt->anchor_delay_ns = sched_launch(s, k) - ref.arrival -
			      (int64_t)(int16_t)(rt->map.seq - ref.seq) * sched_ptime_ns(s);
	rt->anchor_seq = rt->map.seq;
	jbuf_next(rt->jb, rt->map.seq);
	jbuf_sweep(rt->jb, rt->map.seq, 0);
	jbuf_started(rt->jb);
	atomic_store(&rt->anchored, 1);
	return k;
}

/*
 * Re-anchor for @why at output slot @k (the next one to build). The newest input packet (it
 * arrived after the request) gives the mapping again; within a packet of the current one that is
 * arrival jitter, and the mapping stays. A slot already past is skipped, never sent late. Every
 * change is counted, and the marker set: the next packet starts a new run.
 * @return the next output slot
 */
static uint64_t reanchor(struct retime *rt, uint64_t k, enum retime_why why)
{
	uint64_t k0 = k;
	struct mapping m;
	struct rtp_input_pkt l;
	int moved = 0;

	if (sched_launch(rt->out.sched, k) < clock_ns(CLOCK_REALTIME)) {
		k0 = first_reachable(rt);
	}
	m = rt->map;
	if (why != RETIME_BEHIND && rtp_input_latest(rt->in, &l) == 0) {
		struct mapping n = map_from(rt, &l, k0);
		uint16_t cur;
		uint32_t ts;

		mapped(rt, &m, k0, &cur, &ts);
		if (why == RETIME_RESYNC || abs((int16_t)(n.seq - cur)) > 1) {
			m = n;
			moved = 1;
		}
	}
	if (!moved) {
		/* the same line, from slot k0 on */
		uint16_t seq;
		uint32_t ts;

		mapped(rt, &m, k0, &seq, &ts);
		m = (struct mapping){ k0, seq, ts };
	}
	rt->map = m;
	if (why == RETIME_RESYNC) {
		atomic_fetch_add(&rt->resyncs, 1);
	} else if (moved || k0 != k) {
		atomic_fetch_add(&rt->reanchors, 1);
	}
	if (moved || k0 != k) {
		atomic_fetch_add(&rt->skipped_slots, k0 - k);
		rt->marker = 1;
	}
	atomic_store(&rt->last_why, why);
	atomic_store(&rt->last_moved, moved || k0 != k);
	atomic_fetch_add(&rt->anchor_checks, 1);
	jbuf_next(rt->jb, rt->map.seq);
	jbuf_sweep(rt->jb, rt->map.seq, 0);
	return k0;
}

/*
 * @return the pending re-anchor request once a packet stamped after it is here (taken when
 * @take), else RETIME_NONE
 */
static enum retime_why reanchor_due(struct retime *rt, int take)
{
	int why = atomic_load(&rt->reanchor_req);
	struct rtp_input_pkt l;

	if (why == RETIME_NONE || rtp_input_latest(rt->in, &l) ||
	    l.arrival < atomic_load(&rt->reanchor_after)) {
		return RETIME_NONE;
	}
	if (!take) {
		return (enum retime_why)why;
	}
	/* taken, unless a newer request came meanwhile (it is seen next time) */
	return atomic_compare_exchange_strong(&rt->reanchor_req, &why, RETIME_NONE) ?
	       (enum retime_why)why : RETIME_NONE;
}

/*
 * Take input @seq into @payload as soon as it is here (a link offset ahead of its slot when the
 * input is on time); only at @decide (the slot minus a small lead) does it become silence.
 * @return 1 taken, 0 silence, -EAGAIN when a stop or a re-anchor request came first
 */
static int fill(struct retime *rt, uint16_t seq, uint32_t want_ts, int64_t decide,
		uint8_t *payload)
{
	for (;;) {
		int got = jbuf_take(rt->jb, seq, want_ts, rt->out.payload_len, payload, 0);
		int64_t now, wake;
		struct timespec ts;

		if (got >= 0) {
			return got;
		}
		now = clock_ns(CLOCK_REALTIME);
		if (now >= decide) {
			return jbuf_take(rt->jb, seq, want_ts, rt->out.payload_len, payload, 1);
		}
		if (atomic_load(&rt->stop) || reanchor_due(rt, 0) != RETIME_NONE) {
			return -EAGAIN;
		}
		wake = now + 500 * NSEC_PER_USEC;
		ts = ns_to_ts(wake < decide ? wake : decide);
		clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
	}
}

/* Output packet @n, for slot @k, from what fill() gave (@got 0: silence); into the ring. */
static void commit(struct retime *rt, struct pkt *pk, uint64_t k, uint64_t n, int got)
{
	const struct retime_out *o = &rt->out;
	uint32_t len = o->payload_len;

	if (!got) {
		memset(pk->data + RTP_HDR_LEN, 0, len);
		atomic_fetch_add(&rt->silent, 1);
	}
	rtp_write_hdr(pk->data, o->pt, rt->marker, (uint16_t)(o->seq0 + n),
		      sched_rtp_ts(o->sched, k), o->ssrc);
	pk->len = (uint32_t)(RTP_HDR_LEN + len);
	pk->k = n;
	pk->seq = (uint16_t)(o->seq0 + n);
	pk->launch_ns = sched_launch(o->sched, k);
	pk->flags = 0;
	ring_produce_commit(o->ring);
	atomic_fetch_add(&rt->built, 1);
	rt->marker = 0;
}

/* The output starts from the first packet that arrives now that it can start. @return 0, -EINTR */
static int wait_first(struct retime *rt)
{
	struct rtp_input_pkt first;

	while (rtp_input_first(rt->in, &first) && !atomic_load(&rt->stop)) {
		struct pollfd p = { rtp_input_first_fd(rt->in), POLLIN, 0 };

		poll(&p, 1, 100);
	}
	return atomic_load(&rt->stop) ? -EINTR : 0;
}

/* Producer: output slot k from the input packet the mapping gives, built a small lead before it. */
static void *prod_main(void *arg)
{
	struct retime *rt = arg;
	const struct schedule *s = rt->out.sched;
	int64_t ptime = sched_ptime_ns(s);
	uint64_t limit = rt->cfg.seconds_ns ? (uint64_t)(rt->cfg.seconds_ns / ptime) : 0;
	struct sched_param sp = { .sched_priority = rt->cfg.prio };
	uint64_t k, n = 0;

	/* the silence decision is time-critical: just below the pacer, where allowed */
	if (sp.sched_priority > 0) {
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	if (wait_first(rt)) {
		goto out;
	}
	k = anchor_first(rt);
	while (!atomic_load(&rt->stop) && (!limit || n < limit)) {
		int64_t now = clock_ns(CLOCK_REALTIME), decide = sched_launch(s, k) - rt->lead;
		enum retime_why why = reanchor_due(rt, 1);
		struct pkt *pk;
		uint16_t seq;
		uint32_t want_ts;
		int got;

		if (why != RETIME_NONE) {
			k = reanchor(rt, k, why);
			continue;
		}
		if (decide + rt->lead < now - BEHIND_NS) {
			k = reanchor(rt, k, RETIME_BEHIND);
			continue;
		}
		/* the ring slot first: a packet taken from the input always goes out */
		while (!(pk = ring_produce_begin(rt->out.ring)) && !atomic_load(&rt->stop)) {
			struct timespec w = { 0, 100 * 1000 };

			nanosleep(&w, NULL);
		}
		if (!pk) {
			break;
		}
		mapped(rt, &rt->map, k, &seq, &want_ts);
		got = fill(rt, seq, want_ts, decide, pk->data + RTP_HDR_LEN);
		if (got < 0) {
			continue;	/* a request came first: nothing decided for this slot */
		}
		jbuf_next(rt->jb, (uint16_t)(seq + 1));
		commit(rt, pk, k, n, got);
		k++;
		n++;
	}
out:
	ring_close(rt->out.ring);
	return NULL;
}

struct retime *retime_new(const struct retime_cfg *cfg)
{
	struct retime *rt = calloc(1, sizeof(*rt));

	if (!rt) {
		return NULL;
	}
	rt->cfg = *cfg;
	rt->in = cfg->in;
	rt->jb = rtp_input_jbuf(cfg->in);
	rt->marker = 1;
	rt->lead = cfg->link_offset_ns / 2 < 2 * NSEC_PER_MSEC ? cfg->link_offset_ns / 2 :
	           2 * NSEC_PER_MSEC;
	return rt;
}

int retime_start(struct retime *rt, const struct retime_out *out)
{
	int rc;

	rt->out = *out;
	rc = worker_start(&rt->thread, prod_main, rt);
	if (rc == 0) {
		rt->started = 1;
	}
	return rc;
}

void retime_request(struct retime *rt, enum retime_why why, int64_t after)
{
	atomic_store(&rt->reanchor_after, after);
	atomic_store(&rt->reanchor_req, why);
}

void retime_halt(struct retime *rt)
{
	atomic_store(&rt->stop, 1);
}

void retime_join(struct retime *rt)
{
	if (rt->started) {
		pthread_join(rt->thread, NULL);
		rt->started = 0;
	}
}

void retime_free(struct retime *rt)
{
	if (!rt) {
		return;
	}
	retime_halt(rt);
	retime_join(rt);
	free(rt);
}

int retime_anchor(struct retime *rt, uint16_t *seq, int64_t *delay_ns)
{
	if (!atomic_load(&rt->anchored)) {
		return 0;
	}
	*seq = rt->anchor_seq;
	*delay_ns = rt->anchor_delay_ns;
	return 1;
}

int retime_checked(struct retime *rt, uint64_t *seen, const char **why, int *moved)
{
	uint64_t n = atomic_load(&rt->anchor_checks);

	if (n == *seen) {
		return 0;
	}
	*why = why_name[atomic_load(&rt->last_why)];
	*moved = atomic_load(&rt->last_moved);
	*seen = n;
	return 1;
}

void retime_stats(const struct retime *rt, struct retime_stats *st)
{
	struct retime *m = (struct retime *)rt;

	*st = (struct retime_stats){
		.built = atomic_load(&m->built), .silent = atomic_load(&m->silent),
		.resyncs = atomic_load(&m->resyncs), .reanchors = atomic_load(&m->reanchors),
		.skipped_slots = atomic_load(&m->skipped_slots),
	};
}
