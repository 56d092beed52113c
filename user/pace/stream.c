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
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "txpace/clock.h"
#include "cmd.h"
#include "txpace/history.h"
#include "txpace/json.h"
#include "txpace/log.h"
#include "txpace/net.h"
#include "txpace/pacer.h"
#include "txpace/kpace.h"
#include "txpace/probe.h"
#include "txpace/profile.h"
#include "txpace/ring.h"
#include "txpace/rtp.h"
#include "txpace/sched.h"
#include "txpace/sdp.h"
#include "txpace/source.h"
#include "stream_opts.h"

#define UDP_MAX_PAYLOAD 65507

struct send_opts {
	struct profile_opts p;
	const struct profile_ops *profile;
	const char *source_s, *input_format, *report_path, *backend;
	struct pace_opts pace;
	long max_burst;
	int64_t late_ns, lookahead_ns, start_delay_ns, seconds_ns;
	double start_at;	/* CLOCK_REALTIME seconds, 0 = now + start delay */
	int quiet, timestamps;
	/* kernel pacing */
	const char *stamp;	/* edt: "bpf" (default where cls_bpf works) or "txtime" */
	int64_t lead_ns, grace_ns, fq_horizon_ns, etf_delta_ns;
	int watch, keep_powersave;
	char auto_reason[256];
};

struct send_ctx {
	struct send_opts o;
	struct stream_desc d;
	void *prof;
	struct source *src;
	struct ring *ring;
	struct clocks *clk;
	struct pacer *pacer;
	struct kpace *kp;
	struct schedule sched;
	uint64_t limit;		/* packets, 0 = until the source ends */
	int64_t total_pkts;	/* -1 unknown */
	_Atomic uint64_t built;
	_Atomic int producer_done, stop;
	int producer_rc, profile_rc;
	int interrupted;
	int64_t t_begin;
	pthread_t producer;
	char perr[256];		/* the profile's reason when it lost the receiver */
	/* pause and seek from the keyboard: main <-> producer hand-off */
	_Atomic int ctl;
	uint64_t pause_k;	/* producer -> main, published by CTL_PAUSED */
	int64_t seek_frames;	/* main -> producer, published by CTL_RESUME */
	int flushed, flush_sent, auto_resume, keys;
	struct termios tio;
};

enum { CTL_RUN, CTL_PAUSE_REQ, CTL_PAUSED, CTL_RESUME };

enum {
	O_PT = 256, O_SSRC, O_SDP, O_INFMT, O_SECONDS, O_REPORT, O_BACKEND, O_MAXBURST, O_LATE,
	O_LOOKAHEAD, O_START_AT, O_NO_STAMPS, O_PROFILE, O_TO, O_VOLUME, O_LATENCY, O_ENCRYPT,
	O_ALAC, O_TIMEOUT, O_MEDIACLK, O_KEEPALIVE, O_STAMP, O_LEAD, O_WATCH, O_GRACE, O_FQ_HORIZON,
	O_KEEP_PS, O_ETF_DELTA,
};

static const struct cli_opt send_opts[] = {
	{ "profile", required_argument, O_PROFILE, "NAME", "rtp (default), aes67, or raop (AirPlay 1)" },
	{ "format", required_argument, SO_FORMAT, "L16|L24", "rtp: sample format (default L24)" },
	{ "rate", required_argument, SO_RATE, "HZ", "rtp: sample rate 8000..192000 (default 48000)" },
	{ "channels", required_argument, SO_CHANNELS, "N", "rtp: channels 1..8 (default 2)" },
	{ "ptime", required_argument, SO_PTIME, "T", "rtp: packet time 125us..20ms (default 1ms; bare number = ms)" },
	{ "iface", required_argument, SO_IFACE, "IF", "egress interface (multicast), or bind to it" },
	{ "ttl", required_argument, SO_TTL, "N", "multicast TTL / hop limit 1..255 (default 1)" },
	{ "dscp", required_argument, SO_DSCP, "N|aes67|dante", "DSCP 0..63; aes67 = 34 (AF41, the default), dante = 46 (EF)" },
	{ "pt", required_argument, O_PT, "N", "rtp: RTP payload type 0..127 (default 96)" },
	{ "ssrc", required_argument, O_SSRC, "N", "RTP SSRC (default random)" },
	{ "sdp", required_argument, O_SDP, "FILE", "rtp, aes67: write the stream's SDP to FILE" },
	{ "ptp-socket", required_argument, SO_PTP_SOCKET, "PATH", "aes67: ptp4l's management socket (default /var/run/ptp4l)" },
	{ "ptp-domain", required_argument, SO_PTP_DOMAIN, "N", "aes67: PTP domain 0..127 of ptp4l and the SDP (default 0; Livewire: 1)" },
	{ "require-lock", no_argument, SO_REQUIRE_LOCK, NULL, "aes67: wait until ptp4l is locked (else: a warning)" },
	{ "lock-timeout", required_argument, SO_LOCK_TIMEOUT, "S", "aes67: give up waiting for the lock after S seconds (default 60)" },
	{ "mediaclk-offset", required_argument, O_MEDIACLK, "N", "aes67: RTP time = PTP time in samples + N (default 0)" },
	{ "sap-interval", required_argument, SO_SAP, "S", "aes67: SAP announcement every S seconds, 0 = none (default 30)" },
	{ "name", required_argument, SO_NAME, "TEXT", "rtp, aes67: the session name in SDP/SAP (default txpace)" },
	{ "to", required_argument, O_TO, "NAME", "raop: the receiver called NAME on the network (mDNS); no DEST then" },
	{ "volume", required_argument, O_VOLUME, "DB", "raop: volume -30..0 dB, -144 = mute (default: leave it)" },
	{ "latency", required_argument, O_LATENCY, "T", "raop: playback latency 0.5s..10s (default 2s)" },
	{ "encrypt", no_argument, O_ENCRYPT, NULL, "raop: AES-encrypt the audio (for receivers that require it)" },
	{ "alac", required_argument, O_ALAC, "MODE", "raop: compressed (default, FFmpeg's encoder) or escape (uncompressed)" },
	{ "keepalive", required_argument, O_KEEPALIVE, "S", "raop: RTSP keep-alive every S seconds 1..600 (default 25; HomePods drop silent sessions after ~30 s)" },
	{ "timeout", required_argument, O_TIMEOUT, "MS", "raop: wait at most MS for each answer of the receiver 100..60000 (default 5000)" },
	{ "input-format", required_argument, O_INFMT, "F:RATE:CH", "raw PCM on stdin: s16le|s24le|s32le|f32le, e.g. s16le:48000:2" },
	{ "seconds", required_argument, O_SECONDS, "N", "stop after N seconds of audio (default: whole source)" },
	{ "report", required_argument, O_REPORT, "FILE", "write a JSON report to FILE" },
	{ "backend", required_argument, O_BACKEND, "NAME", "auto (default: what `txpace probe` chooses), edt (kernel: fq releases), etf (launch time, CLOCK_TAI), rt (real-time thread), sleep (baseline)" },
	{ "stamp", required_argument, O_STAMP, "HOW", "edt: bpf (tc egress program + schedule ring, default) or txtime (SO_TXTIME, no BPF)" },
	{ "lead", required_argument, O_LEAD, "MS", "edt, etf: hand packets to the kernel MS ahead 1..1000 (default 20)" },
	{ "fq-horizon", required_argument, O_FQ_HORIZON, "MS", "edt: fq drops (and txpace reports) packets further ahead than this (default max(1 s, 4 x lead))" },
	{ "etf-delta", required_argument, O_ETF_DELTA, "US", "etf: dequeue this long before the launch time 10..100000 (default 1000); software etf drops packets woken later than this" },
	{ "watch", no_argument, O_WATCH, NULL, "kernel deadline watchdog (bpf_timer) + driver hand-off times, any backend" },
	{ "grace", required_argument, O_GRACE, "US", "watch: a packet not at the driver by launch + US is missed (default 1000)" },
	{ "keep-powersave", no_argument, O_KEEP_PS, NULL, "leave Wi-Fi power save as it is (default: off while sending)" },
	{ "spin", required_argument, SO_SPIN, "US", "rt: spin the last US before each deadline, 0 = off (default 200)" },
	{ "prio", required_argument, SO_PRIO, "N", "rt: SCHED_FIFO priority 1..99, 0 = normal (default 80)" },
	{ "cpu", required_argument, SO_CPU, "N", "rt: pin the pacer thread to CPU N (default: not pinned)" },
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
	struct profile_opts *po = &o->p;
	struct cli c;
	double d;
	long v;
	int k;

	*o = (struct send_opts){
		.profile = &profile_rtp, .pace = { 200 * NSEC_PER_USEC, 80, -1 }, .max_burst = 4,
		.late_ns = 1000 * NSEC_PER_USEC,
		.lookahead_ns = 100 * NSEC_PER_MSEC, .start_delay_ns = 50 * NSEC_PER_MSEC,
		.backend = "auto", .timestamps = 1, .stamp = NULL, .lead_ns = 20 * NSEC_PER_MSEC,
		.grace_ns = 1000 * NSEC_PER_USEC, .etf_delta_ns = 1000 * NSEC_PER_USEC,
	};
	*po = (struct profile_opts){
		.bits = 24, .rate = 48000, .channels = 2, .ttl = 1, .dscp = 34, .pt = 96,
		.ptime_ns = NSEC_PER_MSEC, .latency_ns = 2 * NSEC_PER_SEC, .alac = ALAC_COMPRESSED,
		.timeout_ms = 5000, .keepalive_ns = 25 * NSEC_PER_SEC,
		.lock_timeout_ns = 60 * NSEC_PER_SEC,
		.sap_interval_ns = 30 * NSEC_PER_SEC, .stop = &cli_stop,
	};
	cli_init(&c, "send", "[options] DEST[:PORT] SOURCE   (raop: [options] --to NAME SOURCE)\n\n"
			     "  DEST      rtp: unicast or multicast IPv4/IPv6 address, port 5004 by default\n"
			     "            raop: the receiver's address, port 5000 by default\n"
			     "  SOURCE    a file FFmpeg reads, '-' for raw PCM on stdin, tone:HZ, sweep, ramp",
		 send_opts);
	while ((k = cli_next(&c, argc, argv)) != -1) {
		switch (k) {
		case O_PROFILE:
			if (!strcmp(optarg, "rtp")) {
				o->profile = &profile_rtp;
			} else if (!strcmp(optarg, "raop")) {
				o->profile = &profile_raop;
			} else if (!strcmp(optarg, "aes67")) {
				o->profile = &profile_aes67;
			} else {
				cli_usage_error(&c, "--profile: '%s' is not rtp, aes67 or raop", optarg);
				return -EINVAL;
			}
			break;
		case O_MEDIACLK: {
			int64_t u;

			if (cli_i64(&c, "mediaclk-offset", optarg, 0, UINT32_MAX, &u)) {
				return -EINVAL;
			}
			po->mediaclk_offset = (uint32_t)u;
			break;
		}
		case O_PT:
			if (cli_long(&c, "pt", optarg, 0, 127, &po->pt)) {
				return -EINVAL;
			}
			break;
		case O_SSRC: {
			int64_t u;

			if (cli_i64(&c, "ssrc", optarg, 0, UINT32_MAX, &u)) {
				return -EINVAL;
			}
			po->ssrc = (uint32_t)u;
			po->have_ssrc = 1;
			break;
		}
		case O_SDP:
			po->sdp_path = optarg;
			break;
		case O_TO:
			po->to_name = optarg;
			break;
		case O_VOLUME: {
			char *e;

			d = strtod(optarg, &e);
			if (*e || !((d >= -30 && d <= 0) || d == -144)) {
				cli_usage_error(&c, "--volume: '%s' is not -30..0 dB or -144", optarg);
				return -EINVAL;
			}
			po->volume_db = d;
			po->have_volume = 1;
			break;
		}
		case O_LATENCY:
			if (cli_duration(&c, "latency", optarg, NSEC_PER_SEC, NSEC_PER_SEC / 2,
					 10 * NSEC_PER_SEC, &po->latency_ns)) {
				return -EINVAL;
			}
			break;
		case O_ENCRYPT:
			po->encrypt = 1;
			break;
		case O_ALAC:
			if (!strcmp(optarg, "compressed")) {
				po->alac = ALAC_COMPRESSED;
			} else if (!strcmp(optarg, "escape")) {
				po->alac = ALAC_ESCAPE;
			} else {
				cli_usage_error(&c, "--alac: '%s' is not compressed or escape", optarg);
				return -EINVAL;
			}
			break;
		case O_KEEPALIVE:
			if (cli_duration(&c, "keepalive", optarg, NSEC_PER_SEC, NSEC_PER_SEC,
					 600 * NSEC_PER_SEC, &po->keepalive_ns)) {
				return -EINVAL;
			}
			break;
		case O_TIMEOUT:
			if (cli_long(&c, "timeout", optarg, 100, 60000, &v)) {
				return -EINVAL;
			}
			po->timeout_ms = v;
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
			if (strcmp(optarg, "auto") && strcmp(optarg, "edt") && strcmp(optarg, "etf") &&
			    strcmp(optarg, "rt") && strcmp(optarg, "sleep")) {
				cli_usage_error(&c, "--backend: '%s' is not auto, edt, etf, rt or sleep",
						optarg);
				return -EINVAL;
			}
			o->backend = optarg;
			break;
		case O_STAMP:
			if (strcmp(optarg, "bpf") && strcmp(optarg, "txtime")) {
				cli_usage_error(&c, "--stamp: '%s' is not bpf or txtime", optarg);
				return -EINVAL;
			}
			o->stamp = optarg;
			break;
		case O_LEAD:
			if (cli_duration(&c, "lead", optarg, NSEC_PER_MSEC, NSEC_PER_MSEC, NSEC_PER_SEC,
					 &o->lead_ns)) {
				return -EINVAL;
			}
			break;
		case O_FQ_HORIZON:
			if (cli_duration(&c, "fq-horizon", optarg, NSEC_PER_MSEC, NSEC_PER_MSEC,
					 60 * NSEC_PER_SEC, &o->fq_horizon_ns)) {
				return -EINVAL;
			}
			break;
		case O_GRACE:
			if (cli_duration(&c, "grace", optarg, NSEC_PER_USEC, 0, NSEC_PER_SEC,
					 &o->grace_ns)) {
				return -EINVAL;
			}
			break;
		case O_WATCH:
			o->watch = 1;
			break;
		case O_ETF_DELTA:
			if (cli_duration(&c, "etf-delta", optarg, NSEC_PER_USEC, 10 * NSEC_PER_USEC,
					 100 * NSEC_PER_MSEC, &o->etf_delta_ns)) {
				return -EINVAL;
			}
			break;
		case O_KEEP_PS:
			o->keep_powersave = 1;
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
			/* (bounded: seconds * 1e9 must fit an int64_t) */
			if (*e || !(o->start_at > 0) || !(o->start_at < 9.2e9)) {
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
			if (stream_opt(&c, k, optarg, po, &o->pace) != 1) {
				return -EINVAL;
			}
			break;
		}
	}
	if (po->to_name && o->profile != &profile_raop) {
		cli_usage_error(&c, "--to NAME is for --profile raop");
		return -EINVAL;
	}
	if (argc - optind != (po->to_name ? 1 : 2)) {
		cli_usage_error(&c, po->to_name ? "with --to, only SOURCE" : "needs DEST and SOURCE");
		return -EINVAL;
	}
	po->dest_s = po->to_name ? NULL : argv[optind];
	o->source_s = argv[argc - 1];
	if (!strcmp(o->source_s, "-") && !o->input_format) {
		cli_usage_error(&c, "SOURCE '-' needs --input-format, e.g. s16le:48000:2");
		return -EINVAL;
	}
	if (o->stamp && strcmp(o->backend, "edt") && strcmp(o->backend, "auto")) {
		cli_usage_error(&c, "--stamp is for --backend edt");
		return -EINVAL;
	}
	if (o->lead_ns >= o->lookahead_ns) {
		cli_usage_error(&c, "--lead must be shorter than --lookahead (%.0f ms)",
				(double)o->lookahead_ns / 1e6);
		return -EINVAL;
	}
	return 0;
}

/* Build packets into the ring ahead of their launch times; block (sleep) while it is full. */
static void *producer_main(void *arg)
{
	struct send_ctx *s = arg;
	uint32_t spp = s->d.spp, ch = s->d.channels;
	int64_t ptime = sched_ptime_ns(&s->sched);
	size_t cap = ring_capacity(s->ring), batch = cap / 4;
	int32_t *pcm = calloc((size_t)spp * ch, sizeof(int32_t));
	uint64_t k;

	if (!pcm) {
		s->producer_rc = -ENOMEM;
		goto out;
	}
	unsigned tail = 0;	/* silence packets sent after the source ended */

	for (k = 0; !atomic_load(&s->stop); k++) {
		struct pkt *pk;
		long n;
		int len;

		if (atomic_load(&s->ctl) == CTL_PAUSE_REQ) {
			/* stop building here; the main thread flushes, re-anchors, resumes */
			s->pause_k = k;
			atomic_store(&s->ctl, CTL_PAUSED);
			while (atomic_load(&s->ctl) != CTL_RESUME && !atomic_load(&s->stop)) {
				struct timespec ts = { 0, 10 * 1000 * 1000 };

				nanosleep(&ts, NULL);
			}
			if (atomic_load(&s->stop)) {
				break;
			}
			if (s->seek_frames) {
				int64_t pos = source_seek(s->src, s->seek_frames);

				if (pos < 0) {
					pr_debug("seek: %s", strerror((int)-pos));
				}
				s->seek_frames = 0;
			}
			atomic_store(&s->ctl, CTL_RUN);
		}
		if (s->limit && k >= s->limit && !tail) {
			if (!s->o.profile->tail_packets) {
				break;
			}
			tail = 1;
		}
		if (tail) {
			/* after the end: whole packets of silence */
			if (tail > s->o.profile->tail_packets) {
				break;
			}
			memset(pcm, 0, (size_t)spp * ch * sizeof(int32_t));
			n = spp;
			tail++;
		} else {
			n = source_read(s->src, pcm, spp);
		}
		if (n < 0) {
			if (n != -EINTR) {
				s->producer_rc = (int)n;
			}
			break;
		}
		if (n == 0) {
			if (!s->o.profile->tail_packets) {
				break;
			}
			tail = 1;
			k--;
			continue;
		}
		if ((uint32_t)n < spp) {
			/* the last packet: silence after the source's last sample */
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
					       : clock_ns(s->d.clock));
			clock_nanosleep(s->d.clock, TIMER_ABSTIME, &ts, NULL);
			if (!ring_produce_begin(s->ring)) {
				ts = ns_to_ts(ptime / 4);
				nanosleep(&ts, NULL);
			}
		}
		len = s->o.profile->packetize(s->prof, &s->d, k, pcm, (uint32_t)n, pk->data);
		if (len < 0) {
			s->producer_rc = len;
			break;
		}
		pk->len = (uint32_t)len;
		pk->k = k;
		pk->seq = (uint16_t)(s->d.seq0 + k);
		pk->launch_ns = sched_launch(&s->sched, k);
		pk->flags = (uint32_t)n < spp ? PKT_F_LAST : 0;
		ring_produce_commit(s->ring);
		atomic_fetch_add(&s->built, 1);
		if ((uint32_t)n < spp && !tail) {
			if (!s->o.profile->tail_packets) {
				break;
			}
			tail = 1;
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
	double el = (double)(clock_ns(s->d.clock) - s->sched.start_ns) / 1e9;
	char p99[32], tot[32] = "";

	if (el < 0) {
		el = 0;
	}
	fmt_us(p99, sizeof(p99), hist_quantile(h, 0.99));
	if (s->total_pkts > 0) {
		snprintf(tot, sizeof(tot), "/%.1f", (double)s->total_pkts * s->sched.spp / s->sched.rate);
	}
	fprintf(stderr, "\r%7.1f%s s  packets %" PRIu64 "  late %" PRIu64 "  p99 %s %s%s%s\033[K%s",
		el, tot, atomic_load(&st->sent), atomic_load(&st->late), p99, which,
		atomic_load(&s->ctl) == CTL_RUN ? "" : s->flushed ? "  [paused]" : "  [pausing]",
		s->o.profile->status ? s->o.profile->status(s->prof) : "", final ? "\n" : "");
}

/* edt with BPF stamps: the egress program's stamp is what makes fq hold a packet */
static int bpf_paced(const struct send_ctx *s)
{
	return s->kp && !strcmp(s->o.backend, "edt") && s->o.stamp && !strcmp(s->o.stamp, "bpf");
}

/*
 * Packets the egress program did not stamp (no slot, beyond the horizon, or never seen: a
 * link it cannot parse): fq let them go at once, up to --lead early. 0 when not bpf-paced.
 */
static uint64_t unstamped(const struct send_ctx *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	struct txp_flow f;
	uint64_t sent = atomic_load(&st->sent);

	if (!bpf_paced(s)) {
		return 0;
	}
	if (kpace_flow(s->kp, &f)) {
		return sent;
	}
	return f.stamped >= sent ? 0 : sent - f.stamped;
}

static int complete(struct send_ctx *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);

	return s->producer_rc == 0 && s->profile_rc == 0 && atomic_load(&st->early) == 0 &&
	       unstamped(s) == 0 &&
	       atomic_load(&st->sent) == atomic_load(&s->built) &&
	       atomic_load(&st->send_errors) == 0 && atomic_load(&st->icmp_errors) == 0 &&
	       atomic_load(&st->txtime_invalid) == 0 && atomic_load(&st->txtime_missed) == 0 &&
	       source_decode_errors(s->src) == 0 &&
	       (!s->o.profile->complete || s->o.profile->complete(s->prof));
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
	json_str(&j, "profile", s->o.profile->name);
	json_str(&j, "backend", s->o.backend);
	json_str(&j, "dest", net_fmt(&s->d.dest, dst, sizeof(dst)));
	json_str(&j, "source", source_describe(s->src));
	json_str(&j, "format", s->d.bits == 16 ? "L16" : "L24");
	json_uint(&j, "rate", s->sched.rate);
	json_uint(&j, "channels", s->d.channels);
	json_uint(&j, "samples_per_packet", s->sched.spp);
	json_num(&j, "ptime_us", (double)sched_ptime_ns(&s->sched) / 1e3);
	json_obj(&j, "rtp");
	json_uint(&j, "pt", (uint64_t)s->o.p.pt);
	json_uint(&j, "ssrc", s->d.ssrc);
	json_uint(&j, "seq0", s->d.seq0);
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
	json_int(&j, "prio", s->o.pace.prio);
	json_bool(&j, "mlock", atomic_load(&st->mlocked));
	json_int(&j, "cpu", atomic_load(&st->pinned) ? s->o.pace.cpu : -1);
	json_num(&j, "spin_us", (double)pacer_cfg(s->pacer)->spin_ns / 1e3);
	json_end(&j, '}');
	json_str(&j, "departure_source", which);
	json_hist(&j, "departure_error_us", h);
	json_obj(&j, "stamps_us");
	json_hist(&j, "user", &st->dep_user);
	json_hist(&j, "sched", &st->dep_sched);
	json_hist(&j, "snd", &st->dep_snd);
	json_end(&j, '}');
	json_uint(&j, "early", atomic_load(&st->early));
	json_uint(&j, "unstamped", unstamped(s));
	json_uint(&j, "dropped", atomic_load(&st->dropped));
	json_uint(&j, "txtime_invalid", atomic_load(&st->txtime_invalid));
	json_uint(&j, "txtime_missed", atomic_load(&st->txtime_missed));
	json_num(&j, "lead_ms", (double)s->o.lead_ns / 1e6);
	if (s->o.auto_reason[0]) {
		json_str(&j, "backend_reason", s->o.auto_reason);
	}
	if (s->kp) {
		struct txp_flow f;
		struct txp_wstats w;

		json_obj(&j, "kernel");
		json_str(&j, "iface", kpace_ifname(s->kp));
		json_str(&j, "setup", kpace_describe(s->kp));
		if (kpace_flow(s->kp, &f) == 0) {
			json_uint(&j, "stamped", f.stamped);
			json_uint(&j, "no_slot", f.no_slot);
			json_uint(&j, "clamped", f.clamped);
			json_uint(&j, "beyond_horizon", f.beyond_horizon);
		}
		if (kpace_wstats(s->kp, &w) == 0) {
			json_uint(&j, "watch_fired", w.fired);
			json_uint(&j, "watch_checked", w.checked);
			json_uint(&j, "watch_missed", w.missed);
			json_uint(&j, "watch_on_time", w.on_time);
			json_uint(&j, "xmit_seen", w.xmit_seen);
			json_uint(&j, "xmit_recalibrations", kpace_recalibrations(s->kp));
			json_uint(&j, "watch_events", kpace_events(s->kp));
			json_uint(&j, "watch_events_unstamped", kpace_events_unstamped(s->kp));
			/* how late the kernel timer fired after each deadline (1 us buckets) */
			uint64_t tot = 0, acc = 0;
			double q[] = { 0.5, 0.99, 0.999 }, v[3] = { 0 }, mx = 0;
			int qi = 0;

			for (int b = 0; b < TXP_LAT_BUCKETS; b++) {
				tot += w.lat[b];
			}
			for (int b = 0; b < TXP_LAT_BUCKETS && tot; b++) {
				acc += w.lat[b];
				while (qi < 3 && (double)acc >= q[qi] * (double)tot) {
					v[qi++] = b;
				}
				if (w.lat[b]) {
					mx = b;
				}
			}
			json_obj(&j, "watch_lateness_us");
			json_uint(&j, "count", tot);
			json_num(&j, "p50", v[0]);
			json_num(&j, "p99", v[1]);
			json_num(&j, "p999", v[2]);
			json_num(&j, "max", mx);
			json_end(&j, '}');
		}
		json_hist(&j, "xmit_error_us", &st->dep_xmit);
		json_uint(&j, "xmit_reordered", atomic_load(&st->xmit_reordered));
		json_end(&j, '}');
	}
	json_num(&j, "duration_s", (double)(mono_ns() - s->t_begin) / 1e9);
	if (s->o.profile->report) {
		s->o.profile->report(s->prof, &j);
	}
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
	printf("sent %" PRIu64 " of %" PRIu64 " packets (%s, %u samples each, backend %s%s), late %"
	       PRIu64 " (> %.0f us), send errors %" PRIu64 ", underruns %" PRIu64 "\n",
	       atomic_load(&st->sent), atomic_load(&s->built), s->o.profile->name, s->sched.spp,
	       s->o.backend, atomic_load(&st->fifo) ? ", SCHED_FIFO" : "", atomic_load(&st->late),
	       (double)s->o.late_ns / 1e3, atomic_load(&st->send_errors),
	       atomic_load(&st->underruns));
	printf("departure error (%s stamp - launch): p50 %s  p99 %s  p99.9 %s  max %s\n",
	       which, a, b, c, d);
	if (s->o.auto_reason[0]) {
		printf("backend %s chosen: %s\n", s->o.backend, s->o.auto_reason);
	}
	if (atomic_load(&st->early)) {
		printf("left before their launch time: %" PRIu64 " packets\n", atomic_load(&st->early));
	}
	if (s->o.profile->summary) {
		s->o.profile->summary(s->prof, stdout);
	}
	if (s->kp) {
		struct txp_flow f;
		struct txp_wstats w;

		printf("kernel: %s\n", kpace_describe(s->kp));
		if (kpace_flow(s->kp, &f) == 0) {
			printf("egress program: stamped %" PRIu64 ", no slot %" PRIu64 ", clamped %" PRIu64
			       ", beyond horizon %" PRIu64 "\n", (uint64_t)f.stamped, (uint64_t)f.no_slot,
			       (uint64_t)f.clamped, (uint64_t)f.beyond_horizon);
		}
		if (kpace_wstats(s->kp, &w) == 0) {
			printf("watchdog: checked %" PRIu64 " deadlines, missed %" PRIu64 ", on time %" PRIu64
			       ", driver hand-offs seen %" PRIu64 "\n", (uint64_t)w.checked,
			       (uint64_t)w.missed, (uint64_t)w.on_time, (uint64_t)w.xmit_seen);
		}
	}
}

static const char *pacer_name(const struct send_opts *o)
{
	if (!strcmp(o->backend, "edt") && o->stamp && !strcmp(o->stamp, "txtime")) {
		return "edt-txtime";
	}
	return o->backend;
}

/*
 * Choose the backend (auto) and set the kernel up for it: qdisc, egress program, watchdog, Wi-Fi
 * power save. Nothing is changed for rt/sleep without --watch on a wired interface.
 */
static int kernel_setup(struct send_ctx *s, char *err, size_t errlen)
{
	struct send_opts *o = &s->o;
	struct kpace_cfg kc = {
		.ifname = o->p.iface, .ptime_ns = sched_ptime_ns(&s->sched), .lead_ns = o->lead_ns,
		.grace_ns = o->grace_ns, .fq_horizon_us = (uint32_t)(o->fq_horizon_ns / 1000),
		.etf_delta_ns = (int32_t)o->etf_delta_ns, .watch = o->watch, .powersave_off = !o->keep_powersave,
	};
	int kernel;

	if (!strcmp(o->backend, "auto")) {
		struct probe_choice pc;

		probe_choose(o->p.iface, s->d.fd, &pc);
		o->backend = pc.backend;
		if (!o->stamp) {
			o->stamp = pc.stamp;
		}
		snprintf(o->auto_reason, sizeof(o->auto_reason), "%s", pc.reason);
		pr_debug("backend %s: %s", o->backend, pc.reason);
	}
	if (!strcmp(o->backend, "edt") && !o->stamp) {
		o->stamp = "bpf";
	}
	kernel = !strcmp(o->backend, "edt") || !strcmp(o->backend, "etf");
	if (!kernel && !o->watch && (o->keep_powersave || !probe_wifi_powersave(o->p.iface, s->d.fd))) {
		return 0;
	}
	kc.qdisc = !strcmp(o->backend, "edt") ? KPACE_QDISC_FQ
		   : !strcmp(o->backend, "etf") ? KPACE_QDISC_ETF : KPACE_QDISC_KEEP;
	kc.bpf_stamp = !strcmp(o->backend, "edt") && !strcmp(o->stamp, "bpf");
	if (!strcmp(o->backend, "etf") && s->d.clock == CLOCK_MONOTONIC &&
	    o->profile == &profile_rtp) {
		/* etf's clock is TAI: schedule on it, so launch times need no conversion at all */
		s->d.clock = CLOCK_TAI;
	}
	s->kp = kpace_open(&kc, s->d.fd, err, errlen);
	return s->kp ? 0 : -EIO;
}

static int stop_requested(void *arg)
{
	struct send_ctx *s = arg;

	return atomic_load(&s->stop) || txp_stopped(s->o.p.stop);
}

static int setup(struct send_ctx *s, char *err, size_t errlen)
{
	struct source_fmt sf;

	s->d.fd = -1;
	s->prof = s->o.profile->open(&s->o.p, &s->d, err, errlen);
	if (!s->prof) {
		return -EIO;
	}
	sf = (struct source_fmt){ s->d.rate, s->d.channels, s->d.bits };
	s->src = source_open(s->o.source_s, s->o.input_format, &sf, err, errlen);
	if (!s->src) {
		return -errno;
	}
	source_set_interrupt(s->src, stop_requested, s);
	/* exact whole-sample schedule; its start is set once the pacer and the receiver are ready */
	s->sched = (struct schedule){ .rate = s->d.rate, .spp = s->d.spp, .ts0 = s->d.ts0 };
	s->clk = clocks_new();
	size_t nslots = (size_t)(s->o.lookahead_ns / sched_ptime_ns(&s->sched)) + 1;

	s->ring = ring_new(nslots < 8 ? 8 : nslots, s->d.max_packet);
	/* the profile's history for retransmits; none (no copy per packet) where nobody asks */
	if (s->o.profile->history_s) {
		s->d.hist = history_new((size_t)(s->o.profile->history_s * NSEC_PER_SEC /
						 sched_ptime_ns(&s->sched)) + 1, s->d.max_packet);
	}
	if (!s->clk || !s->ring || (s->o.profile->history_s && !s->d.hist)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (s->o.seconds_ns) {
		s->limit = (uint64_t)((unsigned __int128)s->o.seconds_ns * s->sched.rate /
				      NSEC_PER_SEC / s->sched.spp);
		if (s->limit == 0) {
			s->limit = 1;
		}
	}
	int64_t tf = source_total_frames(s->src);

	s->total_pkts = tf > 0 ? (tf + s->sched.spp - 1) / s->sched.spp : -1;
	if (s->limit && (s->total_pkts < 0 || (uint64_t)s->total_pkts > s->limit)) {
		s->total_pkts = (int64_t)s->limit;
	}
	return 0;
}

static void teardown(struct send_ctx *s)
{
	pacer_free(s->pacer);
	/* every packet has left (the pacer waited for the last launch): restore the interface */
	kpace_close(s->kp);
	s->kp = NULL;
	if (s->prof) {
		s->o.profile->close(s->prof);
	}
	history_free(s->d.hist);
	ring_free(s->ring);
	clocks_free(s->clk);
	source_free(s->src);
	if (s->d.fd >= 0) {
		close(s->d.fd);
	}
}

/*
 * The first signal asks for a clean stop. Later ones change nothing: the handlers stay, since a
 * default action would end the process before kpace_close puts the interface back (the stop
 * is bounded anyway: the packets already handed over, at most --lookahead).
 */
static void on_interrupt(struct send_ctx *s)
{
	s->interrupted = 1;
	atomic_store(&s->stop, 1);
	/* before the first launch nothing has left: drop what is queued */
	if (clock_ns(s->d.clock) < s->sched.start_ns) {
		pacer_abort(s->pacer);
	}
}

/* Keys on a terminal: space pauses and resumes, arrows seek 10 s, q stops. */
static void keys_on(struct send_ctx *s)
{
	struct termios raw;

	if (s->o.quiet || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO) ||
	    !strcmp(s->o.source_s, "-") || tcgetattr(STDIN_FILENO, &s->tio)) {
		return;
	}
	raw = s->tio;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
		s->keys = 1;
		fprintf(stderr, "keys: space pause/resume, left/right seek 10 s, q stop\n");
	}
}

static void keys_off(struct send_ctx *s)
{
	if (s->keys) {
		tcsetattr(STDIN_FILENO, TCSANOW, &s->tio);
		s->keys = 0;
	}
}

static void request_seek(struct send_ctx *s, int64_t secs)
{
	s->seek_frames += secs * (int64_t)s->sched.rate;
	if (atomic_load(&s->ctl) == CTL_RUN) {
		s->auto_resume = 1;
		atomic_store(&s->ctl, CTL_PAUSE_REQ);
	}
}

/* Restart after a pause: packet pause_k leaves 100 ms from now; RTP time runs on unchanged. */
static void resume(struct send_ctx *s)
{
	int64_t now = clock_ns(s->d.clock);

	s->sched.start_ns += now + 100 * NSEC_PER_MSEC - sched_launch(&s->sched, s->pause_k);
	s->d.marker_k = s->pause_k;
	if (s->o.profile->resume) {
		s->o.profile->resume(s->prof, &s->sched, now);
	}
	s->flushed = 0;
	s->auto_resume = 0;
	atomic_store(&s->ctl, CTL_RESUME);
}

static void read_keys(struct send_ctx *s)
{
	char b[16];
	ssize_t n = read(STDIN_FILENO, b, sizeof(b));

	for (ssize_t i = 0; i < n; i++) {
		if (b[i] == ' ') {
			if (atomic_load(&s->ctl) == CTL_RUN) {
				atomic_store(&s->ctl, CTL_PAUSE_REQ);
			} else if (atomic_load(&s->ctl) == CTL_PAUSED && s->flushed) {
				resume(s);
			}
		} else if (b[i] == 'q') {
			on_interrupt(s);
		} else if (b[i] == '\033' && i + 2 < n && b[i + 1] == '[') {
			if (b[i + 2] == 'C') {
				request_seek(s, 10);
			} else if (b[i + 2] == 'D') {
				request_seek(s, -10);
			}
			i += 2;
		}
	}
}

/* Paused and every built packet handled: the receiver may drop what it holds. */
static void pause_step(struct send_ctx *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);

	if (atomic_load(&s->ctl) != CTL_PAUSED || s->flushed || s->profile_rc ||
	    atomic_load(&st->sent) + atomic_load(&st->send_errors) < atomic_load(&s->built)) {
		return;
	}
	if (s->o.profile->flush && !s->flush_sent) {
		s->flush_sent = 1;
		s->profile_rc = s->o.profile->flush(s->prof, s->pause_k, s->perr, sizeof(s->perr));
		if (s->profile_rc) {
			atomic_store(&s->stop, 1);
			pacer_abort(s->pacer);
			return;
		}
	}
	/* the answer comes through the profile's service, on a later turn of the loop */
	if (s->o.profile->flush && s->o.profile->flush_done && !s->o.profile->flush_done(s->prof)) {
		return;
	}
	s->flushed = 1;
	s->flush_sent = 0;
	if (s->auto_resume) {
		resume(s);
	}
}

/* Main thread while the pacer runs: profile duties (timing, control), keys, status, signals. */
static void run_loop(struct send_ctx *s, int tty)
{
	int64_t next_status = clock_ns(s->d.clock), next_prof = 0;

	keys_on(s);
	while (!pacer_done(s->pacer)) {
		struct pollfd pfd[9];
		int n = s->o.profile->poll_fds ? s->o.profile->poll_fds(s->prof, pfd, 8) : 0;

		if (s->keys) {
			pfd[n++] = (struct pollfd){ STDIN_FILENO, POLLIN, 0 };
		}
		if (atomic_load(&s->ctl) == CTL_PAUSED && !s->flushed) {
			next_status = clock_ns(s->d.clock);	/* soon: the flush waits for the pacer */
		}
		int64_t now = clock_ns(s->d.clock), wake = next_status;

		if (next_prof && next_prof < wake) {
			wake = next_prof;
		}
		poll(pfd, (nfds_t)n, wake > now ? (int)((wake - now) / NSEC_PER_MSEC) + 1 : 0);
		now = clock_ns(s->d.clock);
		if (s->o.profile->service && !s->profile_rc) {
			next_prof = 0;
			s->profile_rc = s->o.profile->service(s->prof, &s->sched, now, &next_prof,
							      s->perr, sizeof(s->perr));
			if (s->profile_rc) {
				/* the receiver is gone: nothing more can be delivered */
				atomic_store(&s->stop, 1);
				pacer_abort(s->pacer);
			}
		}
		if (s->keys) {
			read_keys(s);
		}
		pause_step(s);
		if (cli_stop && !s->interrupted) {
			on_interrupt(s);
		}
		if (now >= next_status) {
			int64_t step = clocks_track(s->clk);
			char kmsg[256];

			if (s->kp && kpace_poll(s->kp, kmsg, sizeof(kmsg))) {
				pr_warn("%s", kmsg);
			}

			if (step > NSEC_PER_MSEC) {
				pr_warn("a system clock stepped by %.3f ms", (double)step / 1e6);
			}
			if (tty && !s->o.quiet) {
				status_line(s, 0);
			}
			next_status = now + (atomic_load(&s->ctl) == CTL_PAUSED && !s->flushed ?
					     5 * NSEC_PER_MSEC : 250 * NSEC_PER_MSEC);
		}
	}
	keys_off(s);
}

int cmd_send(int argc, char **argv)
{
	struct send_ctx s = { .d.fd = -1, .d.clock = CLOCK_MONOTONIC };
	char err[512] = "";
	int rc, tty = isatty(STDERR_FILENO), ret = EXIT_FAIL, started = 0;

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
	rc = kernel_setup(&s, err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		goto out;
	}
	struct pacer_cfg pc = {
		.backend = pacer_name(&s.o), .spin_ns = s.o.pace.spin_ns, .prio = (int)s.o.pace.prio,
		.cpu = (int)s.o.pace.cpu, .max_burst = (unsigned)s.o.max_burst, .late_ns = s.o.late_ns,
		.ptime_ns = sched_ptime_ns(&s.sched), .timestamps = s.o.timestamps,
		.clock = s.d.clock, .kp = s.kp, .lead_ns = s.o.lead_ns,
		.txtime_offset_ns = s.kp ? kpace_txtime_offset(s.kp) : 0,
	};

	s.pacer = pacer_new(&pc, s.d.fd, s.ring, s.d.hist, s.clk);
	if (!s.pacer) {
		pr_err("cannot create pacer: %s", strerror(errno));
		goto out;
	}
	/* workers never see the stop signals: the main thread handles them */
	cli_block_signals(1);
	rc = pacer_start(s.pacer);
	cli_block_signals(0);
	if (rc) {
		pr_err("cannot start the pacer: %s", strerror(-rc));
		goto out_pacer;
	}
	/* the schedule starts after the pacer is set up, so setup never makes packets late */
	int64_t earliest = clock_ns(s.d.clock) + s.o.start_delay_ns;

	if (s.o.start_at > 0) {
		earliest = clocks_from_mono(s.clk, s.d.clock, clocks_to_mono(s.clk, CLOCK_REALTIME,
						    (int64_t)(s.o.start_at * 1e9)));
		if (earliest < clock_ns(s.d.clock) + 10 * NSEC_PER_MSEC) {
			pr_err("--start-at is in the past or too close (%.3f s from now)",
			       (double)(earliest - clock_ns(s.d.clock)) / 1e9);
			goto out_pacer;
		}
	}
	rc = s.o.profile->start(s.prof, &s.sched, earliest, err, sizeof(err));
	if (rc) {
		pr_err("%s", err[0] ? err : strerror(-rc));
		goto out_pacer;
	}
	cli_block_signals(1);
	rc = pthread_create(&s.producer, NULL, producer_main, &s);
	cli_block_signals(0);
	if (rc) {
		pr_err("cannot start: %s", strerror(rc));
		goto out_pacer;
	}
	started = 1;
	run_loop(&s, tty);
	atomic_store(&s.stop, 1);
	pthread_join(s.producer, NULL);
	pacer_join(s.pacer);
	if (s.kp) {
		kpace_settle(s.kp);	/* the watchdog's last deadlines, before anything is reported */
	}
	if (tty && !s.o.quiet) {
		status_line(&s, 1);
	}
	if (s.profile_rc) {
		pr_err("%s", s.perr);
	} else if (s.o.profile->finish) {
		/* the last packet has left: let the receiver play it, then close the session */
		int64_t last = sched_launch(&s.sched, atomic_load(&s.built) ?
						      atomic_load(&s.built) - 1 : 0);

		s.profile_rc = s.o.profile->finish(s.prof, &s.sched, last, s.interrupted, s.perr,
						   sizeof(s.perr));
		if (s.profile_rc) {
			pr_err("%s", s.perr);
		}
	}
	if (s.producer_rc) {
		pr_err("source %s failed: %s", s.o.source_s, strerror(-s.producer_rc));
	}
	if (!s.o.quiet) {
		summary(&s);
	}
	struct pacer_stats *st = pacer_stats(s.pacer);

	/* when the receiver is gone, the bounced packets are a consequence: one line is enough */
	if (!s.profile_rc && (atomic_load(&st->send_errors) > atomic_load(&st->dropped) ||
			      atomic_load(&st->icmp_errors))) {
		char dst[80];
		struct rtp_hdr a = { 0 }, b = { 0 };

		/* the bounced datagrams carry our RTP header: say which packets the receiver lost */
		rtp_parse(st->first_bounce, sizeof(st->first_bounce), &a);
		rtp_parse(st->last_bounce, sizeof(st->last_bounce), &b);
		pr_err("%s: %" PRIu64 " of %" PRIu64 " packets came back as errors (%s; RTP seq %u..%u)"
		       ", %" PRIu64 " could not be sent",
		       net_fmt(&s.d.dest, dst, sizeof(dst)), atomic_load(&st->icmp_errors),
		       atomic_load(&s.built), strerror(atomic_load(&st->last_error)), a.seq, b.seq,
		       atomic_load(&st->send_errors));
	}
	if (atomic_load(&st->dropped)) {
		pr_err("%" PRIu64 " packets dropped by the qdisc before leaving (%s; RTP seq %u..%u)",
		       atomic_load(&st->dropped), !strcmp(s.o.backend, "etf") ?
		       "etf refused them: already late or out of order when queued" :
		       "beyond fq's horizon or over its flow limit",
		       atomic_load(&st->first_drop_seq) & 0xffff, atomic_load(&st->last_drop_seq) & 0xffff);
	}
	if (atomic_load(&st->early)) {
		pr_err("%" PRIu64 " packets left before their launch time", atomic_load(&st->early));
	}
	if (unstamped(&s)) {
		struct txp_flow f = { 0 };

		kpace_flow(s.kp, &f);
		pr_err("%" PRIu64 " of %" PRIu64 " packets left unpaced: the egress program stamped %"
		       PRIu64 " (no slot %" PRIu64 ", beyond the horizon %" PRIu64 ")", unstamped(&s),
		       atomic_load(&st->sent), (uint64_t)f.stamped, (uint64_t)f.no_slot,
		       (uint64_t)f.beyond_horizon);
	}
	if (atomic_load(&st->txtime_invalid) || atomic_load(&st->txtime_missed)) {
		pr_err("etf dropped %" PRIu64 " packets: %" PRIu64 " already late or invalid when "
		       "queued, %" PRIu64 " missed their launch time", atomic_load(&st->txtime_invalid) +
		       atomic_load(&st->txtime_missed), atomic_load(&st->txtime_invalid),
		       atomic_load(&st->txtime_missed));
	}
	if (source_decode_errors(s.src)) {
		pr_err("%" PRIu64 " undecodable packets in %s: their samples are missing",
		       source_decode_errors(s.src), s.o.source_s);
	}
	if (s.o.report_path && write_report(&s, s.o.report_path)) {
		goto out;
	}
	ret = complete(&s) ? EXIT_OK : EXIT_FAIL;
	goto out;
out_pacer:
	/* the pacer waits for a ring that will never fill: close it and let the thread end */
	if (!started) {
		ring_close(s.ring);
		pacer_abort(s.pacer);
		pacer_join(s.pacer);
	}
out:
	teardown(&s);
	return ret;
}
