// SPDX-License-Identifier: GPL-2.0-only
/*
 * `txpace relay`: an incoming AES67/RTP stream re-timed onto this sender's PTP grid. Each output
 * packet carries one input packet, bit for bit, or silence, and leaves at its slot on the grid.
 * The input is anchored to the grid once the output can start (after the PTP lock, with the
 * pacer running): an input packet leaves in the first slot a link offset after its arrival, and
 * the output consumes exactly one input packet per packet time (never faster). A missing or late
 * input packet becomes silence, and a stalled input gives silence, not a burst, when it comes
 * back. Every input packet is counted once: used, late or dropped. A restarted input, a regained
 * lock or a clock step re-anchor the output (counted); a slot already past is skipped, never sent
 * late.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "txpace/clock.h"
#include "cmd.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/net.h"
#include "txpace/pacer.h"
#include "txpace/profile.h"
#include "txpace/ptp.h"
#include "txpace/ring.h"
#include "txpace/rtp.h"
#include "txpace/sap.h"
#include "txpace/sched.h"
#include "txpace/sdp.h"
#include "stream_opts.h"

#define JB_DEPTH 1024		/* input packets kept, by sequence number */
#define JB_PAYLOAD_MAX 1500
#define THREAD_STACK (256 * 1024)
/*
 * This many late input packets in a row, each arriving a normal packet time after the one
 * before, mean the input runs on a shifted timeline (a restarted sender): re-anchor. A burst of
 * held packets (a stalled network) arrives back to back and does not count.
 */
#define LATE_RESYNC 20
/* the producer needs this long between choosing a slot and that slot's silence decision */
#define ANCHOR_GUARD_NS (250 * NSEC_PER_USEC)
/* further behind its grid than this (a clock step, a stall), the output skips ahead instead of
 * catching up at max_burst packets per packet time */
#define BEHIND_NS (20 * NSEC_PER_MSEC)
/* CLOCK_REALTIME moving by more than this between two samples is a step, not a slew */
#define STEP_NS NSEC_PER_MSEC

/*
 * Jitter-buffer slot states, the low byte of jb_slot.state (the input sequence number above
 * it). The receiver writes a slot's payload only while it holds WRITING, the producer reads it
 * only while it holds TAKEN; every other change is one compare-and-swap on the state. So the
 * producer's decision for a sequence number (take it, or make its slot silent) and the
 * receiver's store of that packet cannot interleave: each stored packet ends exactly once as
 * used, late or dropped.
 */
enum jb_state {
	JB_FREE,	/* nothing stored */
	JB_WRITING,	/* the receiver is storing seq */
	JB_STORED,	/* seq is here, undecided */
	JB_TAKEN,	/* the producer is copying seq into its output packet */
	JB_USED,	/* seq went out */
	JB_SILENT,	/* seq's slot went out as silence: seq arriving now is late */
	JB_DROPPED,	/* seq was here but is not used (another RTP time, a re-anchor) */
};

struct jb_slot {
	_Atomic uint32_t state;		/* seq << 8 | enum jb_state */
	uint32_t ts;			/* the packet's RTP time */
	uint32_t len;
	uint8_t data[JB_PAYLOAD_MAX];
};

/* An input packet the anchor can be taken from. */
struct in_pkt {
	uint16_t seq;
	uint32_t ts;
	int64_t arrival;	/* CLOCK_REALTIME */
};

/* The newest input packet: one writer (rx), read by the producer; a sequence lock. */
struct in_mark {
	_Atomic uint32_t v;	/* odd while written, 0 before the first packet */
	_Atomic uint32_t seq, ts;
	_Atomic int64_t arrival;
};

/* Output slot k carries input packet seq + (k - this.k), RTP time ts + (k - this.k) * spp. */
struct mapping {
	uint64_t k;
	uint16_t seq;
	uint32_t ts;
};

enum reanchor_why { RA_NONE, RA_RESYNC, RA_LOCK, RA_STEP, RA_BEHIND };

static const char *const why_name[] = {
	[RA_NONE] = "start", [RA_RESYNC] = "the input restarted on another timeline",
	[RA_LOCK] = "PTP locked", [RA_STEP] = "CLOCK_REALTIME stepped",
	[RA_BEHIND] = "the output fell behind its grid",
};

struct relay {
	/* options */
	const char *from, *from_iface, *report_path;
	struct profile_opts po;
	int64_t link_offset_ns, seconds_ns, sap_timeout_ns;
	struct pace_opts pace;
	int quiet;
	/* input */
	struct sdp_in in;
	struct net_addr in_addr;
	int in_fd;
	int first_efd;		/* eventfd, readable once the first input packet is stored */
	uint32_t bytes_per_frame;
	_Atomic uint32_t payload_len;	/* 0 until the first packet when the SDP has no ptime */
	/* output */
	struct stream_desc d;
	void *prof;
	struct ring *ring;
	struct pacer *pacer;
	struct clocks *clk;
	struct schedule sched;	/* the PTP grid; output slot k leaves at sched_launch(k) */
	int memory_locked;
	struct jb_slot *jb;	/* [JB_DEPTH] by input sequence number */
	/* hand-offs between the receiver (rx), the producer and the main thread */
	_Atomic int anchored, stop;
	_Atomic int reanchor_req;	/* enum reanchor_why */
	_Atomic int64_t reanchor_after;	/* main: re-anchor on a packet that arrived after this */
	_Atomic uint32_t next_needed;	/* producer: the input seq it decides next */
	struct in_mark latest;
	struct in_pkt first;		/* rx, published by have_first */
	_Atomic int have_first;
	struct mapping map;	/* producer: which input packet goes into which output slot */
	uint32_t ssrc_in;
	int have_ssrc;
	/* counters: rx == used + late + dropped once both threads have ended */
	_Atomic uint64_t rx, rx_late, rx_dropped, rx_invalid, rx_other, rx_refused;
	struct net_addr source;		/* the SDP's source-filter (incl): the only sender taken */
	int have_source;
	_Atomic uint64_t out_data, out_silent, built, resyncs, reanchors, skipped_slots;
	/* the latest (re-)anchor, for the main thread's line */
	_Atomic uint64_t anchor_checks;
	_Atomic int last_why, last_moved;
	int64_t anchor_delay_ns;	/* the first anchor, published by anchored */
	uint16_t anchor_seq;
	uint64_t lock_lost, lock_gained, clock_steps;
	int late_run;
	int64_t last_arrival;
	pthread_t rx_thread, prod_thread;
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

static void mark_put(struct in_mark *m, const struct in_pkt *p)
{
	uint32_t v = atomic_load_explicit(&m->v, memory_order_relaxed);

	atomic_store_explicit(&m->v, v | 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&m->seq, p->seq, memory_order_relaxed);
	atomic_store_explicit(&m->ts, p->ts, memory_order_relaxed);
	atomic_store_explicit(&m->arrival, p->arrival, memory_order_relaxed);
	atomic_store_explicit(&m->v, (v | 1) + 1, memory_order_release);
}

/* @return 0 with the newest packet in @p, -ENOENT before the first */
static int mark_get(struct in_mark *m, struct in_pkt *p)
{
	for (;;) {
		uint32_t v1 = atomic_load_explicit(&m->v, memory_order_acquire);

		if (v1 == 0) {
			return -ENOENT;
		}
		if (v1 & 1) {
			continue;
		}
		p->seq = (uint16_t)atomic_load_explicit(&m->seq, memory_order_relaxed);
		p->ts = atomic_load_explicit(&m->ts, memory_order_relaxed);
		p->arrival = atomic_load_explicit(&m->arrival, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&m->v, memory_order_relaxed) == v1) {
			return 0;
		}
	}
}

enum { O_FROM = 256, O_TO, O_FROM_IFACE, O_LINK, O_SECONDS, O_REPORT, O_SAP_TIMEOUT };

static const struct cli_opt relay_opts[] = {
	{ "from", required_argument, O_FROM, "SRC", "input: an SDP file, sap:NAME (a SAP-announced session), or GROUP:PORT" },
	{ "to", required_argument, O_TO, "GROUP[:PORT]", "output multicast group (port 5004 by default)" },
	{ "from-iface", required_argument, O_FROM_IFACE, "IF", "interface to receive the input (and SAP) on" },
	{ "iface", required_argument, SO_IFACE, "IF", "interface to send the output on" },
	{ "link-offset", required_argument, O_LINK, "T", "output leaves this long after the input's arrival 1ms..1s (default 10ms)" },
	{ "seconds", required_argument, O_SECONDS, "N", "stop after N seconds of output (default: at SIGINT)" },
	{ "report", required_argument, O_REPORT, "FILE", "write a JSON report to FILE" },
	{ "format", required_argument, SO_FORMAT, "L16|L24", "GROUP:PORT input: sample format (default L24)" },
	{ "rate", required_argument, SO_RATE, "HZ", "GROUP:PORT input: sample rate (default 48000)" },
	{ "channels", required_argument, SO_CHANNELS, "N", "GROUP:PORT input: channels (default 2)" },
	{ "ptime", required_argument, SO_PTIME, "T", "GROUP:PORT input: packet time (default: from the first packet)" },
	{ "ttl", required_argument, SO_TTL, "N", "output TTL 1..255 (default 1)" },
	{ "dscp", required_argument, SO_DSCP, "N|aes67|dante", "output DSCP (default 34)" },
	{ "ptp-socket", required_argument, SO_PTP_SOCKET, "PATH", "ptp4l's management socket (default /var/run/ptp4l)" },
	{ "ptp-domain", required_argument, SO_PTP_DOMAIN, "N", "PTP domain 0..127 of ptp4l and the output's SDP (default 0; Livewire: 1)" },
	{ "require-lock", no_argument, SO_REQUIRE_LOCK, NULL, "wait until ptp4l is locked (the output starts after the lock)" },
	{ "lock-timeout", required_argument, SO_LOCK_TIMEOUT, "S", "give up waiting for the lock after S seconds (default 60)" },
	{ "sap-interval", required_argument, SO_SAP, "S", "announce the output every S seconds, 0 = none (default 30)" },
	{ "name", required_argument, SO_NAME, "TEXT", "the output's session name (default: txpace relay)" },
	{ "sap-timeout", required_argument, O_SAP_TIMEOUT, "S", "sap:NAME: wait this long for the announcement (default 35)" },
	{ "spin", required_argument, SO_SPIN, "US", "pacer spin before each deadline (default 200)" },
	{ "prio", required_argument, SO_PRIO, "N", "pacer SCHED_FIFO priority, 0 = normal (default 80)" },
	{ "cpu", required_argument, SO_CPU, "N", "pin the pacer to CPU N" },
	{ "quiet", no_argument, 'q', NULL, "no summary" },
	{ "verbose", no_argument, 'v', NULL, "more messages" },
	{ "help", no_argument, 'h', NULL, "this help" },
	{ 0 },
};

static int parse(struct relay *r, int argc, char **argv)
{
	struct profile_opts *po = &r->po;
	struct cli c;
	int k;

	*po = (struct profile_opts){
		.bits = 24, .rate = 48000, .channels = 2, .ttl = 1, .dscp = 34, .pt = 96,
		.lock_timeout_ns = 60 * NSEC_PER_SEC, .sap_interval_ns = 30 * NSEC_PER_SEC,
		.session_name = "txpace relay", .timeout_ms = 5000, .stop = &cli_stop,
	};
	r->link_offset_ns = 10 * NSEC_PER_MSEC;
	r->sap_timeout_ns = 35 * NSEC_PER_SEC;
	r->pace = (struct pace_opts){ .spin_ns = 200 * NSEC_PER_USEC, .prio = 80, .cpu = -1 };
	cli_init(&c, "relay", "--from SDP|sap:NAME|GROUP:PORT --to GROUP[:PORT] [options]", relay_opts);
	while ((k = cli_next(&c, argc, argv)) != -1) {
		switch (k) {
		case O_FROM:
			r->from = optarg;
			break;
		case O_TO:
			po->dest_s = optarg;
			break;
		case O_FROM_IFACE:
			r->from_iface = optarg;
			break;
		case O_LINK:
			if (cli_duration(&c, "link-offset", optarg, NSEC_PER_MSEC, NSEC_PER_MSEC,
					 NSEC_PER_SEC, &r->link_offset_ns)) {
				return -EINVAL;
			}
			break;
		case O_SECONDS:
			if (cli_duration(&c, "seconds", optarg, NSEC_PER_SEC, NSEC_PER_MSEC,
					 (int64_t)30 * 24 * 3600 * NSEC_PER_SEC, &r->seconds_ns)) {
				return -EINVAL;
			}
			break;
		case O_REPORT:
			r->report_path = optarg;
			break;
		case O_SAP_TIMEOUT:
			if (cli_duration(&c, "sap-timeout", optarg, NSEC_PER_SEC, NSEC_PER_SEC / 10,
					 3600 * NSEC_PER_SEC, &r->sap_timeout_ns)) {
				return -EINVAL;
			}
			break;
		case 'q':
			r->quiet = 1;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'h':
			cli_help(&c, stdout);
			return 1;
		default:
			if (stream_opt(&c, k, optarg, po, &r->pace) != 1) {
				return -EINVAL;
			}
			break;
		}
	}
	if (optind != argc) {
		cli_usage_error(&c, "unexpected argument '%s'", argv[optind]);
		return -EINVAL;
	}
	if (!r->from || !po->dest_s) {
		cli_usage_error(&c, "needs --from and --to");
		return -EINVAL;
	}
	return 0;
}

/* sap:NAME: listen for the announcement of the session called NAME (any session if empty). */
static int find_sap(struct relay *r, const char *name, char *err, size_t errlen)
{
	struct net_addr g;
	int64_t end = mono_ns() + r->sap_timeout_ns;
	int fd, rc = -ETIMEDOUT;

	if (net_parse(SAP_GROUP, SAP_PORT, &g)) {
		return -EINVAL;
	}
	fd = net_udp_listen(&g, NULL, r->from_iface);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen for SAP on %s: %s", SAP_GROUP, strerror(-fd));
		return fd;
	}
	while (!cli_stop) {
		struct pollfd p = { fd, POLLIN, 0 };
		int64_t left = (end - mono_ns()) / NSEC_PER_MSEC;
		uint8_t b[4096];
		struct sap_msg m;
		ssize_t n;

		if (left <= 0) {
			break;
		}
		if (poll(&p, 1, (int)(left < 200 ? left : 200)) != 1) {
			continue;
		}
		n = recv(fd, b, sizeof(b), 0);
		if (n <= 0 || sap_parse(b, (size_t)n, &m) || m.deletion) {
			continue;
		}
		if (sdp_parse(m.sdp, m.sdp_len, &r->in) == 0 && (!*name || !strcmp(r->in.name, name))) {
			rc = 0;
			break;
		}
	}
	close(fd);
	if (rc) {
		snprintf(err, errlen, "no SAP announcement of a session called '%s' within %.0f s", name,
			 (double)r->sap_timeout_ns / 1e9);
	}
	return rc;
}

/* What the input is: its SDP (a file, or SAP), or GROUP:PORT and the format options. */
static int open_input(struct relay *r, char *err, size_t errlen)
{
	char spec[160];
	int rc;

	if (!strncmp(r->from, "sap:", 4)) {
		rc = find_sap(r, r->from + 4, err, errlen);
		if (rc) {
			return rc;
		}
	} else if (access(r->from, R_OK) == 0) {
		char text[8192];
		FILE *f = fopen(r->from, "r");
		size_t n = f ? fread(text, 1, sizeof(text), f) : 0;

		if (f) {
			fclose(f);
		}
		if (sdp_parse(text, n, &r->in)) {
			snprintf(err, errlen, "%s: no L16/L24 audio stream in this SDP", r->from);
			return -EINVAL;
		}
	} else {
		/* GROUP:PORT: the format comes from the options */
		if (net_parse(r->from, 0, &r->in_addr)) {
			snprintf(err, errlen, "--from '%s': not an SDP file, sap:NAME or GROUP:PORT",
				 r->from);
			return -EINVAL;
		}
		snprintf(r->in.encoding, sizeof(r->in.encoding), "L%u", r->po.bits);
		r->in.rate = (uint32_t)r->po.rate;
		r->in.channels = (uint32_t)r->po.channels;
		r->in.ptime_ns = r->po.ptime_ns;
		r->in.pt = 255;
	}
	if (!r->in_addr.len) {
		snprintf(spec, sizeof(spec), strchr(r->in.addr, ':') ? "[%s]:%u" : "%s:%u", r->in.addr,
			 r->in.port);
		if (net_parse(spec, 0, &r->in_addr)) {
			snprintf(err, errlen, "the SDP's address %s is not usable", spec);
			return -EINVAL;
		}
	}
	r->bytes_per_frame = r->in.channels * (strcasecmp(r->in.encoding, "L16") ? 3 : 2);
	if (r->in.ptime_ns) {
		uint64_t len = (uint64_t)((r->in.ptime_ns * r->in.rate + NSEC_PER_SEC / 2) /
					  NSEC_PER_SEC) * r->bytes_per_frame;

		if (len == 0 || len > JB_PAYLOAD_MAX) {
			snprintf(err, errlen, "%s: %" PRIu64 "-byte packets: the relay takes 1..%d",
				 r->from, len, JB_PAYLOAD_MAX);
			return -EINVAL;
		}
		atomic_store(&r->payload_len, (uint32_t)len);
	}
	return 0;
}

/* Join the input: packets from here on are received (and counted). */
static int listen_input(struct relay *r, char *err, size_t errlen)
{
	/*
	 * The SDP's source-filter names the one sender of the session: join it source-specific
	 * (the kernel then passes nobody else's packets) and check each packet's source too (a
	 * unicast input, or a kernel that cannot filter).
	 */
	if (r->in.source[0] && !r->have_source) {
		char spec[96];

		snprintf(spec, sizeof(spec), strchr(r->in.source, ':') ? "[%s]" : "%s", r->in.source);
		/* (any port: only the address is compared and joined) */
		if (net_parse(spec, 9, &r->source)) {
			snprintf(err, errlen, "the SDP's source-filter source %s is not an address",
				 r->in.source);
			return -EINVAL;
		}
		r->have_source = 1;
	}
	r->in_fd = net_udp_listen_from(&r->in_addr, NULL,
				       r->have_source && net_is_multicast(&r->in_addr) ? &r->source : NULL,
				       r->from_iface);
	if (r->in_fd < 0) {
		snprintf(err, errlen, "cannot receive %s: %s", r->from, strerror(-r->in_fd));
		return r->in_fd;
	}
	int on = 1;

	setsockopt(r->in_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	return 0;
}

enum rx_outcome { RX_STORED, RX_LATE, RX_DROPPED };

/*
 * Receiver: store input packet @seq, unless its slot was decided already (late) or it cannot
 * be kept (a duplicate; the producer holds its slot). Every outcome is counted by the caller.
 */
static enum rx_outcome jb_store(struct relay *r, uint16_t seq, uint32_t ts, const uint8_t *payload,
				uint32_t len)
{
	struct jb_slot *sl = &r->jb[seq % JB_DEPTH];
	uint32_t w = atomic_load(&sl->state), want;

	for (;;) {
		if (jb_seq(w) == seq && jb_st(w) != JB_FREE) {
			/* decided as silence: late; anything else: this packet again */
			return jb_st(w) == JB_SILENT ? RX_LATE : RX_DROPPED;
		}
		/* behind the producer: its slot went out (or the output began after it) */
		if (atomic_load(&r->anchored) && seq_before(seq, (uint16_t)atomic_load(&r->next_needed))) {
			return RX_LATE;
		}
		if (jb_st(w) == JB_TAKEN) {
			return RX_DROPPED;	/* the producer is reading a packet JB_DEPTH away */
		}
		if (atomic_compare_exchange_weak(&sl->state, &w, jb_word(seq, JB_WRITING))) {
			break;
		}
	}
	if (jb_st(w) == JB_STORED) {
		atomic_fetch_add(&r->rx_dropped, 1);	/* evicted, never decided */
	}
	sl->ts = ts;
	sl->len = len;
	memcpy(sl->data, payload, len);
	want = jb_word(seq, JB_WRITING);
	if (atomic_compare_exchange_strong(&sl->state, &want, jb_word(seq, JB_STORED))) {
		return RX_STORED;
	}
	/* the producer reached the silence decision for it while we were writing */
	return want == jb_word(seq, JB_SILENT) ? RX_LATE : RX_DROPPED;
}

/* Receiver thread: input packets into the jitter buffer; the first one fixes the format. */
static void *rx_main(void *arg)
{
	struct relay *r = arg;
	uint8_t b[2048];
	struct sched_param sp = { .sched_priority = r->pace.prio > 1 ? (int)r->pace.prio - 1 : 0 };

	/* store a packet before its slot's silence decision, like the producer it races */
	if (sp.sched_priority > 0) {
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	while (!atomic_load(&r->stop)) {
		struct pollfd p = { r->in_fd, POLLIN, 0 };
		char ctrl[128];
		struct iovec iov = { b, sizeof(b) };
		struct sockaddr_storage from;
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				      .msg_iovlen = 1, .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		uint32_t want_len = atomic_load(&r->payload_len);
		struct rtp_hdr h;
		struct in_pkt ip;
		int64_t arrival;
		ssize_t n;

		if (poll(&p, 1, 100) != 1) {
			continue;
		}
		n = recvmsg(r->in_fd, &msg, MSG_DONTWAIT);
		if (n <= 0) {
			continue;
		}
		arrival = net_rx_stamp(&msg);
		if (r->have_source &&
		    !net_same_host(&r->source, (const struct sockaddr *)&from, msg.msg_namelen)) {
			atomic_fetch_add(&r->rx_refused, 1);	/* not the session's sender */
			continue;
		}
		if (rtp_parse(b, (size_t)n, &h) || (r->in.pt < 128 && h.pt != r->in.pt) ||
		    h.payload_len == 0 || h.payload_len % r->bytes_per_frame ||
		    h.payload_len > JB_PAYLOAD_MAX || (want_len && h.payload_len != want_len)) {
			atomic_fetch_add(&r->rx_invalid, 1);
			continue;
		}
		if (!r->have_ssrc) {
			r->ssrc_in = h.ssrc;
			r->have_ssrc = 1;
		} else if (h.ssrc != r->ssrc_in) {
			atomic_fetch_add(&r->rx_other, 1);
			continue;
		}
		atomic_fetch_add(&r->rx, 1);
		ip = (struct in_pkt){ h.seq, h.ts, arrival };
		if (!atomic_load(&r->have_first)) {
			atomic_store(&r->payload_len, (uint32_t)h.payload_len);
			r->last_arrival = arrival;
		}
		int64_t gap = arrival - r->last_arrival;
		int64_t half = (int64_t)(h.payload_len / r->bytes_per_frame) * NSEC_PER_SEC / r->in.rate / 2;
		enum rx_outcome o = jb_store(r, h.seq, h.ts, b + h.payload_off, (uint32_t)h.payload_len);

		r->last_arrival = arrival;
		mark_put(&r->latest, &ip);
		if (!atomic_load(&r->have_first)) {
			uint64_t one = 1;

			/* stored: the producer (and a main thread that needs the size) may start */
			r->first = ip;
			atomic_store(&r->have_first, 1);
			if (write(r->first_efd, &one, sizeof(one)) != sizeof(one)) {
				pr_debug("eventfd: %s", strerror(errno));
			}
		}
		switch (o) {
		case RX_STORED:
			r->late_run = 0;
			break;
		case RX_LATE:
			atomic_fetch_add(&r->rx_late, 1);
			if (gap >= half && ++r->late_run >= LATE_RESYNC) {
				atomic_store(&r->reanchor_after, arrival);
				atomic_store(&r->reanchor_req, RA_RESYNC);
				r->late_run = 0;
			}
			break;
		case RX_DROPPED:
			atomic_fetch_add(&r->rx_dropped, 1);
			r->late_run = 0;
			break;
		}
	}
	return NULL;
}

/*
 * Producer: decide input seq @seq for its output slot. Before the deadline (@final 0) it takes
 * the packet if it is stored and returns -EAGAIN otherwise; at the deadline it takes it or
 * marks the slot silent, in one compare-and-swap against the receiver's store.
 * @return 1 with the payload in @out, 0 for silence, -EAGAIN (not here yet, not final)
 */
static int jb_take(struct relay *r, uint16_t seq, uint32_t want_ts, uint8_t *out, int final)
{
	struct jb_slot *sl = &r->jb[seq % JB_DEPTH];
	uint32_t w = atomic_load(&sl->state);
	uint32_t len = atomic_load(&r->payload_len);

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
			atomic_fetch_add(ok ? &r->out_data : &r->rx_dropped, 1);
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
				atomic_fetch_add(&r->rx_dropped, 1);	/* older, never decided */
			}
			return 0;
		}
	}
}

/* Count every stored packet before input seq @before (all of them if @all) as dropped. */
static void jb_sweep(struct relay *r, uint16_t before, int all)
{
	for (size_t i = 0; i < JB_DEPTH; i++) {
		_Atomic uint32_t *st = &r->jb[i].state;
		uint32_t w = atomic_load(st);

		while (jb_st(w) == JB_STORED && (all || seq_before(jb_seq(w), before))) {
			if (atomic_compare_exchange_weak(st, &w, jb_word(jb_seq(w), JB_DROPPED))) {
				atomic_fetch_add(&r->rx_dropped, 1);
				break;
			}
		}
	}
}

/* The input packet @m puts into output slot @k (at or after m->k): seq and RTP time. */
static void mapped(const struct relay *r, const struct mapping *m, uint64_t k, uint16_t *seq,
		   uint32_t *ts)
{
	uint64_t d = k - m->k;

	*seq = (uint16_t)(m->seq + d);
	*ts = m->ts + (uint32_t)(d * r->sched.spp);
}

/* The mapping from slot @k on in which @ref leaves in the first slot a link offset after it
 * arrived: one input packet per slot from there, both ways. */
static struct mapping map_from(const struct relay *r, const struct in_pkt *ref, uint64_t k)
{
	int64_t d = (int64_t)k - (int64_t)sched_first_at(&r->sched, ref->arrival + r->link_offset_ns);

	return (struct mapping){ k, (uint16_t)(ref->seq + d),
				 ref->ts + (uint32_t)((uint64_t)d * r->sched.spp) };
}

/* @return the first slot the producer can still decide in time */
static uint64_t first_reachable(const struct relay *r, int64_t lead)
{
	return sched_first_at(&r->sched, clock_ns(CLOCK_REALTIME) + lead + ANCHOR_GUARD_NS);
}

/*
 * The first anchor, once the output can start (after the lock, with the pacer running): the
 * first input packet, in the slot a link offset after its arrival, when that slot is still
 * ahead; otherwise the newest packet, from the first slot that can still be made. What came
 * before is dropped (counted), never sent late.
 * @return the first output slot
 */
static uint64_t anchor_first(struct relay *r, int64_t lead)
{
	uint64_t reach = first_reachable(r, lead);
	uint64_t k = sched_first_at(&r->sched, r->first.arrival + r->link_offset_ns);
	struct in_pkt ref = r->first;
	uint16_t before;

	if (k < reach) {
		if (mark_get(&r->latest, &ref)) {
			ref = r->first;
		}
		k = reach;
	}
	r->map = map_from(r, &ref, k);
	/* not from a packet before the first (packets that came in a burst), when it is near */
	before = (uint16_t)(r->first.seq - r->map.seq);
	if (before > 0 && before < JB_DEPTH) {
		k += before;
		r->map = map_from(r, &ref, k);
	}
	/* what the main thread reports: the delay the mapping gives the reference packet */
	r->anchor_delay_ns = sched_launch(&r->sched, k) - ref.arrival -
			     (int64_t)(int16_t)(r->map.seq - ref.seq) * sched_ptime_ns(&r->sched);
	r->anchor_seq = r->map.seq;
	atomic_store(&r->next_needed, r->map.seq);
	jb_sweep(r, r->map.seq, 0);
	atomic_store(&r->anchored, 1);
	return k;
}

/*
 * Re-anchor for @why at output slot @k (the next one to build). The newest input packet (it
 * arrived after the request) gives the mapping again; within a packet of the current one that is
 * arrival jitter, and the mapping stays. A slot already past is skipped, never sent late. Every
 * change is counted, and *marker set: the next packet starts a new run.
 * @return the next output slot
 */
static uint64_t reanchor(struct relay *r, uint64_t k, enum reanchor_why why, int64_t lead,
			 int *marker)
{
	uint64_t k0 = k;
	struct mapping m;
	struct in_pkt l;
	int moved = 0;

	if (sched_launch(&r->sched, k) < clock_ns(CLOCK_REALTIME)) {
		k0 = first_reachable(r, lead);
	}
	m = r->map;
	if (why != RA_BEHIND && mark_get(&r->latest, &l) == 0) {
		struct mapping n = map_from(r, &l, k0);
		uint16_t cur;
		uint32_t ts;

		mapped(r, &m, k0, &cur, &ts);
		if (why == RA_RESYNC || abs((int16_t)(n.seq - cur)) > 1) {
			m = n;
			moved = 1;
		}
	}
	if (!moved) {
		/* the same line, from slot k0 on */
		uint16_t seq;
		uint32_t ts;

		mapped(r, &m, k0, &seq, &ts);
		m = (struct mapping){ k0, seq, ts };
	}
	r->map = m;
	if (why == RA_RESYNC) {
		atomic_fetch_add(&r->resyncs, 1);
	} else if (moved || k0 != k) {
		atomic_fetch_add(&r->reanchors, 1);
	}
	if (moved || k0 != k) {
		atomic_fetch_add(&r->skipped_slots, k0 - k);
		*marker = 1;
	}
	atomic_store(&r->last_why, why);
	atomic_store(&r->last_moved, moved || k0 != k);
	atomic_fetch_add(&r->anchor_checks, 1);
	atomic_store(&r->next_needed, r->map.seq);
	jb_sweep(r, r->map.seq, 0);
	return k0;
}

/*
 * @return the pending re-anchor request once a packet stamped after it is here (taken when
 * @take), else RA_NONE
 */
static enum reanchor_why reanchor_due(struct relay *r, int take)
{
	int why = atomic_load(&r->reanchor_req);
	struct in_pkt l;

	if (why == RA_NONE || mark_get(&r->latest, &l) || l.arrival < atomic_load(&r->reanchor_after)) {
		return RA_NONE;
	}
	if (!take) {
		return (enum reanchor_why)why;
	}
	/* taken, unless a newer request came meanwhile (it is seen next time) */
	return atomic_compare_exchange_strong(&r->reanchor_req, &why, RA_NONE) ? (enum reanchor_why)why
									    : RA_NONE;
}

/* Producer: output slot k from the input packet the mapping gives, built a small lead before it. */
static void *prod_main(void *arg)
{
	struct relay *r = arg;
	int64_t ptime = sched_ptime_ns(&r->sched);
	int64_t lead = r->link_offset_ns / 2 < 2 * NSEC_PER_MSEC ? r->link_offset_ns / 2 : 2 * NSEC_PER_MSEC;
	uint64_t limit = r->seconds_ns ? (uint64_t)(r->seconds_ns / ptime) : 0;
	uint32_t len = atomic_load(&r->payload_len);
	struct sched_param sp = { .sched_priority = r->pace.prio > 1 ? (int)r->pace.prio - 1 : 0 };
	uint64_t k, n = 0;
	int marker = 1;

	/* the silence decision is time-critical: just below the pacer, where allowed */
	if (sp.sched_priority > 0) {
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	/* the output starts from the first packet that arrives now that it can start */
	while (!atomic_load(&r->have_first) && !atomic_load(&r->stop)) {
		struct pollfd p = { r->first_efd, POLLIN, 0 };

		poll(&p, 1, 100);
	}
	if (atomic_load(&r->stop)) {
		goto out;
	}
	k = anchor_first(r, lead);
	while (!atomic_load(&r->stop) && (!limit || n < limit)) {
		int64_t now = clock_ns(CLOCK_REALTIME), decide = sched_launch(&r->sched, k) - lead;
		enum reanchor_why why = reanchor_due(r, 1);
		struct pkt *pk;
		uint16_t seq;
		uint32_t want_ts;
		int got;

		if (why != RA_NONE) {
			k = reanchor(r, k, why, lead, &marker);
			continue;
		}
		if (decide + lead < now - BEHIND_NS) {
			k = reanchor(r, k, RA_BEHIND, lead, &marker);
			continue;
		}
		/* the ring slot first: a packet taken from the input always goes out */
		while (!(pk = ring_produce_begin(r->ring)) && !atomic_load(&r->stop)) {
			struct timespec w = { 0, 100 * 1000 };

			nanosleep(&w, NULL);
		}
		if (!pk) {
			break;
		}
		mapped(r, &r->map, k, &seq, &want_ts);
		/*
		 * Take the input packet as soon as it is here (a link offset ahead of its slot when
		 * the input is on time); only at the slot minus a small lead does it become silence.
		 */
		for (;;) {
			got = jb_take(r, seq, want_ts, pk->data + RTP_HDR_LEN, 0);
			if (got >= 0) {
				break;
			}
			now = clock_ns(CLOCK_REALTIME);
			if (now >= decide) {
				got = jb_take(r, seq, want_ts, pk->data + RTP_HDR_LEN, 1);
				break;
			}
			if (atomic_load(&r->stop) || reanchor_due(r, 0) != RA_NONE) {
				break;
			}
			int64_t wake = now + 500 * NSEC_PER_USEC;
			struct timespec ts = ns_to_ts(wake < decide ? wake : decide);

			clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
		}
		if (got < 0) {
			continue;	/* a request came first: nothing decided for this slot */
		}
		atomic_store(&r->next_needed, (uint16_t)(seq + 1));
		if (!got) {
			memset(pk->data + RTP_HDR_LEN, 0, len);
			atomic_fetch_add(&r->out_silent, 1);
		}
		rtp_write_hdr(pk->data, (uint8_t)r->po.pt, marker, (uint16_t)(r->d.seq0 + n),
			      sched_rtp_ts(&r->sched, k), r->d.ssrc);
		pk->len = (uint32_t)(RTP_HDR_LEN + len);
		pk->k = n;
		pk->seq = (uint16_t)(r->d.seq0 + n);
		pk->launch_ns = sched_launch(&r->sched, k);
		pk->flags = 0;
		ring_produce_commit(r->ring);
		atomic_fetch_add(&r->built, 1);
		marker = 0;
		k++;
		n++;
	}
out:
	ring_close(r->ring);
	return NULL;
}

static void report(struct relay *r, FILE *f)
{
	struct pacer_stats *st = pacer_stats(r->pacer);
	const char *which;
	const struct hist *h = pacer_departure(r->pacer, &which);
	struct json j;

	json_init(&j, f);
	json_obj(&j, NULL);
	json_str(&j, "from", r->from);
	json_str(&j, "to", r->po.dest_s);
	json_str(&j, "format", r->in.encoding);
	json_uint(&j, "rate", r->in.rate);
	json_uint(&j, "channels", r->in.channels);
	json_uint(&j, "samples_per_packet", r->sched.spp);
	json_num(&j, "link_offset_us", (double)r->link_offset_ns / 1e3);
	json_obj(&j, "input");
	/* packets == used + late + dropped */
	json_uint(&j, "packets", atomic_load(&r->rx));
	json_uint(&j, "used", atomic_load(&r->out_data));
	json_uint(&j, "late", atomic_load(&r->rx_late));
	json_uint(&j, "dropped", atomic_load(&r->rx_dropped));
	json_uint(&j, "invalid", atomic_load(&r->rx_invalid));
	json_uint(&j, "other_ssrc", atomic_load(&r->rx_other));
	json_uint(&j, "refused_sources", atomic_load(&r->rx_refused));
	json_str(&j, "source_filter", r->have_source ? r->in.source : "");
	json_end(&j, '}');
	json_obj(&j, "output");
	json_uint(&j, "packets", atomic_load(&r->built));
	json_uint(&j, "sent", atomic_load(&st->sent));
	json_uint(&j, "from_input", atomic_load(&r->out_data));
	json_uint(&j, "silent", atomic_load(&r->out_silent));
	json_uint(&j, "resyncs", atomic_load(&r->resyncs));
	json_uint(&j, "reanchors", atomic_load(&r->reanchors));
	json_uint(&j, "skipped_slots", atomic_load(&r->skipped_slots));
	json_uint(&j, "late", atomic_load(&st->late));
	json_str(&j, "departure_source", which);
	json_hist(&j, "departure_error_us", h);
	json_end(&j, '}');
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

/* Worker threads: small stacks (under mlockall every stack page is faulted in at creation),
 * created with the stop signals blocked so that only the main thread sees them. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t a;
	int rc;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, THREAD_STACK);
	cli_block_signals(1);
	rc = pthread_create(t, &a, fn, arg);
	cli_block_signals(0);
	pthread_attr_destroy(&a);
	return rc;
}

/* Main thread: lock transitions and clock steps become re-anchor requests; say what happened. */
static void watch_clock(struct relay *r, int *was_locked, int *started, uint64_t *checks_seen)
{
	int locked = profile_aes67.clock_locked(r->prof);
	int64_t step = clocks_track(r->clk);
	uint64_t n = atomic_load(&r->anchor_checks);

	if (!*started && atomic_load(&r->anchored)) {
		pr_info("output started: input packet %u leaves %.3f ms after it arrived (%" PRIu64
			" input packets before it dropped)", r->anchor_seq, (double)r->anchor_delay_ns / 1e6,
			atomic_load(&r->rx_dropped));
		*started = 1;
	}
	if (*was_locked && !locked) {
		r->lock_lost++;
		pr_warn("PTP lock lost (ptp4l at %s): the output goes on, on the unlocked clock",
			r->po.ptp_socket ? r->po.ptp_socket : PTP_DEFAULT_SOCKET);
	} else if (!*was_locked && locked) {
		r->lock_gained++;
		pr_warn("PTP locked: checking the output's anchor");
		atomic_store(&r->reanchor_after, clock_ns(CLOCK_REALTIME));
		atomic_store(&r->reanchor_req, RA_LOCK);
	}
	*was_locked = locked;
	if (step > STEP_NS) {
		r->clock_steps++;
		pr_warn("CLOCK_REALTIME stepped by %.3f ms: re-anchoring the output", (double)step / 1e6);
		atomic_store(&r->reanchor_after, clock_ns(CLOCK_REALTIME));
		atomic_store(&r->reanchor_req, RA_STEP);
	}
	if (n != *checks_seen) {
		int why = atomic_load(&r->last_why);

		if (atomic_load(&r->last_moved)) {
			pr_warn("output re-anchored (%s): %" PRIu64 " slots skipped so far", why_name[why],
				atomic_load(&r->skipped_slots));
		} else {
			pr_info("output anchor checked (%s): it holds", why_name[why]);
		}
		*checks_seen = n;
	}
}

/* Wait until the first input packet is stored. @return 0, or -EINTR on a stop signal */
static int wait_first(struct relay *r)
{
	while (!atomic_load(&r->have_first)) {
		struct pollfd p = { r->first_efd, POLLIN, 0 };

		if (cli_stop) {
			return -EINTR;
		}
		poll(&p, 1, 100);
	}
	return 0;
}

/*
 * The output, ready to start: the aes67 profile (with --require-lock, after ptp4l's lock), the
 * pacer running, and the PTP grid. @return 0, or -1 with the reason logged
 */
static int setup_output(struct relay *r)
{
	uint32_t len = atomic_load(&r->payload_len);
	char err[512] = "";
	int rc;

	r->po.rate = r->in.rate;
	r->po.channels = r->in.channels;
	r->po.bits = strcasecmp(r->in.encoding, "L16") ? 24 : 16;
	r->po.ptime_ns = (int64_t)(len / r->bytes_per_frame) * NSEC_PER_SEC / r->in.rate;
	if (r->in.pt < 128) {
		r->po.pt = r->in.pt;
	}
	r->prof = profile_aes67.open(&r->po, &r->d, err, sizeof(err));
	if (!r->prof) {
		pr_err("%s", err);
		return -1;
	}
	r->d.spp = len / r->bytes_per_frame;
	r->sched = (struct schedule){ .rate = r->in.rate, .spp = r->d.spp };
	r->ring = ring_new(64, RTP_HDR_LEN + len);
	struct pacer_cfg pc = {
		.backend = "rt", .spin_ns = r->pace.spin_ns, .prio = (int)r->pace.prio,
		.cpu = (int)r->pace.cpu, .memory_locked = r->memory_locked,
		.max_burst = 2, .late_ns = NSEC_PER_MSEC, .ptime_ns = sched_ptime_ns(&r->sched),
		.timestamps = 1, .clock = r->d.clock,
	};
	r->pacer = r->ring ? pacer_new(&pc, r->d.fd, r->ring, NULL, r->clk) : NULL;
	if (!r->pacer) {
		pr_err("cannot create the pacer: %s", strerror(errno));
		return -1;
	}
	cli_block_signals(1);
	rc = pacer_start(r->pacer);
	cli_block_signals(0);
	if (rc) {
		pr_err("cannot start the pacer: %s", strerror(-rc));
		return -1;
	}
	/* the PTP grid; the producer anchors the input onto it (not before the first packet) */
	rc = profile_aes67.start(r->prof, &r->sched, atomic_load(&r->have_first) ? r->first.arrival :
				 clock_ns(CLOCK_REALTIME), err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		return -1;
	}
	return 0;
}

/* The output side: the lock, the pacer and the grid (setup_output), then the producer thread. */
static int start_output(struct relay *r)
{
	int rc;

	if (setup_output(r)) {
		return -1;
	}
	rc = start_thread(&r->prod_thread, prod_main, r);
	if (rc) {
		pr_err("cannot start: %s", strerror(rc));
		return -rc;
	}
	return 0;
}

int cmd_relay(int argc, char **argv)
{
	struct relay r = { .in_fd = -1, .first_efd = -1, .d.fd = -1, .d.clock = CLOCK_MONOTONIC };
	char err[512] = "";
	int rc, ret = EXIT_FAIL, rx_started = 0, prod_started = 0, was_locked, started = 0;
	uint64_t checks_seen = 0;

	rc = parse(&r, argc, argv);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	cli_signals();
	if (open_input(&r, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	/*
	 * Lock memory before anything is timed. mlockall faults in every mapped library (tens of
	 * ms, far more on a cold page cache) and holds the mmap lock meanwhile: done by the pacer
	 * after the first input packet, it stalled the receiver and ate that packet's link offset.
	 */
	if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0) {
		r.memory_locked = 1;
	}
	r.jb = calloc(JB_DEPTH, sizeof(*r.jb));
	r.clk = clocks_new();
	r.first_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!r.jb || !r.clk || r.first_efd < 0) {
		pr_err("out of memory");
		goto out;
	}
	/*
	 * With the packet size known (the SDP's ptime, --ptime), the output is ready before the
	 * input is joined: the PTP lock, the pacer, the grid. The first packet received then
	 * anchors the output at once. Without it, the first packet gives the size, and what
	 * arrives while the output gets ready (the lock) is dropped and counted.
	 */
	if (atomic_load(&r.payload_len)) {
		if (start_output(&r)) {
			goto out_pacer;
		}
		prod_started = 1;
	}
	if (listen_input(&r, err, sizeof(err))) {
		pr_err("%s", err);
		goto out_pacer;
	}
	rc = start_thread(&r.rx_thread, rx_main, &r);
	if (rc) {
		pr_err("cannot start the receiver: %s", strerror(rc));
		goto out_pacer;
	}
	rx_started = 1;
	if (!prod_started) {
		if (wait_first(&r)) {
			ret = EXIT_OK;
			goto out;
		}
		if (start_output(&r)) {
			goto out_pacer;
		}
		prod_started = 1;
	}
	was_locked = profile_aes67.clock_locked(r.prof);
	while (!pacer_done(r.pacer)) {
		struct timespec w = { 0, 100 * 1000 * 1000 };
		int64_t next;

		nanosleep(&w, NULL);
		profile_aes67.service(r.prof, &r.sched, clock_ns(CLOCK_REALTIME), &next, err,
				      sizeof(err));
		watch_clock(&r, &was_locked, &started, &checks_seen);
		if (cli_stop) {
			atomic_store(&r.stop, 1);
		}
	}
	atomic_store(&r.stop, 1);
	pthread_join(r.prod_thread, NULL);
	prod_started = 0;
	pthread_join(r.rx_thread, NULL);
	rx_started = 0;
	/* what is still stored was never decided: the output ended first */
	jb_sweep(&r, 0, 1);
	pacer_join(r.pacer);
	profile_aes67.finish(r.prof, &r.sched, 0, 0, err, sizeof(err));
	if (!r.quiet) {
		printf("relayed %" PRIu64 " packets: %" PRIu64 " from the input, %" PRIu64
		       " silent; input %" PRIu64 ": %" PRIu64 " used, %" PRIu64 " late, %" PRIu64
		       " dropped; %" PRIu64 " resyncs, %" PRIu64 " re-anchors\n",
		       atomic_load(&r.built), atomic_load(&r.out_data), atomic_load(&r.out_silent),
		       atomic_load(&r.rx), atomic_load(&r.out_data), atomic_load(&r.rx_late),
		       atomic_load(&r.rx_dropped), atomic_load(&r.resyncs), atomic_load(&r.reanchors));
	}
	if (r.report_path) {
		FILE *f = fopen(r.report_path, "w");

		if (!f) {
			pr_err("cannot write %s: %s", r.report_path, strerror(errno));
			goto out;
		}
		report(&r, f);
		fclose(f);
	}
	ret = atomic_load(&pacer_stats(r.pacer)->sent) == atomic_load(&r.built) ? EXIT_OK : EXIT_FAIL;
	goto out;
out_pacer:
	if (r.ring) {
		ring_close(r.ring);
	}
	if (r.pacer) {
		pacer_abort(r.pacer);
	}
out:
	atomic_store(&r.stop, 1);
	if (prod_started) {
		pthread_join(r.prod_thread, NULL);
	}
	if (rx_started) {
		pthread_join(r.rx_thread, NULL);
	}
	if (r.pacer) {
		pacer_join(r.pacer);
	}
	pacer_free(r.pacer);
	if (r.prof) {
		profile_aes67.close(r.prof);
	}
	ring_free(r.ring);
	free(r.jb);
	clocks_free(r.clk);
	if (r.first_efd >= 0) {
		close(r.first_efd);
	}
	if (r.in_fd >= 0) {
		close(r.in_fd);
	}
	if (r.d.fd >= 0) {
		close(r.d.fd);
	}
	return ret;
}
