// SPDX-License-Identifier: GPL-2.0-only
/*
 * An AES67/RTP input (an SDP file, a SAP-announced session, or GROUP:PORT): found, joined, and
 * received by a thread of its own into a jitter buffer (jbuf.c) that the consumer (the relay's
 * producer) decides from. Packets of another sender, SSRC, payload type or size are counted and
 * left out; the first packet fixes the payload size when the SDP does not.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/clock.h"
#include "txpace/jbuf.h"
#include "txpace/log.h"
#include "txpace/net.h"
#include "txpace/rtp.h"
#include "txpace/rtp_input.h"
#include "txpace/sap.h"
#include "txpace/worker.h"

/*
 * This many late input packets in a row, each arriving a normal packet time after the one
 * before, mean the input runs on a shifted timeline (a restarted sender): re-anchor. A burst of
 * held packets (a stalled network) arrives back to back and does not count.
 */
#define LATE_RESYNC 20

/* The newest input packet: one writer (rx), read by the consumer; a sequence lock. */
struct in_mark {
	_Atomic uint32_t v;	/* odd while written, 0 before the first packet */
	_Atomic uint32_t seq, ts;
	_Atomic int64_t arrival;
};

struct rtp_input {
	struct rtp_input_cfg cfg;
	struct sdp_in in;
	struct net_addr addr;
	int fd;
	int first_efd;		/* eventfd, readable once the first input packet is stored */
	uint32_t bytes_per_frame;
	_Atomic uint32_t payload_len;	/* 0 until the first packet when the SDP has no ptime */
	struct net_addr source;		/* the SDP's source-filter (incl): the only sender taken */
	int have_source;
	struct jbuf *jb;
	/* hand-offs between the receiver and the consumer */
	_Atomic int stop;
	struct in_mark latest;
	struct rtp_input_pkt first;	/* rx, published by have_first */
	_Atomic int have_first;
	/* the receiver thread's own */
	uint32_t ssrc;
	int have_ssrc, late_run;
	int64_t last_arrival;
	pthread_t thread;
	int started;
	/* rx == the buffer's used + late + dropped once both threads have ended */
	_Atomic uint64_t rx, invalid, other, refused;
};

static void mark_put(struct in_mark *m, const struct rtp_input_pkt *p)
{
	uint32_t v = atomic_load_explicit(&m->v, memory_order_relaxed);

	atomic_store_explicit(&m->v, v | 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&m->seq, p->seq, memory_order_relaxed);
	atomic_store_explicit(&m->ts, p->ts, memory_order_relaxed);
	atomic_store_explicit(&m->arrival, p->arrival, memory_order_relaxed);
	atomic_store_explicit(&m->v, (v | 1) + 1, memory_order_release);
}

int rtp_input_latest(struct rtp_input *in, struct rtp_input_pkt *p)
{
	struct in_mark *m = &in->latest;

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

/* sap:NAME: listen for the announcement of the session called NAME (any session if empty). */
static int find_sap(struct rtp_input *in, const char *name, char *err, size_t errlen)
{
	struct net_addr g;
	int64_t end = mono_ns() + in->cfg.sap_timeout_ns;
	int fd, rc = -ETIMEDOUT;

	if (net_parse(SAP_GROUP, SAP_PORT, &g)) {
		return -EINVAL;
	}
	fd = net_udp_listen(&g, NULL, in->cfg.iface);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen for SAP on %s: %s", SAP_GROUP, strerror(-fd));
		return fd;
	}
	while (!txp_stopped(in->cfg.stop)) {
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
		if (sdp_parse(m.sdp, m.sdp_len, &in->in) == 0 && (!*name || !strcmp(in->in.name, name))) {
			rc = 0;
			break;
		}
	}
	close(fd);
	if (rc) {
		snprintf(err, errlen, "no SAP announcement of a session called '%s' within %.0f s", name,
			 (double)in->cfg.sap_timeout_ns / 1e9);
	}
	return rc;
}

/* What the input is: its SDP (a file, or SAP), or GROUP:PORT and the format of the config. */
static int describe(struct rtp_input *in, char *err, size_t errlen)
{
	const struct rtp_input_cfg *c = &in->cfg;

	if (!strncmp(c->from, "sap:", 4)) {
		return find_sap(in, c->from + 4, err, errlen);
	}
	if (access(c->from, R_OK) == 0) {
		char text[8192];
		FILE *f = fopen(c->from, "r");
		size_t n = f ? fread(text, 1, sizeof(text), f) : 0;

		if (f) {
			fclose(f);
		}
		if (sdp_parse(text, n, &in->in)) {
			snprintf(err, errlen, "%s: no L16/L24 audio stream in this SDP", c->from);
			return -EINVAL;
		}
		return 0;
	}
	/* GROUP:PORT: the format comes from the options */
	if (net_parse(c->from, 0, &in->addr)) {
		snprintf(err, errlen, "--from '%s': not an SDP file, sap:NAME or GROUP:PORT", c->from);
		return -EINVAL;
	}
	snprintf(in->in.encoding, sizeof(in->in.encoding), "L%u", c->bits);
	in->in.rate = (uint32_t)c->rate;
	in->in.channels = (uint32_t)c->channels;
	in->in.ptime_ns = c->ptime_ns;
	in->in.pt = 255;
	return 0;
}

/* Where it is received, and (with a packet time) the payload size. */
static int resolve(struct rtp_input *in, char *err, size_t errlen)
{
	char spec[160];

	if (!in->addr.len) {
		snprintf(spec, sizeof(spec), strchr(in->in.addr, ':') ? "[%s]:%u" : "%s:%u",
			 in->in.addr, in->in.port);
		if (net_parse(spec, 0, &in->addr)) {
			snprintf(err, errlen, "the SDP's address %s is not usable", spec);
			return -EINVAL;
		}
	}
	in->bytes_per_frame = in->in.channels * (strcasecmp(in->in.encoding, "L16") ? 3 : 2);
	if (in->in.ptime_ns) {
		uint64_t len = (uint64_t)((in->in.ptime_ns * in->in.rate + NSEC_PER_SEC / 2) /
					  NSEC_PER_SEC) * in->bytes_per_frame;

		if (len == 0 || len > JBUF_PAYLOAD_MAX) {
			snprintf(err, errlen, "%s: %" PRIu64 "-byte packets: the relay takes 1..%d",
				 in->cfg.from, len, JBUF_PAYLOAD_MAX);
			return -EINVAL;
		}
		atomic_store(&in->payload_len, (uint32_t)len);
	}
	return 0;
}

struct rtp_input *rtp_input_open(const struct rtp_input_cfg *cfg, char *err, size_t errlen)
{
	struct rtp_input *in = calloc(1, sizeof(*in));

	if (!in) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->cfg = *cfg;
	in->fd = -1;
	in->first_efd = -1;
	if (describe(in, err, errlen) || resolve(in, err, errlen)) {
		goto err;
	}
	in->jb = jbuf_new();
	in->first_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!in->jb || in->first_efd < 0) {
		snprintf(err, errlen, "out of memory");
		goto err;
	}
	return in;
err:
	rtp_input_free(in);
	return NULL;
}

/* Join the input: packets from here on are received (and counted). */
static int listen_input(struct rtp_input *in, char *err, size_t errlen)
{
	int on = 1;

	/*
	 * The SDP's source-filter names the one sender of the session: join it source-specific
	 * (the kernel then passes nobody else's packets) and check each packet's source too (a
	 * unicast input, or a kernel that cannot filter).
	 */
	if (in->in.source[0] && !in->have_source) {
		char spec[96];

		snprintf(spec, sizeof(spec), strchr(in->in.source, ':') ? "[%s]" : "%s", in->in.source);
		/* (any port: only the address is compared and joined) */
		if (net_parse(spec, 9, &in->source)) {
			snprintf(err, errlen, "the SDP's source-filter source %s is not an address",
				 in->in.source);
			return -EINVAL;
		}
		in->have_source = 1;
	}
	in->fd = net_udp_listen_from(&in->addr, NULL,
				     in->have_source && net_is_multicast(&in->addr) ? &in->source : NULL,
				     in->cfg.iface);
	if (in->fd < 0) {
		snprintf(err, errlen, "cannot receive %s: %s", in->cfg.from, strerror(-in->fd));
		return in->fd;
	}
	setsockopt(in->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	return 0;
}

/* @return 1 when the packet belongs to the stream (else counted as refused, invalid or other) */
static int rx_accept(struct rtp_input *in, const uint8_t *b, ssize_t n, const struct msghdr *msg,
		     struct rtp_hdr *h)
{
	uint32_t want_len = atomic_load(&in->payload_len);

	if (in->have_source && !net_same_host(&in->source, (const struct sockaddr *)msg->msg_name,
					      msg->msg_namelen)) {
		atomic_fetch_add(&in->refused, 1);	/* not the session's sender */
		return 0;
	}
	if (rtp_parse(b, (size_t)n, h) || (in->in.pt < 128 && h->pt != in->in.pt) ||
	    h->payload_len == 0 || h->payload_len % in->bytes_per_frame ||
	    h->payload_len > JBUF_PAYLOAD_MAX || (want_len && h->payload_len != want_len)) {
		atomic_fetch_add(&in->invalid, 1);
		return 0;
	}
	if (!in->have_ssrc) {
		in->ssrc = h->ssrc;
		in->have_ssrc = 1;
	} else if (h->ssrc != in->ssrc) {
		atomic_fetch_add(&in->other, 1);
		return 0;
	}
	return 1;
}

/* A run of late packets at the normal rate (@gap, against @half a packet time) is a restart. */
static void rx_late_run(struct rtp_input *in, enum jbuf_outcome o, int64_t gap, int64_t half,
			int64_t arrival)
{
	if (o != JBUF_LATE) {
		in->late_run = 0;
	} else if (gap >= half && ++in->late_run >= LATE_RESYNC) {
		if (in->cfg.on_restart) {
			in->cfg.on_restart(in->cfg.arg, arrival);
		}
		in->late_run = 0;
	}
}

/* A stream packet: into the jitter buffer; the first one fixes the payload size. */
static void rx_packet(struct rtp_input *in, const uint8_t *b, const struct rtp_hdr *h,
		      int64_t arrival)
{
	struct rtp_input_pkt ip = { h->seq, h->ts, arrival };
	int64_t gap, half;
	enum jbuf_outcome o;

	atomic_fetch_add(&in->rx, 1);
	if (!atomic_load(&in->have_first)) {
		atomic_store(&in->payload_len, (uint32_t)h->payload_len);
		in->last_arrival = arrival;
	}
	gap = arrival - in->last_arrival;
	half = (int64_t)(h->payload_len / in->bytes_per_frame) * NSEC_PER_SEC / in->in.rate / 2;
	o = jbuf_store(in->jb, h->seq, h->ts, b + h->payload_off, (uint32_t)h->payload_len);
	in->last_arrival = arrival;
	mark_put(&in->latest, &ip);
	if (!atomic_load(&in->have_first)) {
		uint64_t one = 1;

		/* stored: the consumer (and a caller that needs the size) may start */
		in->first = ip;
		atomic_store(&in->have_first, 1);
		if (write(in->first_efd, &one, sizeof(one)) != sizeof(one)) {
			pr_debug("eventfd: %s", strerror(errno));
		}
	}
	rx_late_run(in, o, gap, half, arrival);
}

/* Receiver thread: input packets into the jitter buffer. */
static void *rx_main(void *arg)
{
	struct rtp_input *in = arg;
	uint8_t b[2048];
	struct sched_param sp = { .sched_priority = in->cfg.prio };

	/* store a packet before its slot's silence decision, like the consumer it races */
	if (sp.sched_priority > 0) {
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	while (!atomic_load(&in->stop)) {
		struct pollfd p = { in->fd, POLLIN, 0 };
		char ctrl[128];
		struct iovec iov = { b, sizeof(b) };
		struct sockaddr_storage from;
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov,
				      .msg_iovlen = 1, .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		struct rtp_hdr h;
		int64_t arrival;
		ssize_t n;

		if (poll(&p, 1, 100) != 1) {
			continue;
		}
		n = recvmsg(in->fd, &msg, MSG_DONTWAIT);
		if (n <= 0) {
			continue;
		}
		arrival = net_rx_stamp(&msg);
		if (rx_accept(in, b, n, &msg, &h)) {
			rx_packet(in, b, &h, arrival);
		}
	}
	return NULL;
}

int rtp_input_start(struct rtp_input *in, char *err, size_t errlen)
{
	int rc = listen_input(in, err, errlen);

	if (rc) {
		return rc;
	}
	rc = worker_start(&in->thread, rx_main, in);
	if (rc) {
		snprintf(err, errlen, "cannot start the receiver: %s", strerror(-rc));
		return rc;
	}
	in->started = 1;
	return 0;
}

void rtp_input_halt(struct rtp_input *in)
{
	atomic_store(&in->stop, 1);
}

void rtp_input_join(struct rtp_input *in)
{
	if (in->started) {
		pthread_join(in->thread, NULL);
		in->started = 0;
	}
}

void rtp_input_free(struct rtp_input *in)
{
	if (!in) {
		return;
	}
	rtp_input_halt(in);
	rtp_input_join(in);
	jbuf_free(in->jb);
	if (in->first_efd >= 0) {
		close(in->first_efd);
	}
	if (in->fd >= 0) {
		close(in->fd);
	}
	free(in);
}

struct jbuf *rtp_input_jbuf(struct rtp_input *in)
{
	return in->jb;
}

int rtp_input_first(struct rtp_input *in, struct rtp_input_pkt *p)
{
	if (!atomic_load(&in->have_first)) {
		return -ENOENT;
	}
	*p = in->first;
	return 0;
}

const struct sdp_in *rtp_input_desc(const struct rtp_input *in)
{
	return &in->in;
}

const char *rtp_input_source_filter(const struct rtp_input *in)
{
	return in->have_source ? in->in.source : "";
}

uint32_t rtp_input_frame_bytes(const struct rtp_input *in)
{
	return in->bytes_per_frame;
}

uint32_t rtp_input_payload_len(const struct rtp_input *in)
{
	return atomic_load(&((struct rtp_input *)in)->payload_len);
}

int rtp_input_first_fd(const struct rtp_input *in)
{
	return in->first_efd;
}

void rtp_input_stats(const struct rtp_input *in, struct rtp_input_stats *st)
{
	struct rtp_input *m = (struct rtp_input *)in;
	struct jbuf_counts c;

	jbuf_counts(m->jb, &c);
	*st = (struct rtp_input_stats){
		.packets = atomic_load(&m->rx),
		.used = c.used, .late = c.late, .dropped = c.dropped,
		.invalid = atomic_load(&m->invalid), .other_ssrc = atomic_load(&m->other),
		.refused = atomic_load(&m->refused),
	};
}
