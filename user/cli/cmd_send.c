// SPDX-License-Identifier: GPL-2.0-only
/* `txpace send`: the option table, the terminal (status line, keys), the stream's results. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "txpace/caps.h"
#include "cmd.h"
#include "stream_opts.h"
#include "txpace/clock.h"
#include "txpace/discover.h"
#include "txpace/log.h"
#include "txpace/stream.h"

struct send_args {
	struct stream_cfg cfg;
	struct pace_opts pace;
	const char *report_path;
	int64_t mediaclk_offset;
	int quiet;
	int profile_set;	/* --profile given: --to NAME does not choose one */
	int buffered;		/* airplay2 --stream buffered */
	int codec_set;		/* --codec given */
};

enum {
	O_PT = 256, O_SSRC, O_SDP, O_INFMT, O_SECONDS, O_REPORT, O_BACKEND, O_MAXBURST, O_LATE,
	O_LOOKAHEAD, O_START_AT, O_NO_STAMPS, O_PROFILE, O_TO, O_VOLUME, O_LATENCY, O_ENCRYPT,
	O_ALAC, O_TIMEOUT, O_MEDIACLK, O_KEEPALIVE, O_STAMP, O_LEAD, O_WATCH, O_GRACE, O_FQ_HORIZON,
	O_KEEP_PS, O_ETF_DELTA, O_PAIR_DIR, O_STREAM, O_CODEC,
};

/* (short names for the table) */
#define ARGS struct send_args
#define MS NSEC_PER_MSEC
#define US NSEC_PER_USEC
#define SEC NSEC_PER_SEC

const char cmd_send_synopsis[] =
	"[options] DEST[:PORT] SOURCE   (raop, airplay2: [options] --to NAME SOURCE)\n\n"
	"  DEST      rtp: unicast or multicast IPv4/IPv6 address, port 5004 by default\n"
	"            raop: the receiver's address, port 5000 by default\n"
	"            airplay2: the receiver's address, port 7000 by default\n"
	"  SOURCE    a file FFmpeg reads, '-' for raw PCM on stdin, tone:HZ, sweep, ramp";

const struct cli_opt cmd_send_opts[] = {
	CLI_OPT_WORDS("profile", O_PROFILE, "NAME", "rtp (default), aes67, raop (AirPlay 1) or airplay2 (with --to NAME: airplay2 where the receiver has it, else raop)", "rtp aes67 raop airplay2"),
	CLI_OPT_WORDS("format", SO_FORMAT, "L16|L24", "rtp: sample format (default L24)", "L16 L24"),
	CLI_OPT_CALL("rate", required_argument, SO_RATE, "HZ", "rtp: sample rate 8000..192000 (default 48000)"),
	CLI_OPT_CALL("channels", required_argument, SO_CHANNELS, "N", "rtp: channels 1..8 (default 2)"),
	CLI_OPT_CALL("ptime", required_argument, SO_PTIME, "T", "rtp: packet time 125us..20ms (default 1ms; bare number = ms)"),
	CLI_OPT_CALL("iface", required_argument, SO_IFACE, "IF", "egress interface (multicast), or bind to it"),
	CLI_OPT_CALL("ttl", required_argument, SO_TTL, "N", "multicast TTL / hop limit 1..255 (default 1)"),
	CLI_OPT_WORDS("dscp", SO_DSCP, "N|aes67|dante", "DSCP 0..63; aes67 = 34 (AF41, the default), dante = 46 (EF)", "aes67 dante"),
	CLI_OPT_LONG("pt", O_PT, "N", "rtp: RTP payload type 0..127 (default 96)",
		ARGS, cfg.p.pt, 0, 127),
	CLI_OPT_CALL("ssrc", required_argument, O_SSRC, "N", "RTP SSRC (default random)"),
	CLI_OPT_STR("sdp", O_SDP, "FILE", "rtp, aes67: write the stream's SDP to FILE",
		ARGS, cfg.p.sdp_path),
	CLI_OPT_CALL("ptp-socket", required_argument, SO_PTP_SOCKET, "PATH", "aes67, airplay2: ptp4l's management socket (default /var/run/ptp4l; airplay2 uses ptp4l's timeline where it is locked)"),
	CLI_OPT_CALL("ptp-domain", required_argument, SO_PTP_DOMAIN, "N", "aes67, airplay2: PTP domain 0..127 of ptp4l and the SDP (default 0; Livewire: 1)"),
	CLI_OPT_CALL("require-lock", no_argument, SO_REQUIRE_LOCK, NULL, "aes67: wait until ptp4l is locked (else: a warning)"),
	CLI_OPT_CALL("lock-timeout", required_argument, SO_LOCK_TIMEOUT, "S", "aes67: give up waiting for the lock after S seconds (default 60)"),
	CLI_OPT_I64("mediaclk-offset", O_MEDIACLK, "N", "aes67: RTP time = PTP time in samples + N (default 0)",
		ARGS, mediaclk_offset, 0, UINT32_MAX),
	CLI_OPT_CALL("sap-interval", required_argument, SO_SAP, "S", "aes67: SAP announcement every S seconds, 0 = none (default 30)"),
	CLI_OPT_CALL("name", required_argument, SO_NAME, "TEXT", "rtp, aes67: the session name in SDP/SAP (default txpace)"),
	CLI_OPT_STR("to", O_TO, "NAME", "raop, airplay2: the receiver called NAME on the network (mDNS); no DEST then",
		ARGS, cfg.p.to_name),
	CLI_OPT_CALL("volume", required_argument, O_VOLUME, "DB", "raop, airplay2: volume -30..0 dB, -144 = mute (default: leave it)"),
	CLI_OPT_WORDS("stream", O_STREAM, "KIND", "airplay2: realtime (default: UDP, type 96) or buffered (TCP, type 103: the receiver holds --latency of audio)", "realtime buffered"),
	CLI_OPT_WORDS("codec", O_CODEC, "NAME", "airplay2 --stream buffered: alac (default) or aac (AAC-LC, FFmpeg's encoder)", "alac aac"),
	CLI_OPT_DUR("latency", O_LATENCY, "T", "raop, airplay2: playback latency 0.5s..10s (default 2s; airplay2 buffered 4s)",
		ARGS, cfg.p.latency_ns, SEC / 2, 10 * SEC, SEC),
	CLI_OPT_SET("encrypt", O_ENCRYPT, "raop: AES-encrypt the audio (for receivers that require it)",
		ARGS, cfg.p.encrypt),
	CLI_OPT_WORDS("alac", O_ALAC, "MODE", "raop, airplay2: compressed (default, FFmpeg's encoder) or escape (uncompressed)", "compressed escape"),
	CLI_OPT_DUR("keepalive", O_KEEPALIVE, "S", "raop: RTSP keep-alive every S seconds 1..600 (default 25; HomePods drop silent sessions after ~30 s)",
		ARGS, cfg.p.keepalive_ns, SEC, 600 * SEC, SEC),
	CLI_OPT_STR("pair-dir", O_PAIR_DIR, "DIR", "airplay2: where txpace pair keeps the keys (default /var/lib/txpace)",
		ARGS, cfg.p.pair_dir),
	CLI_OPT_I64("timeout", O_TIMEOUT, "MS", "raop, airplay2: wait at most MS for each answer of the receiver 100..60000 (default 5000; airplay2 buffered: the latency + 1 s, at least 5000)",
		ARGS, cfg.p.timeout_ms, 100, 60000),
	CLI_OPT_STR("input-format", O_INFMT, "F:RATE:CH", "raw PCM on stdin: s16le|s24le|s32le|f32le, e.g. s16le:48000:2",
		ARGS, cfg.input_format),
	CLI_OPT_DUR("seconds", O_SECONDS, "N", "stop after N seconds of audio (default: whole source)",
		ARGS, cfg.seconds_ns, MS, (int64_t)30 * 24 * 3600 * SEC, SEC),
	CLI_OPT_STR("report", O_REPORT, "FILE", "write a JSON report to FILE", ARGS, report_path),
	CLI_OPT_WORDS("backend", O_BACKEND, "NAME", "auto (default: what `txpace probe` chooses), edt (kernel: fq releases), etf (launch time, CLOCK_TAI), rt (real-time thread), sleep (baseline)", "auto edt etf rt sleep"),
	CLI_OPT_WORDS("stamp", O_STAMP, "HOW", "edt: bpf (tc egress program + schedule ring, default) or txtime (SO_TXTIME, no BPF)", "bpf txtime"),
	CLI_OPT_DUR("lead", O_LEAD, "MS", "edt, etf: hand packets to the kernel MS ahead 1..1000 (default 20)",
		ARGS, cfg.lead_ns, MS, SEC, MS),
	CLI_OPT_DUR("fq-horizon", O_FQ_HORIZON, "MS", "edt: fq drops (and txpace reports) packets further ahead than this (default max(1 s, 4 x lead))",
		ARGS, cfg.fq_horizon_ns, MS, 60 * SEC, MS),
	CLI_OPT_DUR("etf-delta", O_ETF_DELTA, "US", "etf: dequeue this long before the launch time 10..100000 (default 1000); software etf drops packets woken later than this",
		ARGS, cfg.etf_delta_ns, 10 * US, 100 * MS, US),
	CLI_OPT_SET("watch", O_WATCH, "kernel deadline watchdog (bpf_timer) + driver hand-off times, any backend",
		ARGS, cfg.watch),
	CLI_OPT_DUR("grace", O_GRACE, "US", "watch: a packet not at the driver by launch + US is missed (default 1000)",
		ARGS, cfg.grace_ns, 0, SEC, US),
	CLI_OPT_SET("keep-powersave", O_KEEP_PS, "leave Wi-Fi power save as it is (default: off while sending)",
		ARGS, cfg.keep_powersave),
	CLI_OPT_CALL("spin", required_argument, SO_SPIN, "US|auto", "rt: spin the last US before each deadline, 0 = off; auto: the p99.5 of the pacer's own wake-up lateness + 10 us, at most 5 % of the packet time (at least 50 us; default auto)"),
	CLI_OPT_CALL("prio", required_argument, SO_PRIO, "N", "rt: SCHED_FIFO priority 1..99, 0 = normal (default 80)"),
	CLI_OPT_CALL("cpu", required_argument, SO_CPU, "N", "rt: pin the pacer thread to CPU N (default: not pinned)"),
	CLI_OPT_LONG("max-burst", O_MAXBURST, "N", "catching up, at most N packets per packet time 1..256 (default 4)",
		ARGS, cfg.max_burst, 1, 256),
	CLI_OPT_DUR("late", O_LATE, "US", "count a packet late beyond launch + US (default 1000)",
		ARGS, cfg.late_ns, 1000, 10 * SEC, US),
	CLI_OPT_DUR("lookahead", O_LOOKAHEAD, "MS", "packets built ahead of time 5..2000 ms (default 100)",
		ARGS, cfg.lookahead_ns, 5 * MS, 2 * SEC, MS),
	CLI_OPT_CALL("start-at", required_argument, O_START_AT, "SECS", "launch the first packet at this CLOCK_REALTIME time (epoch seconds)"),
	CLI_OPT_CALL("no-stamps", no_argument, O_NO_STAMPS, NULL, "do not ask the kernel for departure stamps"),
	CLI_OPT_SET("quiet", 'q', "no status line or summary", ARGS, quiet),
	CLI_OPT_CALL("verbose", no_argument, 'v', NULL, "more messages"),
	CLI_OPT_HELP,
	{ 0 },
};

#undef ARGS
#undef MS
#undef US
#undef SEC

/* @return the index of @arg among @words, or -EINVAL after "--OPT: 'ARG' is not @list" */
static int pick(const struct cli *c, const char *opt, const char *arg, const char *const *words,
		const char *list)
{
	for (int i = 0; words[i]; i++) {
		if (!strcmp(arg, words[i])) {
			return i;
		}
	}
	cli_usage_error(c, "--%s: '%s' is not %s", opt, arg, list);
	return -EINVAL;
}

/* --profile, --alac, --backend, --stamp: one word of a list. */
static int send_word(struct cli *c, int key, const char *arg, struct send_args *a)
{
	static const char *const profiles[] = { "rtp", "raop", "aes67", "airplay2", NULL };
	static const struct profile_ops *const ops[] = { &profile_rtp, &profile_raop, &profile_aes67,
							 &profile_airplay2 };
	static const char *const alac[] = { "compressed", "escape", NULL };
	static const char *const backends[] = { "auto", "edt", "etf", "rt", "sleep", NULL };
	static const char *const stamps[] = { "bpf", "txtime", NULL };
	static const char *const streams[] = { "realtime", "buffered", NULL };
	static const char *const codecs[] = { "alac", "aac", NULL };
	int i;

	switch (key) {
	case O_PROFILE:
		i = pick(c, "profile", arg, profiles, "rtp, aes67, raop or airplay2");
		if (i >= 0) {
			a->cfg.profile = ops[i];
			a->profile_set = 1;
		}
		break;
	case O_ALAC:
		i = pick(c, "alac", arg, alac, "compressed or escape");
		if (i >= 0) {
			a->cfg.p.alac = i ? ALAC_ESCAPE : ALAC_COMPRESSED;
		}
		break;
	case O_BACKEND:
		i = pick(c, "backend", arg, backends, "auto, edt, etf, rt or sleep");
		if (i >= 0) {
			a->cfg.backend = arg;
		}
		break;
	case O_STREAM:
		i = pick(c, "stream", arg, streams, "realtime or buffered");
		a->buffered = i == 1;
		break;
	case O_CODEC:
		i = pick(c, "codec", arg, codecs, "alac or aac");
		a->cfg.p.ap2_aac = i == 1;
		a->codec_set = 1;
		break;
	case O_STAMP:
		i = pick(c, "stamp", arg, stamps, "bpf or txtime");
		if (i >= 0) {
			a->cfg.stamp = arg;
		}
		break;
	default:
		return -EINVAL;
	}
	return i < 0 ? -EINVAL : 0;
}

/* CLI_CALL rows: the options shared with relay, and those a table row cannot say. */
static int send_opt(struct cli *c, int key, const char *arg, void *dst)
{
	struct send_args *a = dst;
	struct profile_opts *po = &a->cfg.p;
	int rc = stream_opt(c, key, arg, po, &a->pace);
	int64_t u;
	char *e;

	if (rc) {
		return rc < 0 ? rc : 0;
	}
	switch (key) {
	case O_SSRC:
		if (cli_i64(c, "ssrc", arg, 0, UINT32_MAX, &u)) {
			return -EINVAL;
		}
		po->ssrc = (uint32_t)u;
		po->have_ssrc = 1;
		return 0;
	case O_VOLUME:
		po->volume_db = strtod(arg, &e);
		if (*e || !((po->volume_db >= -30 && po->volume_db <= 0) || po->volume_db == -144)) {
			cli_usage_error(c, "--volume: '%s' is not -30..0 dB or -144", arg);
			return -EINVAL;
		}
		po->have_volume = 1;
		return 0;
	case O_START_AT:
		a->cfg.start_at = strtod(arg, &e);
		/* (bounded: seconds * 1e9 must fit an int64_t) */
		if (*e || !(a->cfg.start_at > 0) || !(a->cfg.start_at < 9.2e9)) {
			cli_usage_error(c, "--start-at: '%s' is not epoch seconds", arg);
			return -EINVAL;
		}
		return 0;
	case O_NO_STAMPS:
		a->cfg.timestamps = 0;
		return 0;
	case 'v':
		log_level = LOG_DEBUG;
		return 0;
	default:
		return send_word(c, key, arg, a);
	}
}

/* --to NAME without --profile: AirPlay 2 where the receiver offers it (PTP), else RAOP. */
static int choose_profile(struct stream_cfg *o)
{
	struct airplay_rx rx;
	char err[256];

	if (discover_find(o->p.to_name, 5000, &cli_stop, &rx, err, sizeof(err))) {
		fprintf(stderr, "txpace: error: %s\n", err);
		return -ENOENT;
	}
	o->profile = strcmp(airplay_rx_profile(&rx), "airplay2") ? &profile_raop : &profile_airplay2;
	pr_info("%s: AirPlay %s%s%s: --profile %s", o->p.to_name, rx.has_raop ? "1" : "",
		rx.has_raop && rx.has_ap2 ? "+" : "", rx.has_ap2 ? "2" : "", o->profile->name);
	return 0;
}

/*
 * --stream buffered: airplay2 only; the audio goes on a TCP connection, which only a backend
 * that send()s at the launch time can use (rt; sleep as the baseline), never the kernel's
 * launch-time qdiscs; the kernel's departure stamps of a TCP socket count bytes, not packets.
 */
static int send_check_stream(struct cli *c, struct send_args *a)
{
	struct stream_cfg *o = &a->cfg;

	if (!a->buffered) {
		if (a->codec_set && o->p.ap2_aac) {
			cli_usage_error(c, "--codec aac is for --stream buffered (realtime is ALAC)");
			return -EINVAL;
		}
		o->p.latency_ns = o->p.latency_ns ? o->p.latency_ns : 2 * NSEC_PER_SEC;
		o->p.timeout_ms = o->p.timeout_ms ? o->p.timeout_ms : 5000;
		return 0;
	}
	if (o->profile != &profile_airplay2) {
		cli_usage_error(c, "--stream buffered is for --profile airplay2");
		return -EINVAL;
	}
	if (!strcmp(o->backend, "edt") || !strcmp(o->backend, "etf")) {
		cli_usage_error(c, "--stream buffered sends on TCP: --backend rt (or auto), not %s",
				o->backend);
		return -EINVAL;
	}
	if (o->p.ap2_aac && o->p.alac == ALAC_ESCAPE) {
		cli_usage_error(c, "--alac escape is for --codec alac");
		return -EINVAL;
	}
	o->profile = &profile_airplay2_buffered;
	o->backend = !strcmp(o->backend, "auto") ? "rt" : o->backend;
	o->timestamps = 0;
	o->p.latency_ns = o->p.latency_ns ? o->p.latency_ns : 4 * NSEC_PER_SEC;
	/*
	 * An outage the receiver's buffer rides out must not end the session at the keep-alive:
	 * by default an answer may take the latency + 1 s (at least the usual 5 s).
	 */
	if (!o->p.timeout_ms) {
		int64_t t = o->p.latency_ns / NSEC_PER_MSEC + 1000;

		o->p.timeout_ms = t > 5000 ? t : 5000;
	}
	return 0;
}

/* What the table cannot check: the operands, and options that depend on each other. */
static int send_check(struct cli *c, struct send_args *a, int argc, char **argv)
{
	struct stream_cfg *o = &a->cfg;

	if (o->p.to_name && !a->profile_set && choose_profile(o)) {
		return -EINVAL;
	}
	if (o->p.to_name && o->profile != &profile_raop && o->profile != &profile_airplay2) {
		cli_usage_error(c, "--to NAME is for --profile raop or airplay2");
		return -EINVAL;
	}
	if (argc - optind != (o->p.to_name ? 1 : 2)) {
		cli_usage_error(c, o->p.to_name ? "with --to, only SOURCE" : "needs DEST and SOURCE");
		return -EINVAL;
	}
	o->p.dest_s = o->p.to_name ? NULL : argv[optind];
	o->source = argv[argc - 1];
	if (!strcmp(o->source, "-") && !o->input_format) {
		cli_usage_error(c, "SOURCE '-' needs --input-format, e.g. s16le:48000:2");
		return -EINVAL;
	}
	if (o->stamp && strcmp(o->backend, "edt") && strcmp(o->backend, "auto")) {
		cli_usage_error(c, "--stamp is for --backend edt");
		return -EINVAL;
	}
	if (send_check_stream(c, a)) {
		return -EINVAL;
	}
	if (o->lead_ns >= o->lookahead_ns) {
		cli_usage_error(c, "--lead must be shorter than --lookahead (%.0f ms)",
				(double)o->lookahead_ns / 1e6);
		return -EINVAL;
	}
	return 0;
}

/* @return 0, 1 after --help, -EINVAL after a usage error */
static int send_parse(struct send_args *a, int argc, char **argv)
{
	struct cli c;
	int rc;

	*a = (struct send_args){ 0 };
	stream_cfg_init(&a->cfg);
	/* the defaults of these depend on --stream (send_check_stream) */
	a->cfg.p.latency_ns = 0;
	a->cfg.p.timeout_ms = 0;
	a->pace = (struct pace_opts){ a->cfg.spin_ns, a->cfg.prio, a->cfg.cpu };
	cli_init(&c, "send", cmd_send_synopsis, cmd_send_opts);
	rc = cli_parse(&c, argc, argv, a, send_opt);
	if (rc) {
		return rc;
	}
	a->cfg.p.mediaclk_offset = (uint32_t)a->mediaclk_offset;
	a->cfg.spin_ns = a->pace.spin_ns;
	a->cfg.prio = a->pace.prio;
	a->cfg.cpu = a->pace.cpu;
	return send_check(&c, a, argc, argv);
}

/* The terminal: a status line on stderr, and keys on stdin (space, arrows, q). */
struct send_tty {
	int status;		/* draw the status line */
	int keys;		/* stdin is in raw mode, @tio holds its settings */
	struct termios tio;
};

static void status_line(struct stream *s, int final)
{
	char line[256];

	stream_status_text(s, line, sizeof(line));
	fprintf(stderr, "\r%s\033[K%s", line, final ? "\n" : "");
}

/* Keys on a terminal: space pauses and resumes, arrows seek 10 s, q stops. */
static void keys_on(struct send_tty *t, const struct send_args *a)
{
	struct termios raw;

	if (a->quiet || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO) ||
	    !strcmp(a->cfg.source, "-") || tcgetattr(STDIN_FILENO, &t->tio)) {
		return;
	}
	raw = t->tio;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) {
		t->keys = 1;
		fprintf(stderr, "keys: space pause/resume, left/right seek 10 s, q stop\n");
	}
}

static void keys_off(struct send_tty *t)
{
	if (t->keys) {
		tcsetattr(STDIN_FILENO, TCSANOW, &t->tio);
		t->keys = 0;
	}
}

static void read_keys(void *arg, struct stream *s)
{
	char b[16];
	ssize_t n = read(STDIN_FILENO, b, sizeof(b));

	for (ssize_t i = 0; i < n; i++) {
		if (b[i] == ' ') {
			if (stream_pause(s)) {
				stream_resume(s);	/* (only once the pause is complete) */
			}
		} else if (b[i] == 'q') {
			stream_stop(s);
		} else if (b[i] == '\033' && i + 2 < n && b[i + 1] == '[') {
			if (b[i + 2] == 'C') {
				stream_seek(s, 10 * 1000);
			} else if (b[i + 2] == 'D') {
				stream_seek(s, -10 * 1000);
			}
			i += 2;
		}
	}
}

static void on_tick(void *arg, struct stream *s)
{
	const struct send_tty *t = arg;

	if (t->status) {
		status_line(s, 0);
	}
}

/* Until the last packet has left: the keys, the status line, the profile's duties. */
static void send_run(struct stream *s, const struct send_args *a, struct send_tty *t)
{
	struct stream_hooks h = { .fd = -1, .on_input = read_keys, .on_tick = on_tick, .arg = t };

	keys_on(t, a);
	if (t->keys) {
		h.fd = STDIN_FILENO;
	}
	stream_run(s, &h);
	keys_off(t);
}

static int write_report(struct stream *s, const char *path)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f) {
		pr_err("cannot write report %s: %s", path, strerror(errno));
		return -errno;
	}
	rc = stream_report(s, f);
	if (fclose(f) && !rc) {
		rc = -errno;
	}
	return rc;
}

/* After the run: the errors, the summary, the report. @return the exit code */
static int send_results(struct stream *s, const struct send_args *a)
{
	struct stream_status st;
	char err[256];

	if (stream_finish(s, err, sizeof(err))) {
		pr_err("%s", err);
	}
	stream_status(s, &st);
	if (st.source_error) {
		pr_err("source %s failed: %s", a->cfg.source, strerror(-st.source_error));
	}
	if (!a->quiet) {
		stream_summary(s, stdout);
	}
	stream_log_problems(s);
	if (a->report_path && write_report(s, a->report_path)) {
		return EXIT_FAIL;
	}
	return stream_complete(s) ? EXIT_OK : EXIT_FAIL;
}

/* What the backend asked for takes (auto: what any choice could; checked again once chosen). */
static int send_caps(const struct send_args *a)
{
	const struct stream_cfg *o = &a->cfg;
	struct caps_req r = {
		.cmd = CAPS_SEND, .backend = o->backend, .watch = o->watch, .fifo = o->prio > 0,
		.bpf_stamp = !o->stamp || !strcmp(o->stamp, "bpf"),
		.powersave = o->keep_powersave ? 0 : 2,	/* (Wi-Fi or not: known in set-up) */
		.low_port = o->profile == &profile_airplay2 || o->profile == &profile_airplay2_buffered,
	};

	return cli_caps(&r);
}

int cmd_send(int argc, char **argv)
{
	struct send_tty t = { .status = isatty(STDERR_FILENO) };
	struct send_args a;
	struct stream *s;
	char err[512];
	int rc, ret = EXIT_FAIL;

	rc = send_parse(&a, argc, argv);
	if (rc) {
		return rc > 0 ? EXIT_OK : EXIT_USAGE;
	}
	t.status = t.status && !a.quiet;
	rc = send_caps(&a);
	if (rc) {
		return rc;
	}
	cli_signals();
	a.cfg.stop = &cli_stop;
	s = stream_open(&a.cfg, err, sizeof(err));
	if (!s) {
		pr_err("%s", err);
		return EXIT_FAIL;
	}
	rc = stream_start(s, err, sizeof(err));
	if (rc) {
		pr_err("%s", err);
		goto out;
	}
	send_run(s, &a, &t);
	stream_join(s);
	if (t.status) {
		status_line(s, 1);
	}
	ret = send_results(s, &a);
out:
	stream_close(s);
	return ret;
}
