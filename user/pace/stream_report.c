// SPDX-License-Identifier: GPL-2.0-only
/* The stream's results: whether it is complete, the JSON report, the summary, the problems. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "txpace/memlock.h"
#include "txpace/sysstat.h"
#include "txpace/clock.h"
#include "txpace/json.h"
#include "txpace/kpace.h"
#include "txpace/log.h"
#include "txpace/net.h"
#include "txpace/pacer.h"
#include "txpace/rtp.h"
#include "txpace/source.h"
#include "stream_int.h"

/* edt with BPF stamps: the egress program's stamp is what makes fq hold a packet */
static int bpf_paced(const struct stream *s)
{
	return s->kp && !strcmp(s->cfg.backend, "edt") && s->cfg.stamp &&
	       !strcmp(s->cfg.stamp, "bpf");
}

/*
 * Packets the egress program did not stamp (no slot, beyond the horizon, or never seen: a
 * link it cannot parse): fq let them go at once, up to --lead early. 0 when not bpf-paced.
 */
static uint64_t unstamped(const struct stream *s)
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

int stream_complete(struct stream *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);

	return s->producer_rc == 0 && s->profile_rc == 0 && atomic_load(&st->early) == 0 &&
	       unstamped(s) == 0 &&
	       atomic_load(&st->sent) == atomic_load(&s->built) &&
	       atomic_load(&st->send_errors) == 0 && atomic_load(&st->icmp_errors) == 0 &&
	       atomic_load(&st->txtime_invalid) == 0 && atomic_load(&st->txtime_missed) == 0 &&
	       source_decode_errors(s->src) == 0 &&
	       (!s->cfg.profile->complete || s->cfg.profile->complete(s->prof));
}

/* How late the kernel timer fired after each deadline (1 us buckets). */
static void report_watch_lateness(struct json *j, const struct txp_wstats *w)
{
	uint64_t tot = 0, acc = 0;
	double q[] = { 0.5, 0.99, 0.999 }, v[3] = { 0 }, mx = 0;
	int qi = 0;

	for (int b = 0; b < TXP_LAT_BUCKETS; b++) {
		tot += w->lat[b];
	}
	for (int b = 0; b < TXP_LAT_BUCKETS && tot; b++) {
		acc += w->lat[b];
		while (qi < 3 && (double)acc >= q[qi] * (double)tot) {
			v[qi++] = b;
		}
		if (w->lat[b]) {
			mx = b;
		}
	}
	json_obj(j, "watch_lateness_us");
	json_uint(j, "count", tot);
	json_num(j, "p50", v[0]);
	json_num(j, "p99", v[1]);
	json_num(j, "p999", v[2]);
	json_num(j, "max", mx);
	json_end(j, '}');
}

/* What the kernel saw: the egress program's counters, the watchdog's, the driver hand-offs. */
static void report_kernel(struct json *j, struct stream *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	struct txp_flow f;
	struct txp_wstats w;

	json_obj(j, "kernel");
	json_str(j, "iface", kpace_ifname(s->kp));
	json_str(j, "setup", kpace_describe(s->kp));
	if (kpace_flow(s->kp, &f) == 0) {
		json_uint(j, "stamped", f.stamped);
		json_uint(j, "no_slot", f.no_slot);
		json_uint(j, "clamped", f.clamped);
		json_uint(j, "beyond_horizon", f.beyond_horizon);
	}
	if (kpace_wstats(s->kp, &w) == 0) {
		json_uint(j, "watch_fired", w.fired);
		json_uint(j, "watch_checked", w.checked);
		json_uint(j, "watch_missed", w.missed);
		json_uint(j, "watch_on_time", w.on_time);
		json_uint(j, "xmit_seen", w.xmit_seen);
		json_uint(j, "xmit_recalibrations", kpace_recalibrations(s->kp));
		json_uint(j, "watch_events", kpace_events(s->kp));
		json_uint(j, "watch_events_unstamped", kpace_events_unstamped(s->kp));
		report_watch_lateness(j, &w);
	}
	json_hist(j, "xmit_error_us", &st->dep_xmit);
	json_uint(j, "xmit_reordered", atomic_load(&st->xmit_reordered));
	json_end(j, '}');
}

/* The stream itself: what was sent, to where, from what. */
static void report_stream(struct json *j, struct stream *s)
{
	char dst[80];

	json_str(j, "profile", s->cfg.profile->name);
	json_str(j, "backend", s->cfg.backend);
	json_str(j, "dest", net_fmt(&s->d.dest, dst, sizeof(dst)));
	json_str(j, "source", source_describe(s->src));
	json_str(j, "format", s->d.bits == 16 ? "L16" : "L24");
	json_uint(j, "rate", s->sched.rate);
	json_uint(j, "channels", s->d.channels);
	json_uint(j, "samples_per_packet", s->sched.spp);
	json_num(j, "ptime_us", (double)sched_ptime_ns(&s->sched) / 1e3);
	json_obj(j, "rtp");
	json_uint(j, "pt", (uint64_t)s->cfg.p.pt);
	json_uint(j, "ssrc", s->d.ssrc);
	json_uint(j, "seq0", s->d.seq0);
	json_uint(j, "ts0", s->sched.ts0);
	json_end(j, '}');
}

/* --spin: fixed, or auto with the window's range and where it ended */
static void report_spin(struct json *j, struct stream *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	int64_t spin = pacer_cfg(s->pacer)->spin_ns;

	json_str(j, "spin", spin == PACER_SPIN_AUTO ? "auto" : "fixed");
	if (spin != PACER_SPIN_AUTO) {
		json_num(j, "spin_us", (double)spin / 1e3);
		return;
	}
	json_num(j, "spin_us", (double)atomic_load(&st->spin_window_ns) / 1e3);
	json_num(j, "spin_min_us", (double)atomic_load(&st->spin_window_min_ns) / 1e3);
	json_num(j, "spin_max_us", (double)atomic_load(&st->spin_window_max_ns) / 1e3);
	json_uint(j, "spin_changes", atomic_load(&st->spin_window_changes));
}

/*
 * What the run cost (the pacer thread's and the whole process's CPU, wake-ups, spinning,
 * memory) and what the machine did meanwhile (steal and interrupt time, the pacer's own
 * wake-up lateness): a loud host is told apart from a bad pacer.
 */
static void report_cost(struct json *j, struct stream *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	double secs = (double)(mono_ns() - s->t_start) / 1e9;
	struct sys_stat now, d;
	long rss, lck;

	sys_stat_read(&now);
	sys_stat_delta(&s->stat0, &now, &d);
	if (secs <= 0) {
		secs = 1e-9;
	}
	json_obj(j, "cost");
	json_num(j, "seconds", secs);
	json_num(j, "pacer_cpu_ms", (double)atomic_load(&st->cpu_ns) / 1e6);
	json_num(j, "pacer_cpu_pct", (double)atomic_load(&st->cpu_ns) / 1e7 / secs);
	json_num(j, "process_cpu_ms", (double)d.proc_cpu_ns / 1e6);
	json_num(j, "process_cpu_pct", (double)d.proc_cpu_ns / 1e7 / secs);
	json_num(j, "wakeups_per_s", (double)atomic_load(&st->wakeups) / secs);
	/* every thread's (producer, main loop, TX stamps): each voluntary switch ends in a wake-up */
	json_num(j, "process_wakeups_per_s", (double)d.proc_sleeps / secs);
	json_num(j, "spin_pct", (double)atomic_load(&st->spin_ns) / 1e7 / secs);
	if (mem_usage(&rss, &lck) == 0) {
		json_int(j, "rss_kib", rss);
		json_int(j, "locked_kib", lck);
	}
	json_end(j, '}');
	json_obj(j, "machine");
	json_int(j, "cpus", d.ncpu);
	json_uint(j, "cpu_ms", d.total_ms);
	json_uint(j, "steal_ms", d.steal_ms);
	json_uint(j, "irq_ms", d.irq_ms);
	json_uint(j, "softirq_ms", d.softirq_ms);
	json_hist(j, "wake_late_us", &st->wake_late);
	json_end(j, '}');
}

int stream_report(struct stream *s, FILE *f)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	const char *which;
	const struct hist *h = pacer_departure(s->pacer, &which);
	struct json j;

	json_init(&j, f);
	json_obj(&j, NULL);
	report_stream(&j, s);
	json_uint(&j, "packets", atomic_load(&s->built));
	json_uint(&j, "sent", atomic_load(&st->sent));
	json_uint(&j, "late", atomic_load(&st->late));
	json_num(&j, "late_threshold_us", (double)s->cfg.late_ns / 1e3);
	json_uint(&j, "send_errors", atomic_load(&st->send_errors));
	json_uint(&j, "icmp_errors", atomic_load(&st->icmp_errors));
	json_uint(&j, "refused", atomic_load(&st->refused));
	json_uint(&j, "underruns", atomic_load(&st->underruns));
	json_uint(&j, "burst_limited", atomic_load(&st->burst_limited));
	json_uint(&j, "decode_errors", source_decode_errors(s->src));
	json_bool(&j, "interrupted", s->interrupted);
	json_bool(&j, "complete", stream_complete(s));
	json_obj(&j, "realtime");
	json_bool(&j, "sched_fifo", atomic_load(&st->fifo));
	json_int(&j, "prio", s->cfg.prio);
	json_bool(&j, "mlock", atomic_load(&st->mlocked));
	json_int(&j, "cpu", atomic_load(&st->pinned) ? s->cfg.cpu : -1);
	report_spin(&j, s);
	json_end(&j, '}');
	report_cost(&j, s);
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
	json_num(&j, "lead_ms", (double)s->cfg.lead_ns / 1e6);
	if (s->auto_reason[0]) {
		json_str(&j, "backend_reason", s->auto_reason);
	}
	if (s->kp) {
		report_kernel(&j, s);
	}
	json_num(&j, "duration_s", (double)(mono_ns() - s->t_begin) / 1e9);
	if (s->cfg.profile->report) {
		s->cfg.profile->report(s->prof, &j);
	}
	json_end(&j, '}');
	json_done(&j);
	return ferror(f) ? -EIO : 0;
}

static void summary_kernel(struct stream *s, FILE *out)
{
	struct txp_flow f;
	struct txp_wstats w;

	fprintf(out, "kernel: %s\n", kpace_describe(s->kp));
	if (kpace_flow(s->kp, &f) == 0) {
		fprintf(out, "egress program: stamped %" PRIu64 ", no slot %" PRIu64 ", clamped %"
			PRIu64 ", beyond horizon %" PRIu64 "\n", (uint64_t)f.stamped,
			(uint64_t)f.no_slot, (uint64_t)f.clamped, (uint64_t)f.beyond_horizon);
	}
	if (kpace_wstats(s->kp, &w) == 0) {
		fprintf(out, "watchdog: checked %" PRIu64 " deadlines, missed %" PRIu64 ", on time %"
			PRIu64 ", driver hand-offs seen %" PRIu64 "\n", (uint64_t)w.checked,
			(uint64_t)w.missed, (uint64_t)w.on_time, (uint64_t)w.xmit_seen);
	}
}

void stream_summary(struct stream *s, FILE *out)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	const char *which;
	const struct hist *h = pacer_departure(s->pacer, &which);
	char a[32], b[32], c[32], d[32];

	stream_fmt_us(a, sizeof(a), hist_quantile(h, 0.5));
	stream_fmt_us(b, sizeof(b), hist_quantile(h, 0.99));
	stream_fmt_us(c, sizeof(c), hist_quantile(h, 0.999));
	stream_fmt_us(d, sizeof(d), hist_max(h));
	fprintf(out, "sent %" PRIu64 " of %" PRIu64 " packets (%s, %u samples each, backend %s%s), "
		"late %" PRIu64 " (> %.0f us), send errors %" PRIu64 ", underruns %" PRIu64 "\n",
		atomic_load(&st->sent), atomic_load(&s->built), s->cfg.profile->name, s->sched.spp,
		s->cfg.backend, atomic_load(&st->fifo) ? ", SCHED_FIFO" : "",
		atomic_load(&st->late), (double)s->cfg.late_ns / 1e3, atomic_load(&st->send_errors),
		atomic_load(&st->underruns));
	fprintf(out, "departure error (%s stamp - launch): p50 %s  p99 %s  p99.9 %s  max %s\n",
		which, a, b, c, d);
	if (s->auto_reason[0]) {
		fprintf(out, "backend %s chosen: %s\n", s->cfg.backend, s->auto_reason);
	}
	if (atomic_load(&st->early)) {
		fprintf(out, "left before their launch time: %" PRIu64 " packets\n",
			atomic_load(&st->early));
	}
	if (s->cfg.profile->summary) {
		s->cfg.profile->summary(s->prof, out);
	}
	if (s->kp) {
		summary_kernel(s, out);
	}
}

/* The bounced datagrams carry our RTP header: say which packets the receiver lost. */
static void log_bounces(struct stream *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);
	struct rtp_hdr a = { 0 }, b = { 0 };
	char dst[80];

	rtp_parse(st->first_bounce, sizeof(st->first_bounce), &a);
	rtp_parse(st->last_bounce, sizeof(st->last_bounce), &b);
	pr_err("%s: %" PRIu64 " of %" PRIu64 " packets came back as errors (%s; RTP seq %u..%u)"
	       ", %" PRIu64 " could not be sent",
	       net_fmt(&s->d.dest, dst, sizeof(dst)), atomic_load(&st->icmp_errors),
	       atomic_load(&s->built), strerror(atomic_load(&st->last_error)), a.seq, b.seq,
	       atomic_load(&st->send_errors));
}

void stream_log_problems(struct stream *s)
{
	struct pacer_stats *st = pacer_stats(s->pacer);

	/* when the receiver is gone, the bounced packets are a consequence: one line is enough */
	if (!s->profile_rc && (atomic_load(&st->send_errors) > atomic_load(&st->dropped) ||
			       atomic_load(&st->icmp_errors))) {
		log_bounces(s);
	}
	if (atomic_load(&st->dropped)) {
		pr_err("%" PRIu64 " packets dropped by the qdisc before leaving (%s; RTP seq %u..%u)",
		       atomic_load(&st->dropped), !strcmp(s->cfg.backend, "etf") ?
		       "etf refused them: already late or out of order when queued" :
		       "beyond fq's horizon or over its flow limit",
		       atomic_load(&st->first_drop_seq) & 0xffff,
		       atomic_load(&st->last_drop_seq) & 0xffff);
	}
	if (atomic_load(&st->early)) {
		pr_err("%" PRIu64 " packets left before their launch time", atomic_load(&st->early));
	}
	if (unstamped(s)) {
		struct txp_flow f = { 0 };

		kpace_flow(s->kp, &f);
		pr_err("%" PRIu64 " of %" PRIu64 " packets left unpaced: the egress program stamped %"
		       PRIu64 " (no slot %" PRIu64 ", beyond the horizon %" PRIu64 ")", unstamped(s),
		       atomic_load(&st->sent), (uint64_t)f.stamped, (uint64_t)f.no_slot,
		       (uint64_t)f.beyond_horizon);
	}
	if (atomic_load(&st->txtime_invalid) || atomic_load(&st->txtime_missed)) {
		pr_err("etf dropped %" PRIu64 " packets: %" PRIu64 " already late or invalid when "
		       "queued, %" PRIu64 " missed their launch time", atomic_load(&st->txtime_invalid) +
		       atomic_load(&st->txtime_missed), atomic_load(&st->txtime_invalid),
		       atomic_load(&st->txtime_missed));
	}
	if (source_decode_errors(s->src)) {
		pr_err("%" PRIu64 " undecodable packets in %s: their samples are missing",
		       source_decode_errors(s->src), s->cfg.source);
	}
}
