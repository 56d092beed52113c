// SPDX-License-Identifier: GPL-2.0-only
/* `txpace send`: source -> packetizer -> SPSC ring -> pacer -> UDP, with status and report. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "txpace/cli.h"
#include "txpace/clock.h"
#include "txpace/cmd.h"
#include "txpace/history.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/net.h"
#include "txpace/pacer.h"
#include "txpace/ring.h"
#include "txpace/rtp.h"
#include "txpace/sched.h"
#include "txpace/sdp.h"
#include "txpace/source.h"

#define UDP_MAX_PAYLOAD 65507

struct send_opts {
	const char *profile, *dest_s, *source_s, *input_format, *sdp_path, *report_path, *iface;
	unsigned bits;
	long rate, channels, ttl, dscp, pt, prio, cpu, max_burst;
	int64_t ptime_ns, spin_ns, late_ns, lookahead_ns, start_delay_ns, seconds_ns;
	double start_at;	/* CLOCK_REALTIME seconds, 0 = now + start delay */
	uint32_t ssrc;
	int have_ssrc, quiet, timestamps;
	const char *backend;
};

struct send_ctx {
	struct send_opts o;
	struct net_addr dest;
	struct source *src;
	struct ring *ring;
	struct history *hist;
	struct clocks *clk;
	struct pacer *pacer;
	struct schedule sched;
	int fd;
	uint16_t seq0;
	uint64_t limit;		/* packets, 0 = until the source ends */
	int64_t total_pkts;	/* -1 unknown */
	_Atomic uint64_t built;
	_Atomic int producer_done, stop;
	int producer_rc;
	int interrupted;
	int64_t t_begin;
	pthread_t producer;
};

enum {
	O_FORMAT = 256, O_RATE, O_CHANNELS, O_PTIME, O_IFACE, O_TTL, O_DSCP, O_PT, O_SSRC, O_SDP,
	O_INFMT, O_SECONDS, O_REPORT, O_BACKEND, O_SPIN, O_PRIO, O_CPU, O_MAXBURST, O_LATE,
	O_LOOKAHEAD, O_START_AT, O_NO_STAMPS, O_PROFILE,
};

static const struct cli_opt send_opts[] = {
	{ "profile", required_argument, O_PROFILE, "NAME", "stream profile: rtp (default)" },
	{ "format", required_argument, O_FORMAT, "L16|L24", "sample format (default L24)" },
	{ "rate", required_argument, O_RATE, "HZ", "sample rate 8000..192000 (default 48000)" },
	{ "channels", required_argument, O_CHANNELS, "N", "channels 1..8 (default 2)" },
	{ "ptime", required_argument, O_PTIME, "T", "packet time 125us..20ms (default 1ms; bare number = ms)" },
	{ "iface", required_argument, O_IFACE, "IF", "egress interface (multicast), or bind to it" },
	{ "ttl", required_argument, O_TTL, "N", "multicast TTL / hop limit 1..255 (default 1)" },
	{ "dscp", required_argument, O_DSCP, "N", "DSCP 0..63 (default 34, AF41)" },
	{ "pt", required_argument, O_PT, "N", "RTP payload type 0..127 (default 96)" },
	{ "ssrc", required_argument, O_SSRC, "N", "RTP SSRC (default random)" },
	{ "sdp", required_argument, O_SDP, "FILE", "write the stream's SDP to FILE" },
	{ "input-format", required_argument, O_INFMT, "F:RATE:CH", "raw PCM on stdin: s16le|s24le|s32le|f32le, e.g. s16le:48000:2" },
	{ "seconds", required_argument, O_SECONDS, "N", "stop after N seconds of audio (default: whole source)" },
	{ "report", required_argument, O_REPORT, "FILE", "write a JSON report to FILE" },
	{ "backend", required_argument, O_BACKEND, "NAME", "pacing backend: auto (default) = rt; sleep = baseline for comparison" },
	{ "spin", required_argument, O_SPIN, "US", "rt: spin the last US before each deadline, 0 = off (default 200)" },
	{ "prio", required_argument, O_PRIO, "N", "rt: SCHED_FIFO priority 1..99, 0 = normal (default 80)" },
	{ "cpu", required_argument, O_CPU, "N", "rt: pin the pacer thread to CPU N (default: not pinned)" },
	{ "max-burst", required_argument, O_MAXBURST, "N", "catching up, at most N packets per packet time 1..256 (default 4)" },
	{ "late", required_argument, O_LATE, "US", "count a packet late beyond launch + US (default 1000)" },
	{ "lookahead", required_argument, O_LOOKAHEAD, "MS", "packets built ahead of time 5..2000 ms (default 100)" },
	{ "start-at", required_argument, O_START_AT, "SECS", "launch the first packet at this CLOCK_REALTIME time (epoch seconds)" },
	{ "no-stamps", no_argument, O_NO_STAMPS, NULL, "do not ask the kernel for departure stamps" },
	{ "quiet", no_argument, 'q', NULL, "no status line or summary" },
	{ "verbose", no_argument, 'v', NULL, "more messages" },
	{ "help", no_argument, 'h', NULL, "this help" },
	{ 0 },
};

static int parse_opts(struct send_opts *o, int argc, char **argv)
{
	struct cli c;
	long v;
	int k;

	*o = (struct send_opts){
		.profile = "rtp", .bits = 24, .rate = 48000, .channels = 2, .ttl = 1, .dscp = 34,
		.pt = 96, .prio = 80, .cpu = -1, .max_burst = 4, .ptime_ns = NSEC_PER_MSEC,
		.spin_ns = 200 * NSEC_PER_USEC, .late_ns = 1000 * NSEC_PER_USEC,
		.lookahead_ns = 100 * NSEC_PER_MSEC, .start_delay_ns = 50 * NSEC_PER_MSEC,
		.backend = "auto", .timestamps = 1,
	};
	cli_init(&c, "send", "[options] DEST[:PORT] SOURCE\n\n"
			     "  DEST      unicast or multicast IPv4/IPv6 address, port 5004 by default\n"
			     "  SOURCE    a file FFmpeg reads, '-' for raw PCM on stdin, tone:HZ, sweep, ramp",
		 send_opts);
	while ((k = cli_next(&c, argc, argv)) != -1) {
		switch (k) {
		case O_PROFILE:
			o->profile = optarg;
			if (strcmp(optarg, "rtp")) {
				cli_usage_error(&c, "--profile: '%s' is not available (rtp)", optarg);
				return -EINVAL;
			}
			break;
		case O_FORMAT:
			if (!strcasecmp(optarg, "L16")) {
				o->bits = 16;
			} else if (!strcasecmp(optarg, "L24")) {
				o->bits = 24;
			} else {
				cli_usage_error(&c, "--format: '%s' is not L16 or L24", optarg);
				return -EINVAL;
			}
			break;
		case O_RATE:
			if (cli_long(&c, "rate", optarg, 8000, 192000, &o->rate)) {
				return -EINVAL;
			}
			break;
		case O_CHANNELS:
			if (cli_long(&c, "channels", optarg, 1, 8, &o->channels)) {
				return -EINVAL;
			}
			break;
		case O_PTIME:
			if (cli_duration(&c, "ptime", optarg, NSEC_PER_MSEC, 125 * NSEC_PER_USEC,
					 20 * NSEC_PER_MSEC, &o->ptime_ns)) {
				return -EINVAL;
			}
			break;
		case O_IFACE:
			o->iface = optarg;
			break;
		case O_TTL:
			if (cli_long(&c, "ttl", optarg, 1, 255, &o->ttl)) {
				return -EINVAL;
			}
			break;
		case O_DSCP:
			if (cli_long(&c, "dscp", optarg, 0, 63, &o->dscp)) {
				return -EINVAL;
			}
			break;
		case O_PT:
			if (cli_long(&c, "pt", optarg, 0, 127, &o->pt)) {
				return -EINVAL;
			}
			break;
		case O_SSRC:
			if (cli_long(&c, "ssrc", optarg, 0, 0xffffffffL, &v)) {
				return -EINVAL;
			}
			o->ssrc = (uint32_t)v;
			o->have_ssrc = 1;
			break;
		case O_SDP:
			o->sdp_path = optarg;
			break;
		case O_INFMT:
			o->input_format = optarg;
			break;
		case O_SECONDS:
			if (cli_duration(&c, "seconds", optarg, NSEC_PER_SEC, NSEC_PER_MSEC,
					 (int64_t)30 * 24 * 3600 * NSEC_PER_SEC, &o->seconds_ns)) {
				return -EINVAL;
			}
			break;
		case O_REPORT:
			o->report_path = optarg;
			break;
		case O_BACKEND:
			if (strcmp(optarg, "auto") && !pacer_backend_find(optarg)) {
				cli_usage_error(&c, "--backend: '%s' is not auto, rt or sleep (edt and etf "
						    "are not built yet)", optarg);
				return -EINVAL;
			}
			o->backend = optarg;
			break;
		case O_SPIN:
			if (cli_duration(&c, "spin", optarg, NSEC_PER_USEC, 0, 20 * NSEC_PER_MSEC,
					 &o->spin_ns)) {
				return -EINVAL;
			}
			break;
		case O_PRIO:
			if (cli_long(&c, "prio", optarg, 0, 99, &o->prio)) {
				return -EINVAL;
			}
			break;
		case O_CPU:
			if (cli_long(&c, "cpu", optarg, 0, 4095, &o->cpu)) {
				return -EINVAL;
			}
			break;
		case O_MAXBURST:
			if (cli_long(&c, "max-burst", optarg, 1, 256, &o->max_burst)) {
				return -EINVAL;
			}
			break;
		case O_LATE:
			if (cli_duration(&c, "late", optarg, NSEC_PER_USEC, 1000, 10 * NSEC_PER_SEC,
					 &o->late_ns)) {
				return -EINVAL;
			}
			break;
		case O_LOOKAHEAD:
			if (cli_duration(&c, "lookahead", optarg, NSEC_PER_MSEC, 5 * NSEC_PER_MSEC,
					 2 * NSEC_PER_SEC, &o->lookahead_ns)) {
				return -EINVAL;
			}
			break;
		case O_START_AT: {
			char *e;

			o->start_at = strtod(optarg, &e);
			if (*e || !(o->start_at > 0)) {
				cli_usage_error(&c, "--start-at: '%s' is not epoch seconds", optarg);
				return -EINVAL;
			}
			break;
		}
		case O_NO_STAMPS:
			o->timestamps = 0;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'h':
			cli_help(&c, stdout);
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (argc - optind != 2) {
		cli_usage_error(&c, "needs DEST and SOURCE");
		return -EINVAL;
	}
	o->dest_s = argv[optind];
	o->source_s = argv[optind + 1];
	if (!strcmp(o->source_s, "-") && !o->input_format) {
		cli_usage_error(&c, "SOURCE '-' needs --input-format, e.g. s16le:48000:2");
		return -EINVAL;
	}
	if (!strcmp(o->backend, "auto")) {
		o->backend = "rt";
	}
	return 0;
}

/* Build packets into the ring ahead of their launch times; block (sleep) while it is full. */
static void *producer_main(void *arg)
{
	struct send_ctx *s = arg;
	uint32_t spp = s->sched.spp, ch = (uint32_t)s->o.channels;
	int64_t ptime = sched_ptime_ns(&s->sched);
	size_t cap = ring_capacity(s->ring), batch = cap / 4;
	int32_t *pcm = calloc((size_t)spp * ch, sizeof(int32_t));
	uint64_t k;

	if (!pcm) {
		s->producer_rc = -ENOMEM;
		goto out;
	}
	for (k = 0; !atomic_load(&s->stop); k++) {
		struct pkt *pk;
		long n;

		if (s->limit && k >= s->limit) {
			break;
		}
		n = source_read(s->src, pcm, spp);
		if (n < 0) {
			s->producer_rc = (int)n;
			break;
		}
		if (n == 0) {
			break;
		}
		if ((uint32_t)n < spp) {
			/* the last packet is padded with silence: every source sample is sent */
			memset(pcm + (size_t)n * ch, 0, (size_t)(spp - (uint32_t)n) * ch * sizeof(int32_t));
		}
		while (!(pk = ring_produce_begin(s->ring))) {
			struct timespec ts;

			if (atomic_load(&s->stop)) {
				goto out;
			}
			/*
			 * Full: sleep until a quarter of the ring has left, and wake half a packet
			 * time after a launch, when the pacer is asleep; waking with it would add
			 * our timer to the interrupt that wakes the pacer.
			 */
			ts = ns_to_ts(k >= cap ? sched_launch(&s->sched, k - cap + batch) + ptime / 2
					       : mono_ns());
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
			if (!ring_produce_begin(s->ring)) {
				ts = ns_to_ts(ptime / 4);
				nanosleep(&ts, NULL);
			}
		}
		rtp_write_hdr(pk->data, (uint8_t)s->o.pt, k == 0, (uint16_t)(s->seq0 + k),
			      sched_rtp_ts(&s->sched, k), s->o.ssrc);
		pk->len = RTP_HDR_LEN + (uint32_t)pcm_pack_be(pk->data + RTP_HDR_LEN, pcm,
							      (size_t)spp * ch, s->o.bits);
		pk->k = k;
		pk->launch_ns = sched_launch(&s->sched, k);
		pk->flags = (uint32_t)n < spp ? PKT_F_LAST : 0;
		ring_produce_commit(s->ring);
		atomic_fetch_add(&s->built, 1);
		if ((uint32_t)n < spp) {
			break;
		}
	}
out:
	free(pcm);
	ring_close(s->ring);
	atomic_store(&s->producer_done, 1);
	return NULL;
}

static void fmt_us(char *b, size_t n, uint64_t ns)
{
	if (ns >= 10 * NSEC_PER_MSEC) {
		snprintf(b, n, "%.1f ms", (double)ns / 1e6);
	} else {
		snprintf(b, n, "%.1f us", (double)ns / 1e3);
	}
}

static void status_line(struct send_ctx *s, int final)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	const char *which;
	const struct hist *h = pacer_departure(s->pacer, &which);
	double el = (double)(mono_ns() - s->sched.start_ns) / 1e9;
	char p99[32], tot[32] = "";

	if (el < 0) {
		el = 0;
	}
	fmt_us(p99, sizeof(p99), hist_quantile(h, 0.99));
	if (s->total_pkts > 0) {
		snprintf(tot, sizeof(tot), "/%.1f", (double)s->total_pkts * s->sched.spp / s->sched.rate);
	}
	fprintf(stderr, "\r%7.1f%s s  packets %" PRIu64 "  late %" PRIu64 "  p99 %s %s\033[K%s",
		el, tot, atomic_load(&st->sent), atomic_load(&st->late), p99, which,
		final ? "\n" : "");
}

static void put_hist(struct json *j, const char *key, const struct hist *h)
{
	json_obj(j, key);
	json_uint(j, "count", hist_count(h));
	json_num(j, "p50", (double)hist_quantile(h, 0.5) / 1e3);
	json_num(j, "p99", (double)hist_quantile(h, 0.99) / 1e3);
	json_num(j, "p999", (double)hist_quantile(h, 0.999) / 1e3);
	json_num(j, "max", (double)hist_max(h) / 1e3);
	json_end(j, '}');
}

static int complete(struct send_ctx *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);

	return s->producer_rc == 0 && atomic_load(&st->sent) == atomic_load(&s->built) &&
	       atomic_load(&st->send_errors) == 0 && atomic_load(&st->icmp_errors) == 0 &&
	       source_decode_errors(s->src) == 0;
}

static int write_report(struct send_ctx *s, const char *path)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	const char *which;
	const struct hist *h = pacer_departure(s->pacer, &which);
	char dst[80];
	struct json j;
	FILE *f = fopen(path, "w");

	if (!f) {
		pr_err("cannot write report %s: %s", path, strerror(errno));
		return -errno;
	}
	json_init(&j, f);
	json_obj(&j, NULL);
	json_str(&j, "profile", s->o.profile);
	json_str(&j, "backend", s->o.backend);
	json_str(&j, "dest", net_fmt(&s->dest, dst, sizeof(dst)));
	json_str(&j, "source", source_describe(s->src));
	json_str(&j, "format", s->o.bits == 16 ? "L16" : "L24");
	json_uint(&j, "rate", s->sched.rate);
	json_uint(&j, "channels", (uint64_t)s->o.channels);
	json_uint(&j, "samples_per_packet", s->sched.spp);
	json_num(&j, "ptime_us", (double)sched_ptime_ns(&s->sched) / 1e3);
	json_obj(&j, "rtp");
	json_uint(&j, "pt", (uint64_t)s->o.pt);
	json_uint(&j, "ssrc", s->o.ssrc);
	json_uint(&j, "seq0", s->seq0);
	json_uint(&j, "ts0", s->sched.ts0);
	json_end(&j, '}');
	json_uint(&j, "packets", atomic_load(&s->built));
	json_uint(&j, "sent", atomic_load(&st->sent));
	json_uint(&j, "late", atomic_load(&st->late));
	json_num(&j, "late_threshold_us", (double)s->o.late_ns / 1e3);
	json_uint(&j, "send_errors", atomic_load(&st->send_errors));
	json_uint(&j, "icmp_errors", atomic_load(&st->icmp_errors));
	json_uint(&j, "refused", atomic_load(&st->refused));
	json_uint(&j, "underruns", atomic_load(&st->underruns));
	json_uint(&j, "burst_limited", atomic_load(&st->burst_limited));
	json_uint(&j, "decode_errors", source_decode_errors(s->src));
	json_bool(&j, "interrupted", s->interrupted);
	json_bool(&j, "complete", complete(s));
	json_obj(&j, "realtime");
	json_bool(&j, "sched_fifo", atomic_load(&st->fifo));
	json_int(&j, "prio", s->o.prio);
	json_bool(&j, "mlock", atomic_load(&st->mlocked));
	json_int(&j, "cpu", atomic_load(&st->pinned) ? s->o.cpu : -1);
	json_num(&j, "spin_us", (double)s->o.spin_ns / 1e3);
	json_end(&j, '}');
	json_str(&j, "departure_source", which);
	put_hist(&j, "departure_error_us", h);
	json_obj(&j, "stamps_us");
	put_hist(&j, "user", &st->dep_user);
	put_hist(&j, "sched", &st->dep_sched);
	put_hist(&j, "snd", &st->dep_snd);
	json_end(&j, '}');
	json_uint(&j, "early", atomic_load(&st->early));
	json_num(&j, "duration_s", (double)(mono_ns() - s->t_begin) / 1e9);
	json_end(&j, '}');
	json_done(&j);
	if (fclose(f)) {
		return -errno;
	}
	return 0;
}

static void summary(struct send_ctx *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	const char *which;
	const struct hist *h = pacer_departure(s->pacer, &which);
	char a[32], b[32], c[32], d[32];

	fmt_us(a, sizeof(a), hist_quantile(h, 0.5));
	fmt_us(b, sizeof(b), hist_quantile(h, 0.99));
	fmt_us(c, sizeof(c), hist_quantile(h, 0.999));
	fmt_us(d, sizeof(d), hist_max(h));
	printf("sent %" PRIu64 " of %" PRIu64 " packets (%u samples each, backend %s%s), late %" PRIu64
	       " (> %.0f us), send errors %" PRIu64 ", underruns %" PRIu64 "\n",
	       atomic_load(&st->sent), atomic_load(&s->built), s->sched.spp, s->o.backend,
	       atomic_load(&st->fifo) ? ", SCHED_FIFO" : "", atomic_load(&st->late),
	       (double)s->o.late_ns / 1e3, atomic_load(&st->send_errors),
	       atomic_load(&st->underruns));
	printf("departure error (%s stamp - launch): p50 %s  p99 %s  p99.9 %s  max %s\n",
	       which, a, b, c, d);
}

static int setup(struct send_ctx *s, char *err, size_t errlen)
{
	struct source_fmt sf = { (uint32_t)s->o.rate, (uint32_t)s->o.channels, s->o.bits };
	struct net_tx_opts to = { s->o.iface, (int)s->o.ttl, (int)s->o.dscp, -1 };
	uint32_t spp, ts0;
	uint16_t seq0;
	char dst[80];
	int rc;

	rc = net_parse(s->o.dest_s, 5004, &s->dest);
	if (rc) {
		snprintf(err, errlen, "%s: %s", s->o.dest_s,
			 rc == -ENOENT ? "unknown host" : "not HOST[:PORT] or [IPV6]:PORT");
		return rc;
	}
	rc = sched_init(&s->sched, (uint32_t)s->o.rate, s->o.ptime_ns, 0, 0, &spp);
	if (rc < 0) {
		snprintf(err, errlen, "invalid packet time");
		return rc;
	}
	if (rc == 1) {
		pr_info("packet time %.3f us is not a whole number of samples at %ld Hz: using %u "
			"samples (%.3f us)", (double)s->o.ptime_ns / 1e3, s->o.rate, spp,
			(double)spp * 1e6 / (double)s->o.rate);
	}
	size_t plen = RTP_HDR_LEN + (size_t)spp * (size_t)s->o.channels * (s->o.bits / 8);

	if (plen > UDP_MAX_PAYLOAD) {
		snprintf(err, errlen, "a packet would be %zu bytes, more than UDP carries: shorten "
			 "--ptime or use fewer channels", plen);
		return -EMSGSIZE;
	}
	s->src = source_open(s->o.source_s, s->o.input_format, &sf, err, errlen);
	if (!s->src) {
		return -errno;
	}
	s->fd = net_udp_connect(&s->dest, &to);
	if (s->fd < 0) {
		rc = s->fd;
		snprintf(err, errlen, "cannot send to %s: %s%s", net_fmt(&s->dest, dst, sizeof(dst)),
			 strerror(-rc), rc == -ENETUNREACH && net_is_multicast(&s->dest) && !s->o.iface
			 ? " (give --iface for multicast)" : rc == -ENODEV ? " (--iface)" : "");
		return rc;
	}
	{
		int mtu = 0;
		socklen_t ml = sizeof(mtu);
		int lvl = s->dest.ss.ss_family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
		int opt = s->dest.ss.ss_family == AF_INET ? IP_MTU : IPV6_MTU;
		size_t ip = s->dest.ss.ss_family == AF_INET ? 28 : 48;

		if (!getsockopt(s->fd, lvl, opt, &mtu, &ml) && mtu > 0 && plen + ip > (size_t)mtu) {
			pr_warn("packets of %zu bytes exceed the path MTU %d: they will be fragmented",
				plen + ip, mtu);
		}
	}
	if (getrandom(&seq0, sizeof(seq0), 0) != sizeof(seq0) ||
	    getrandom(&ts0, sizeof(ts0), 0) != sizeof(ts0) ||
	    (!s->o.have_ssrc && getrandom(&s->o.ssrc, 4, 0) != 4)) {
		snprintf(err, errlen, "no random numbers: %s", strerror(errno));
		return -errno;
	}
	s->seq0 = seq0;
	s->sched.ts0 = ts0;
	s->clk = clocks_new();
	size_t nslots = (size_t)(s->o.lookahead_ns / sched_ptime_ns(&s->sched)) + 1;

	s->ring = ring_new(nslots < 8 ? 8 : nslots, plen);
	/* two seconds of history for retransmits (RAOP asks for >= 2 s) */
	s->hist = history_new((size_t)(2 * NSEC_PER_SEC / sched_ptime_ns(&s->sched)) + 1, plen);
	if (!s->clk || !s->ring || !s->hist) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (s->o.seconds_ns) {
		s->limit = (uint64_t)((unsigned __int128)s->o.seconds_ns * s->sched.rate /
				      NSEC_PER_SEC / spp);
		if (s->limit == 0) {
			s->limit = 1;
		}
	}
	int64_t tf = source_total_frames(s->src);

	s->total_pkts = tf > 0 ? (tf + spp - 1) / spp : -1;
	if (s->limit && (s->total_pkts < 0 || (uint64_t)s->total_pkts > s->limit)) {
		s->total_pkts = (int64_t)s->limit;
	}
	if (s->o.sdp_path) {
		struct sdp_stream d = {
			.name = "txpace", .dest = s->dest, .ttl = (int)s->o.ttl, .pt = (uint8_t)s->o.pt,
			.encoding = s->o.bits == 16 ? "L16" : "L24", .rate = s->sched.rate,
			.channels = (uint32_t)s->o.channels, .ptime_ns = sched_ptime_ns(&s->sched),
			.session_id = (uint64_t)clock_ns(CLOCK_REALTIME) / NSEC_PER_SEC,
		};
		char buf[2048];
		FILE *f;
		int n;

		d.origin.len = sizeof(d.origin.ss);
		getsockname(s->fd, (struct sockaddr *)&d.origin.ss, &d.origin.len);
		n = sdp_format(&d, buf, sizeof(buf));
		f = fopen(s->o.sdp_path, "w");
		if (n < 0 || !f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
			snprintf(err, errlen, "cannot write SDP %s: %s", s->o.sdp_path, strerror(errno));
			return -EIO;
		}
	}
	return 0;
}

static void teardown(struct send_ctx *s)
{
	pacer_free(s->pacer);
	history_free(s->hist);
	ring_free(s->ring);
	clocks_free(s->clk);
	source_free(s->src);
	if (s->fd >= 0) {
		close(s->fd);
	}
}

int cmd_send(int argc, char **argv)
{
	struct send_ctx s = { .fd = -1 };
	char err[512] = "";
	int rc, tty = isatty(STDERR_FILENO), ret = EXIT_FAIL;

	rc = parse_opts(&s.o, argc, argv);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	cli_signals();
	s.t_begin = mono_ns();
	rc = setup(&s, err, sizeof(err));
	if (rc) {
		pr_err("%s", err[0] ? err : strerror(-rc));
		goto out;
	}
	struct pacer_cfg pc = {
		.backend = s.o.backend, .spin_ns = s.o.spin_ns, .prio = (int)s.o.prio,
		.cpu = (int)s.o.cpu, .max_burst = (unsigned)s.o.max_burst, .late_ns = s.o.late_ns,
		.ptime_ns = sched_ptime_ns(&s.sched), .timestamps = s.o.timestamps,
	};

	s.pacer = pacer_new(&pc, s.fd, s.ring, s.hist, s.clk);
	if (!s.pacer) {
		pr_err("cannot create pacer: %s", strerror(errno));
		goto out;
	}
	/* workers never see the stop signals: the main thread handles them */
	cli_block_signals(1);
	rc = pacer_start(s.pacer);
	if (!rc) {
		/* the schedule starts after the pacer is set up, so setup never makes packets late */
		if (s.o.start_at > 0) {
			s.sched.start_ns = clocks_to_mono(s.clk, CLOCK_REALTIME,
							  (int64_t)(s.o.start_at * 1e9));
			if (s.sched.start_ns < mono_ns() + 10 * NSEC_PER_MSEC) {
				pr_err("--start-at is in the past or too close (%.3f s from now)",
				       (double)(s.sched.start_ns - mono_ns()) / 1e9);
				rc = -ESRCH;
			}
		} else {
			s.sched.start_ns = mono_ns() + s.o.start_delay_ns;
		}
		if (!rc) {
			rc = -pthread_create(&s.producer, NULL, producer_main, &s);
		}
	}
	cli_block_signals(0);
	if (rc) {
		if (rc != -ESRCH) {
			pr_err("cannot start: %s", strerror(-rc));
		}
		/* the pacer waits for a ring that never fills: close it */
		ring_close(s.ring);
		pacer_join(s.pacer);
		goto out;
	}
	while (!pacer_done(s.pacer)) {
		struct timespec ts = { 0, 250 * 1000 * 1000 };
		int64_t step;

		nanosleep(&ts, NULL);
		step = clocks_track(s.clk);
		if (step > NSEC_PER_MSEC) {
			pr_warn("a system clock stepped by %.3f ms", (double)step / 1e6);
		}
		if (cli_stop && !s.interrupted) {
			s.interrupted = 1;
			atomic_store(&s.stop, 1);
			pacer_finish(s.pacer);
		}
		if (tty && !s.o.quiet) {
			status_line(&s, 0);
		}
	}
	pthread_join(s.producer, NULL);
	rc = pacer_join(s.pacer);
	if (tty && !s.o.quiet) {
		status_line(&s, 1);
	}
	if (s.producer_rc) {
		pr_err("source %s failed: %s", s.o.source_s, strerror(-s.producer_rc));
	}
	if (!s.o.quiet) {
		summary(&s);
	}
	struct pacer_stats *st = pacer_stats(s.pacer);

	if (atomic_load(&st->send_errors) || atomic_load(&st->icmp_errors)) {
		char dst[80];
		struct rtp_hdr a = { 0 }, b = { 0 };

		/* the bounced datagrams carry our RTP header: say which packets the receiver lost */
		rtp_parse(st->first_bounce, sizeof(st->first_bounce), &a);
		rtp_parse(st->last_bounce, sizeof(st->last_bounce), &b);
		pr_err("%s: %" PRIu64 " of %" PRIu64 " packets came back as errors (%s; RTP seq %u..%u)"
		       ", %" PRIu64 " could not be sent",
		       net_fmt(&s.dest, dst, sizeof(dst)), atomic_load(&st->icmp_errors),
		       atomic_load(&s.built), strerror(atomic_load(&st->last_error)), a.seq, b.seq,
		       atomic_load(&st->send_errors));
	}
	if (source_decode_errors(s.src)) {
		pr_err("%" PRIu64 " undecodable packets in %s: their samples are missing",
		       source_decode_errors(s.src), s.o.source_s);
	}
	if (s.o.report_path && write_report(&s, s.o.report_path)) {
		goto out;
	}
	ret = complete(&s) ? EXIT_OK : EXIT_FAIL;
out:
	teardown(&s);
	return ret;
}
