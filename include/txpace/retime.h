/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The relay's producer: input packets (an rtp_input) re-timed onto the slots of a PTP grid.
 * Output slot k carries one input packet, bit for bit, or silence, and goes into the pacer's
 * ring to leave at sched_launch(k). The input is anchored once: an input packet leaves in the
 * first slot a link offset after its arrival, and the output consumes exactly one input packet
 * per packet time (never faster). A restarted input, a regained lock or a clock step re-anchor
 * the output (retime_request); a slot already past is skipped, never sent late.
 */
#ifndef TXPACE_RETIME_H
#define TXPACE_RETIME_H

#include <stdint.h>

#include "txpace/sched.h"

struct retime;
struct ring;
struct rtp_input;

enum retime_why {
	RETIME_NONE,		/* (the first anchor) */
	RETIME_RESYNC,		/* the input restarted on another timeline */
	RETIME_LOCK,		/* PTP locked */
	RETIME_STEP,		/* CLOCK_REALTIME stepped */
	RETIME_BEHIND,		/* the output fell behind its grid (the producer's own) */
};

struct retime_cfg {
	struct rtp_input *in;
	int64_t link_offset_ns;	/* an input packet leaves this long after its arrival */
	int64_t seconds_ns;	/* of output, then the ring is closed; 0: until retime_halt() */
	int prio;		/* the producer thread's SCHED_FIFO priority, 0: normal */
};

/* Where the output goes, known once the output is set up. */
struct retime_out {
	const struct schedule *sched;	/* the grid, started: slot k leaves at sched_launch() */
	struct ring *ring;		/* the pacer's; closed when the producer ends */
	uint32_t payload_len;		/* the input's (and output's) payload size */
	uint8_t pt;
	uint16_t seq0;
	uint32_t ssrc;
};

struct retime_stats {
	uint64_t built;		/* output packets into the ring */
	uint64_t silent;	/* of them, silence */
	uint64_t resyncs;	/* re-anchors on a restarted input */
	uint64_t reanchors;	/* other anchor changes (lock, clock step, behind the grid) */
	uint64_t skipped_slots;	/* grid slots left out by a re-anchor */
};

/** @return the producer (not started), or NULL with errno set */
struct retime *retime_new(const struct retime_cfg *cfg);
/**
 * Start the producer thread: it waits for the input's first packet, anchors it and fills
 * @out->ring slot by slot.
 * @return 0 or -errno
 */
int retime_start(struct retime *rt, const struct retime_out *out);
/** Ask for a re-anchor on a packet that arrives after @after (CLOCK_REALTIME); any thread. */
void retime_request(struct retime *rt, enum retime_why why, int64_t after);
/** Ask the producer to end (it closes the ring); retime_join() waits for it. */
void retime_halt(struct retime *rt);
void retime_join(struct retime *rt);
/** Halt and join it (if started), and free it. NULL is a no-op. */
void retime_free(struct retime *rt);

/** @return 1 once anchored, with the first output packet's input seq and its delay after arrival */
int retime_anchor(struct retime *rt, uint16_t *seq, int64_t *delay_ns);
/**
 * A (re-)anchor check since *@seen: why (a text), whether the output moved, *@seen updated.
 * @return 1 when there was one, 0 when not
 */
int retime_checked(struct retime *rt, uint64_t *seen, const char **why, int *moved);
void retime_stats(const struct retime *rt, struct retime_stats *st);

#endif
