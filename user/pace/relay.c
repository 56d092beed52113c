// SPDX-License-Identifier: GPL-2.0-only
/*
 * The relay pipeline: an AES67/RTP input (rtp_input, user/source/) re-timed onto this sender's
 * PTP grid (retime, the producer) and sent through the pacer as an aes67 stream. This file sets
 * the stages up in order, runs the main thread's duties (the aes67 session's SAP, the PTP lock
 * and clock-step watch that turn into re-anchor requests) and writes the report.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "txpace/memlock.h"
#include "txpace/clock.h"
#include "txpace/jbuf.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/pacer.h"
#include "txpace/ptp.h"
#include "txpace/relay.h"
#include "txpace/retime.h"
#include "txpace/ring.h"
#include "txpace/rtp.h"
#include "txpace/rtp_input.h"
#include "txpace/sched.h"
#include "txpace/worker.h"

/* CLOCK_REALTIME moving by more than this between two samples is a step, not a slew */
#define STEP_NS NSEC_PER_MSEC

struct relay {
	struct relay_cfg cfg;
	struct profile_opts po;		/* the output's; its format becomes the input's */
	struct rtp_input *in;
	struct retime *rt;
	/* output */
	struct stream_desc d;
	void *prof;
	struct ring *ring;
	struct pacer *pacer;
	struct clocks *clk;
	struct schedule sched;	/* the PTP grid; output slot k leaves at sched_launch(k) */
	int memory_locked;
	int output_started, finished;
	/* the main thread's watch */
	int was_locked, said_started;
	uint64_t checks_seen;
	uint64_t lock_lost, lock_gained, clock_steps;
};

void relay_cfg_init(struct relay_cfg *cfg)
{
	*cfg = (struct relay_cfg){
		.out = { .bits = 24, .rate = 48000, .channels = 2, .ttl = 1, .dscp = 34, .pt = 96,
			 .lock_timeout_ns = 60 * NSEC_PER_SEC, .sap_interval_ns = 30 * NSEC_PER_SEC,
			 .session_name = "txpace relay", .timeout_ms = 5000 },
		.link_offset_ns = 10 * NSEC_PER_MSEC,
		.sap_timeout_ns = 35 * NSEC_PER_SEC,
		.spin_ns = PACER_SPIN_AUTO, .prio = 80, .cpu = -1,
	};
}

/* Receiver thread: a restarted input re-anchors the output. */
static void on_restart(void *arg, int64_t arrival)
{
	struct relay *r = arg;

	retime_request(r->rt, RETIME_RESYNC, arrival);
}

struct relay *relay_open(const struct relay_cfg *cfg, char *err, size_t errlen)
{
	struct relay *r = calloc(1, sizeof(*r));
	/* the receiver and the producer race for each slot's decision: just below the pacer */
	int prio = cfg->prio > 1 ? cfg->prio - 1 : 0;
	struct rtp_input_cfg ic = {
		.from = cfg->from, .iface = cfg->from_iface, .bits = cfg->out.bits,
		.rate = cfg->out.rate, .channels = cfg->out.channels, .ptime_ns = cfg->out.ptime_ns,
		.sap_timeout_ns = cfg->sap_timeout_ns, .stop = cfg->stop, .prio = prio,
		.on_restart = on_restart, .arg = r,
	};

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->cfg = *cfg;
	r->po = cfg->out;
	r->po.stop = cfg->stop;
	r->d = (struct stream_desc){ .fd = -1, .clock = CLOCK_MONOTONIC };
	r->in = rtp_input_open(&ic, err, errlen);
	if (!r->in) {
		goto err;
	}
	/*
	 * Lock memory before anything is timed. mlockall faults in every mapped library (tens of
	 * ms, far more on a cold page cache) and holds the mmap lock meanwhile: done by the pacer
	 * after the first input packet, it stalled the receiver and ate that packet's link offset.
	 */
	if (mem_lock() == 0) {
		r->memory_locked = 1;
	}
	r->clk = clocks_new();
	r->rt = retime_new(&(struct retime_cfg){ .in = r->in, .link_offset_ns = cfg->link_offset_ns,
						 .seconds_ns = cfg->seconds_ns, .prio = prio });
	if (!r->clk || !r->rt) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	return r;
err:
	relay_close(r);
	return NULL;
}

/* The pacer on the aes67 socket, started (its thread takes none of the caller's signals). */
static int start_pacer(struct relay *r, uint32_t len, char *err, size_t errlen)
{
	struct pacer_cfg pc = {
		.backend = "rt", .spin_ns = r->cfg.spin_ns, .prio = r->cfg.prio, .cpu = r->cfg.cpu,
		.memory_locked = r->memory_locked, .max_burst = 2, .late_ns = NSEC_PER_MSEC,
		.ptime_ns = sched_ptime_ns(&r->sched), .timestamps = 1, .clock = r->d.clock,
	};
	sigset_t saved;
	int rc;

	r->ring = ring_new(64, RTP_HDR_LEN + len);
	r->pacer = r->ring ? pacer_new(&pc, r->d.fd, r->ring, NULL, r->clk) : NULL;
	if (!r->pacer) {
		rc = errno ? -errno : -ENOMEM;
		snprintf(err, errlen, "cannot create the pacer: %s", strerror(-rc));
		return rc;
	}
	worker_block(&saved);
	rc = pacer_start(r->pacer);
	worker_restore(&saved);
	if (rc) {
		snprintf(err, errlen, "cannot start the pacer: %s", strerror(-rc));
	}
	return rc;
}

/*
 * The output, ready to start: the aes67 profile (with require_lock, after ptp4l's lock), the
 * pacer running, and the PTP grid. @return 0, or -errno with the reason in @err
 */
static int setup_output(struct relay *r, char *err, size_t errlen)
{
	const struct sdp_in *in = rtp_input_desc(r->in);
	uint32_t len = rtp_input_payload_len(r->in), bpf = rtp_input_frame_bytes(r->in);
	struct rtp_input_pkt first;
	int rc;

	r->po.rate = in->rate;
	r->po.channels = in->channels;
	r->po.bits = strcasecmp(in->encoding, "L16") ? 24 : 16;
	r->po.ptime_ns = (int64_t)(len / bpf) * NSEC_PER_SEC / in->rate;
	if (in->pt < 128) {
		r->po.pt = in->pt;
	}
	r->prof = profile_aes67.open(&r->po, &r->d, err, errlen);
	if (!r->prof) {
		return -EIO;
	}
	r->d.spp = len / bpf;
	r->sched = (struct schedule){ .rate = in->rate, .spp = r->d.spp };
	rc = start_pacer(r, len, err, errlen);
	if (rc) {
		return rc;
	}
	/* the PTP grid; the producer anchors the input onto it (not before the first packet) */
	return profile_aes67.start(r->prof, &r->sched, rtp_input_first(r->in, &first) == 0 ?
				   first.arrival : clock_ns(CLOCK_REALTIME), err, errlen);
}

/* The output side: the lock, the pacer and the grid (setup_output), then the producer thread. */
static int start_output(struct relay *r, char *err, size_t errlen)
{
	struct retime_out out;
	int rc = setup_output(r, err, errlen);

	if (rc) {
		return rc;
	}
	out = (struct retime_out){
		.sched = &r->sched, .ring = r->ring, .payload_len = rtp_input_payload_len(r->in),
		.pt = (uint8_t)r->po.pt, .seq0 = r->d.seq0, .ssrc = r->d.ssrc,
	};
	rc = retime_start(r->rt, &out);
	if (rc) {
		snprintf(err, errlen, "cannot start: %s", strerror(-rc));
		return rc;
	}
	r->output_started = 1;
	r->was_locked = profile_aes67.clock_locked(r->prof);
	return 0;
}

int relay_start(struct relay *r, char *err, size_t errlen)
{
	int rc;

	/*
	 * With the packet size known (the SDP's ptime, --ptime), the output is ready before the
	 * input is joined: the PTP lock, the pacer, the grid. The first packet received then
	 * anchors the output at once. Without it, the first packet gives the size, and what
	 * arrives while the output gets ready (the lock) is dropped and counted.
	 */
	if (rtp_input_payload_len(r->in)) {
		rc = start_output(r, err, errlen);
		if (rc) {
			return rc;
		}
	}
	return rtp_input_start(r->in, err, errlen);
}

/* Main thread: lock transitions and clock steps become re-anchor requests; say what happened. */
static void watch_clock(struct relay *r)
{
	int locked = profile_aes67.clock_locked(r->prof);
	int64_t step = clocks_track(r->clk), delay;
	struct rtp_input_stats is;
	struct retime_stats rs;
	const char *why;
	uint16_t seq;
	int moved;

	if (!r->said_started && retime_anchor(r->rt, &seq, &delay)) {
		rtp_input_stats(r->in, &is);
		pr_info("output started: input packet %u leaves %.3f ms after it arrived (%" PRIu64
			" input packets before it dropped)", seq, (double)delay / 1e6, is.dropped);
		r->said_started = 1;
	}
	if (r->was_locked && !locked) {
		r->lock_lost++;
		pr_warn("PTP lock lost (ptp4l at %s): the output goes on, on the unlocked clock",
			r->po.ptp_socket ? r->po.ptp_socket : PTP_DEFAULT_SOCKET);
	} else if (!r->was_locked && locked) {
		r->lock_gained++;
		pr_warn("PTP locked: checking the output's anchor");
		retime_request(r->rt, RETIME_LOCK, clock_ns(CLOCK_REALTIME));
	}
	r->was_locked = locked;
	if (step > STEP_NS) {
		r->clock_steps++;
		pr_warn("CLOCK_REALTIME stepped by %.3f ms: re-anchoring the output", (double)step / 1e6);
		retime_request(r->rt, RETIME_STEP, clock_ns(CLOCK_REALTIME));
	}
	if (retime_checked(r->rt, &r->checks_seen, &why, &moved)) {
		if (moved) {
			retime_stats(r->rt, &rs);
			pr_warn("output re-anchored (%s): %" PRIu64 " slots skipped so far", why,
				rs.skipped_slots);
		} else {
			pr_info("output anchor checked (%s): it holds", why);
		}
	}
}

int relay_poll_fds(struct relay *r, struct pollfd *pfd, int max)
{
	if (r->output_started || max < 1) {
		return 0;
	}
	pfd[0] = (struct pollfd){ rtp_input_first_fd(r->in), POLLIN, 0 };
	return 1;
}

int relay_step(struct relay *r, char *err, size_t errlen)
{
	struct rtp_input_pkt first;
	int64_t next;
	int rc;

	if (r->finished) {
		return 0;
	}
	if (!r->output_started) {
		if (rtp_input_first(r->in, &first)) {
			return txp_stopped(r->cfg.stop) ? -EINTR : 1;
		}
		rc = start_output(r, err, errlen);
		if (rc) {
			return rc == -EINTR ? -EIO : rc;	/* -EINTR says: nothing ran */
		}
		return pacer_done(r->pacer) ? 0 : 1;
	}
	profile_aes67.service(r->prof, &r->sched, clock_ns(CLOCK_REALTIME), &next, err, errlen);
	watch_clock(r);
	if (txp_stopped(r->cfg.stop)) {
		/* the producer closes the ring; the pacer ends once it is sent */
		retime_halt(r->rt);
		rtp_input_halt(r->in);
	}
	return pacer_done(r->pacer) ? 0 : 1;
}

int relay_run(struct relay *r, char *err, size_t errlen)
{
	int rc;

	do {
		struct pollfd pfd[4];
		int n = relay_poll_fds(r, pfd, 4);

		poll(pfd, (nfds_t)n, 100);
		rc = relay_step(r, err, errlen);
	} while (rc == 1);
	return rc;
}

int relay_finish(struct relay *r)
{
	struct retime_stats rs;
	char err[256];

	if (!r->output_started) {
		return -EINVAL;
	}
	retime_halt(r->rt);
	rtp_input_halt(r->in);
	retime_join(r->rt);
	rtp_input_join(r->in);
	/* what is still stored was never decided: the output ended first */
	jbuf_sweep(rtp_input_jbuf(r->in), 0, 1);
	pacer_join(r->pacer);
	profile_aes67.finish(r->prof, &r->sched, 0, 0, err, sizeof(err));
	r->finished = 1;
	retime_stats(r->rt, &rs);
	return atomic_load(&pacer_stats(r->pacer)->sent) == rs.built ? 0 : -EIO;
}

static void report_input(struct relay *r, struct json *j)
{
	struct rtp_input_stats is;

	rtp_input_stats(r->in, &is);
	json_obj(j, "input");
	/* packets == used + late + dropped */
	json_uint(j, "packets", is.packets);
	json_uint(j, "used", is.used);
	json_uint(j, "late", is.late);
	json_uint(j, "dropped", is.dropped);
	json_uint(j, "invalid", is.invalid);
	json_uint(j, "other_ssrc", is.other_ssrc);
	json_uint(j, "refused_sources", is.refused);
	json_str(j, "source_filter", rtp_input_source_filter(r->in));
	json_end(j, '}');
}

static void report_output(struct relay *r, struct json *j)
{
	struct pacer_stats *st = pacer_stats(r->pacer);
	const char *which;
	const struct hist *h = pacer_departure(r->pacer, &which);
	struct rtp_input_stats is;
	struct retime_stats rs;

	rtp_input_stats(r->in, &is);
	retime_stats(r->rt, &rs);
	json_obj(j, "output");
	json_uint(j, "packets", rs.built);
	json_uint(j, "sent", atomic_load(&st->sent));
	json_uint(j, "from_input", is.used);
	json_uint(j, "silent", rs.silent);
	json_uint(j, "resyncs", rs.resyncs);
	json_uint(j, "reanchors", rs.reanchors);
	json_uint(j, "skipped_slots", rs.skipped_slots);
	json_uint(j, "late", atomic_load(&st->late));
	json_str(j, "departure_source", which);
	json_hist(j, "departure_error_us", h);
	json_end(j, '}');
}

void relay_report(struct relay *r, FILE *f)
{
	const struct sdp_in *in = rtp_input_desc(r->in);
	struct json j;

	json_init(&j, f);
	json_obj(&j, NULL);
	json_str(&j, "from", r->cfg.from);
	json_str(&j, "to", r->po.dest_s);
	json_str(&j, "format", in->encoding);
	json_uint(&j, "rate", in->rate);
	json_uint(&j, "channels", in->channels);
	json_uint(&j, "samples_per_packet", r->sched.spp);
	json_num(&j, "link_offset_us", (double)r->cfg.link_offset_ns / 1e3);
	report_input(r, &j);
	report_output(r, &j);
	json_obj(&j, "clock");
	json_uint(&j, "lock_lost", r->lock_lost);
	json_uint(&j, "lock_gained", r->lock_gained);
	json_uint(&j, "steps", r->clock_steps);
	json_end(&j, '}');
	if (profile_aes67.report) {
		profile_aes67.report(r->prof, &j);
	}
	json_end(&j, '}');
	json_done(&j);
}

void relay_summary(struct relay *r, FILE *f)
{
	struct rtp_input_stats is;
	struct retime_stats rs;

	rtp_input_stats(r->in, &is);
	retime_stats(r->rt, &rs);
	fprintf(f, "relayed %" PRIu64 " packets: %" PRIu64 " from the input, %" PRIu64
		" silent; input %" PRIu64 ": %" PRIu64 " used, %" PRIu64 " late, %" PRIu64
		" dropped; %" PRIu64 " resyncs, %" PRIu64 " re-anchors\n", rs.built, is.used,
		rs.silent, is.packets, is.used, is.late, is.dropped, rs.resyncs, rs.reanchors);
}

void relay_close(struct relay *r)
{
	if (!r) {
		return;
	}
	/* not finished: the output ends now, unsent */
	if (!r->finished) {
		if (r->ring) {
			ring_close(r->ring);
		}
		if (r->pacer) {
			pacer_abort(r->pacer);
		}
	}
	/* both threads end before either is freed: the receiver calls into the producer */
	if (r->rt) {
		retime_halt(r->rt);
	}
	if (r->in) {
		rtp_input_halt(r->in);
	}
	if (r->rt) {
		retime_join(r->rt);
	}
	if (r->in) {
		rtp_input_join(r->in);
	}
	retime_free(r->rt);
	rtp_input_free(r->in);
	if (r->pacer) {
		pacer_join(r->pacer);
	}
	pacer_free(r->pacer);
	if (r->prof) {
		profile_aes67.close(r->prof);
	}
	ring_free(r->ring);
	clocks_free(r->clk);
	if (r->d.fd >= 0) {
		close(r->d.fd);
	}
	free(r);
}
