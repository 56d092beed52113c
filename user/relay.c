// SPDX-License-Identifier: GPL-2.0-only
/*
 * `txpace relay`: an incoming AES67/RTP stream re-timed onto this sender's PTP grid. Output
 * packet k carries input packet seq_base + k, bit for bit, and leaves at its slot on the grid
 * a link offset after the input's first arrival: the output consumes exactly one input packet
 * per packet time (never faster), a missing or late input packet becomes silence and is counted,
 * and a stalled input gives silence, not a burst, when it comes back.
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
#include <sys/socket.h>
#include <unistd.h>

#include "txpace/cli.h"
#include "txpace/clock.h"
#include "txpace/cmd.h"
#include "txpace/history.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/net.h"
#include "txpace/pacer.h"
#include "txpace/profile.h"
#include "txpace/ring.h"
#include "txpace/rtp.h"
#include "txpace/sap.h"
#include "txpace/sched.h"
#include "txpace/sdp.h"
#include "txpace/stream_opts.h"

#define JB_DEPTH 1024		/* input packets kept, by sequence number */
/*
 * This many late input packets in a row, each arriving a normal packet time after the one
 * before, mean the input runs on a shifted timeline (a restarted sender): re-anchor. A burst of
 * held packets (a stalled network) arrives back to back and does not count.
 */
#define LATE_RESYNC 20

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
	uint32_t bytes_per_frame;
	size_t payload_len;	/* 0 until the first packet when the SDP has no ptime */
	/* output */
	struct stream_desc d;
	void *prof;
	struct ring *ring;
	struct pacer *pacer;
	struct clocks *clk;
	struct schedule sched;
	struct history *jb;	/* [u32 RTP time][payload] by input sequence number */
	/* hand-offs between the receiver (rx) and the producer */
	_Atomic int anchored, stop, resync_req;
	_Atomic uint32_t latest;	/* rx: seq << 0 of the newest packet (16 bits used) */
	_Atomic uint32_t latest_ts;
	_Atomic uint32_t next_needed;	/* producer: the input seq it will take next */
	_Atomic uint32_t used[JB_DEPTH];	/* producer: seq | 0x10000 once that packet went out */
	_Atomic int64_t first_arrival;	/* CLOCK_REALTIME */
	uint16_t seq_base;
	uint32_t ts_base;
	uint64_t k_base;
	uint32_t ssrc_in;
	int have_ssrc;
	/* counters */
	_Atomic uint64_t rx, rx_late, rx_invalid, rx_other, out_data, out_silent, resyncs, built;
	int late_run;
	int64_t last_arrival;
	pthread_t rx_thread, prod_thread;
};

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
	{ "require-lock", no_argument, SO_REQUIRE_LOCK, NULL, "wait until ptp4l is locked" },
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
		.session_name = "txpace relay", .timeout_ms = 5000,
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
		r->payload_len = (size_t)((r->in.ptime_ns * r->in.rate + NSEC_PER_SEC / 2) /
					  NSEC_PER_SEC) * r->bytes_per_frame;
	}
	r->in_fd = net_udp_listen(&r->in_addr, NULL, r->from_iface);
	if (r->in_fd < 0) {
		snprintf(err, errlen, "cannot receive %s: %s", r->from, strerror(-r->in_fd));
		return r->in_fd;
	}
	int on = 1;

	setsockopt(r->in_fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	return 0;
}

/* Receiver thread: input packets into the jitter buffer, the first one anchors the output. */
static void *rx_main(void *arg)
{
	struct relay *r = arg;
	uint8_t b[2048];
	struct sched_param sp = { .sched_priority = r->pace.prio > 1 ? (int)r->pace.prio - 1 : 0 };

	/* a packet stored after its slot's silence decision is lost: receive like the producer */
	if (sp.sched_priority > 0) {
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	while (!atomic_load(&r->stop)) {
		struct pollfd p = { r->in_fd, POLLIN, 0 };
		char ctrl[128];
		struct iovec iov = { b + 4, sizeof(b) - 4 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl,
				      .msg_controllen = sizeof(ctrl) };
		struct rtp_hdr h;
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
		if (rtp_parse(b + 4, (size_t)n, &h) || (r->in.pt < 128 && h.pt != r->in.pt) ||
		    h.payload_len == 0 || h.payload_len % r->bytes_per_frame ||
		    (r->payload_len && h.payload_len != r->payload_len)) {
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
		/* [RTP time][payload] */
		memmove(b + 4, b + 4 + h.payload_off, h.payload_len);
		b[0] = (uint8_t)(h.ts >> 24);
		b[1] = (uint8_t)(h.ts >> 16);
		b[2] = (uint8_t)(h.ts >> 8);
		b[3] = (uint8_t)h.ts;
		history_put(r->jb, h.seq, b, 4 + h.payload_len);
		atomic_fetch_add(&r->rx, 1);
		atomic_store(&r->latest, h.seq);
		atomic_store(&r->latest_ts, h.ts);
		if (!atomic_load(&r->anchored)) {
			r->payload_len = h.payload_len;
			r->seq_base = h.seq;
			r->ts_base = h.ts;
			atomic_store(&r->first_arrival, arrival);
			r->last_arrival = arrival;
			atomic_store(&r->next_needed, h.seq);
			atomic_store(&r->anchored, 1);
			continue;
		}
		/*
		 * Arrived after its slot was built and not used for it: late (the slot went out as
		 * silence). The producer marks a packet used before it moves past it, and we look
		 * after storing, so a packet is either used or late, never both, never neither.
		 */
		int64_t gap = arrival - r->last_arrival;
		int64_t half = (int64_t)(h.payload_len / r->bytes_per_frame) * NSEC_PER_SEC / r->in.rate / 2;

		r->last_arrival = arrival;
		if ((int16_t)(h.seq - (uint16_t)atomic_load(&r->next_needed)) < 0 &&
		    atomic_load(&r->used[h.seq % JB_DEPTH]) != (h.seq | 0x10000u)) {
			atomic_fetch_add(&r->rx_late, 1);
			if (gap >= half && ++r->late_run >= LATE_RESYNC) {
				atomic_store(&r->resync_req, 1);
				r->late_run = 0;
			}
		} else {
			r->late_run = 0;
		}
	}
	return NULL;
}

/* Producer: output packet k at its slot minus a small lead, from input seq_base + (k - k_base). */
static void *prod_main(void *arg)
{
	struct relay *r = arg;
	int64_t ptime = sched_ptime_ns(&r->sched);
	int64_t lead = r->link_offset_ns / 2 < 2 * NSEC_PER_MSEC ? r->link_offset_ns / 2 : 2 * NSEC_PER_MSEC;
	uint64_t limit = r->seconds_ns ? (uint64_t)(r->seconds_ns / ptime) : 0;
	uint8_t buf[2048];
	struct sched_param sp = { .sched_priority = r->pace.prio > 1 ? (int)r->pace.prio - 1 : 0 };

	/* the silence decision is time-critical: just below the pacer, where allowed */
	if (sp.sched_priority > 0) {
		pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	}
	for (uint64_t k = 0; !atomic_load(&r->stop) && (!limit || k < limit); k++) {
		int64_t decide = sched_launch(&r->sched, k) - lead;
		struct pkt *pk;
		uint16_t seq;
		uint32_t want_ts;
		int n;

		/*
		 * Build as soon as the input packet is here (a link offset ahead of its slot when
		 * the input is on time); only at the slot minus a small lead does it become silence.
		 */
		for (;;) {
			seq = (uint16_t)(r->seq_base + (k - r->k_base));
			if ((k >= r->k_base && history_get(r->jb, seq, buf, sizeof(buf)) > 0) ||
			    clock_ns(CLOCK_REALTIME) >= decide || atomic_load(&r->stop) ||
			    atomic_load(&r->resync_req)) {
				break;
			}
			int64_t wake = clock_ns(CLOCK_REALTIME) + 500 * NSEC_PER_USEC;
			struct timespec ts = ns_to_ts(wake < decide ? wake : decide);

			clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
		}
		if (atomic_exchange(&r->resync_req, 0)) {
			/* the input came back on a different timeline: map its newest packet to the
			 * first slot a link offset from now */
			uint64_t kt = sched_first_at(&r->sched, clock_ns(CLOCK_REALTIME) +
								    r->link_offset_ns);

			r->seq_base = (uint16_t)atomic_load(&r->latest);
			r->ts_base = atomic_load(&r->latest_ts);
			r->k_base = kt;
			atomic_fetch_add(&r->resyncs, 1);
		}
		seq = (uint16_t)(r->seq_base + (k - r->k_base));
		want_ts = r->ts_base + (uint32_t)((k - r->k_base) * r->sched.spp);
		while (!(pk = ring_produce_begin(r->ring)) && !atomic_load(&r->stop)) {
			struct timespec w = { 0, 100 * 1000 };

			nanosleep(&w, NULL);
		}
		if (!pk) {
			break;
		}
		n = k >= r->k_base ? history_get(r->jb, seq, buf, sizeof(buf)) : -ENOENT;
		rtp_write_hdr(pk->data, (uint8_t)r->po.pt, k == 0, (uint16_t)(r->d.seq0 + k),
			      r->d.ts0 + (uint32_t)(k * r->sched.spp), r->d.ssrc);
		if (n == (int)(4 + r->payload_len) &&
		    ((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3]) ==
			    want_ts) {
			memcpy(pk->data + RTP_HDR_LEN, buf + 4, r->payload_len);
			atomic_store(&r->used[seq % JB_DEPTH], seq | 0x10000u);
			atomic_fetch_add(&r->out_data, 1);
		} else {
			memset(pk->data + RTP_HDR_LEN, 0, r->payload_len);
			atomic_fetch_add(&r->out_silent, 1);
		}
		atomic_store(&r->next_needed, (uint16_t)(seq + 1));
		pk->len = (uint32_t)(RTP_HDR_LEN + r->payload_len);
		pk->k = k;
		pk->seq = (uint16_t)(r->d.seq0 + k);
		pk->launch_ns = sched_launch(&r->sched, k);
		pk->flags = 0;
		ring_produce_commit(r->ring);
		atomic_fetch_add(&r->built, 1);
	}
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
	json_uint(&j, "packets", atomic_load(&r->rx));
	json_uint(&j, "late", atomic_load(&r->rx_late));
	json_uint(&j, "invalid", atomic_load(&r->rx_invalid));
	json_uint(&j, "other_ssrc", atomic_load(&r->rx_other));
	json_end(&j, '}');
	json_obj(&j, "output");
	json_uint(&j, "packets", atomic_load(&r->built));
	json_uint(&j, "sent", atomic_load(&st->sent));
	json_uint(&j, "from_input", atomic_load(&r->out_data));
	json_uint(&j, "silent", atomic_load(&r->out_silent));
	json_uint(&j, "resyncs", atomic_load(&r->resyncs));
	json_uint(&j, "late", atomic_load(&st->late));
	json_str(&j, "departure_source", which);
	json_hist(&j, "departure_error_us", h);
	json_end(&j, '}');
	if (profile_aes67.report) {
		profile_aes67.report(r->prof, &j);
	}
	json_end(&j, '}');
	json_done(&j);
}

int cmd_relay(int argc, char **argv)
{
	struct relay r = { .in_fd = -1, .d.fd = -1, .d.clock = CLOCK_MONOTONIC };
	char err[512] = "";
	int rc, ret = EXIT_FAIL, rx_started = 0, prod_started = 0;

	rc = parse(&r, argc, argv);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	cli_signals();
	if (open_input(&r, err, sizeof(err))) {
		pr_err("%s", err);
		goto out;
	}
	r.jb = history_new(JB_DEPTH, 4 + 1500);
	r.clk = clocks_new();
	if (!r.jb || !r.clk) {
		pr_err("out of memory");
		goto out;
	}
	cli_block_signals(1);
	rc = pthread_create(&r.rx_thread, NULL, rx_main, &r);
	cli_block_signals(0);
	if (rc) {
		pr_err("cannot start the receiver: %s", strerror(rc));
		goto out;
	}
	rx_started = 1;
	/* the first input packet fixes the packet size and the anchor */
	while (!atomic_load(&r.anchored) && !cli_stop) {
		struct timespec w = { 0, 5 * 1000 * 1000 };

		nanosleep(&w, NULL);
	}
	if (!atomic_load(&r.anchored)) {
		ret = EXIT_OK;
		goto out;
	}
	r.po.rate = r.in.rate;
	r.po.channels = r.in.channels;
	r.po.bits = strcasecmp(r.in.encoding, "L16") ? 24 : 16;
	r.po.ptime_ns = (int64_t)(r.payload_len / r.bytes_per_frame) * NSEC_PER_SEC / r.in.rate;
	if (r.in.pt < 128) {
		r.po.pt = r.in.pt;
	}
	r.prof = profile_aes67.open(&r.po, &r.d, err, sizeof(err));
	if (!r.prof) {
		pr_err("%s", err);
		goto out;
	}
	r.d.spp = (uint32_t)(r.payload_len / r.bytes_per_frame);
	r.sched = (struct schedule){ .rate = r.in.rate, .spp = r.d.spp };
	r.ring = ring_new(64, RTP_HDR_LEN + r.payload_len);
	struct pacer_cfg pc = {
		.backend = "rt", .spin_ns = r.pace.spin_ns, .prio = (int)r.pace.prio,
		.cpu = (int)r.pace.cpu,
		.max_burst = 2, .late_ns = NSEC_PER_MSEC, .ptime_ns = sched_ptime_ns(&r.sched),
		.timestamps = 1, .clock = r.d.clock,
	};
	r.pacer = r.ring ? pacer_new(&pc, r.d.fd, r.ring, NULL, r.clk) : NULL;
	if (!r.pacer) {
		pr_err("cannot create the pacer: %s", strerror(errno));
		goto out;
	}
	cli_block_signals(1);
	rc = pacer_start(r.pacer);
	cli_block_signals(0);
	if (rc) {
		pr_err("cannot start the pacer: %s", strerror(-rc));
		goto out_pacer;
	}
	/* output packet 0 (the first input packet) leaves a link offset after it arrived */
	rc = profile_aes67.start(r.prof, &r.sched, atomic_load(&r.first_arrival) + r.link_offset_ns,
				 err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		goto out_pacer;
	}
	cli_block_signals(1);
	rc = pthread_create(&r.prod_thread, NULL, prod_main, &r);
	cli_block_signals(0);
	if (rc) {
		pr_err("cannot start: %s", strerror(rc));
		goto out_pacer;
	}
	prod_started = 1;
	while (!pacer_done(r.pacer)) {
		struct timespec w = { 0, 100 * 1000 * 1000 };
		int64_t next;

		nanosleep(&w, NULL);
		profile_aes67.service(r.prof, &r.sched, clock_ns(CLOCK_REALTIME), &next, err,
				      sizeof(err));
		if (cli_stop) {
			atomic_store(&r.stop, 1);
		}
	}
	atomic_store(&r.stop, 1);
	pthread_join(r.prod_thread, NULL);
	prod_started = 0;
	pacer_join(r.pacer);
	profile_aes67.finish(r.prof, &r.sched, 0, 0, err, sizeof(err));
	if (!r.quiet) {
		printf("relayed %" PRIu64 " packets: %" PRIu64 " from the input, %" PRIu64
		       " silent (input missing or late: %" PRIu64 " late), %" PRIu64 " resyncs\n",
		       atomic_load(&r.built), atomic_load(&r.out_data), atomic_load(&r.out_silent),
		       atomic_load(&r.rx_late), atomic_load(&r.resyncs));
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
	ring_close(r.ring);
	pacer_abort(r.pacer);
	pacer_join(r.pacer);
out:
	atomic_store(&r.stop, 1);
	if (prod_started) {
		pthread_join(r.prod_thread, NULL);
	}
	if (rx_started) {
		pthread_join(r.rx_thread, NULL);
	}
	pacer_free(r.pacer);
	if (r.prof) {
		profile_aes67.close(r.prof);
	}
	ring_free(r.ring);
	history_free(r.jb);
	clocks_free(r.clk);
	if (r.in_fd >= 0) {
		close(r.in_fd);
	}
	if (r.d.fd >= 0) {
		close(r.d.fd);
	}
	return ret;
}
